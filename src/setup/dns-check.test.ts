// What --check calls ok, missing or wrong, record kind by record kind (a fake resolver in node:dns shapes).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkRecords } from './dns-check.js';
import type { DnsRecord, Expected } from './dns-records.js';
import type { DnsResolver } from '../net/dns-resolver.js';

const resolver = (table: Record<string, unknown>): DnsResolver => async (name, type) => {
  const answer = table[`${name} ${type}`];
  if (answer instanceof Error) throw answer;
  if (answer === undefined) throw Object.assign(new Error('ENODATA'), { code: 'ENODATA' });
  return answer;
};
const check = async (name: string, expected: Expected, table: Record<string, unknown>) => {
  const [r] = await checkRecords([{ name, expected, purpose: '' } satisfies DnsRecord], resolver(table));
  return r.detail ? `${r.status}: ${r.detail}` : r.status;
};

const spf: Expected = { type: 'TXT', kind: 'spf', text: 'v=spf1 mx -all' };
const dkim: Expected = { type: 'TXT', kind: 'dkim', text: 'v=DKIM1; k=rsa; p=KEYKEY' };
const sts: Expected = { type: 'TXT', kind: 'mta-sts', text: 'v=STSv1; id=abc123' };
const dmarc: Expected = { type: 'TXT', kind: 'dmarc', text: 'v=DMARC1; p=quarantine' };
const srv: Expected = { type: 'SRV', priority: 0, weight: 1, port: 993, target: 'mail.example.org' };
const off: Expected = { type: 'SRV', priority: 0, weight: 0, port: 0, target: '.' };
const cname: Expected = { type: 'CNAME', target: 'mail.example.org' };
const mx: Expected = { type: 'MX', priority: 10, exchange: 'mail.example.org' };

describe('checkRecords', () => {
  const cases: [string, string, Expected, Record<string, unknown>, RegExp][] = [
    ['SPF as suggested', 'example.org', spf, { 'example.org TXT': [['v=spf1 mx -all']] }, /^ok$/],
    ['SPF naming more senders', 'example.org', spf, { 'example.org TXT': [['v=spf1 mx include:_spf.example.net ~all'], ['other=1']] }, /^ok$/],
    ['SPF split into strings', 'example.org', spf, { 'example.org TXT': [['v=spf1 ', 'mx -all']] }, /^ok$/],
    ['SPF without mx', 'example.org', spf, { 'example.org TXT': [['v=spf1 a -all']] }, /^wrong: does not authorise the MX/],
    ['two SPF records', 'example.org', spf, { 'example.org TXT': [['v=spf1 mx -all'], ['v=spf1 -all']] }, /^wrong: 2 spf records/],
    ['only other TXT', 'example.org', spf, { 'example.org TXT': [['hello']] }, /^missing$/],
    ['a failing lookup', 'example.org', spf, { 'example.org TXT': Object.assign(new Error('x'), { code: 'ESERVFAIL' }) }, /^wrong: lookup of example.org TXT failed \(ESERVFAIL\)/],
    ['DKIM with spaces in p=', 's._domainkey.example.org', dkim, { 's._domainkey.example.org TXT': [['v=DKIM1; k=rsa; p=KEY KEY']] }, /^ok$/],
    ['DKIM, other key', 's._domainkey.example.org', dkim, { 's._domainkey.example.org TXT': [['v=DKIM1; p=OTHER']] }, /^wrong: another public key/],
    ['MTA-STS old id', '_mta-sts.example.org', sts, { '_mta-sts.example.org TXT': [['v=STSv1; id=old']] }, /^wrong: the policy changed: publish id=abc123/],
    ['DMARC stricter than suggested', '_dmarc.example.org', dmarc, { '_dmarc.example.org TXT': [['v=DMARC1; p=reject']] }, /^ok$/],
    ['DMARC without p=', '_dmarc.example.org', dmarc, { '_dmarc.example.org TXT': [['v=DMARC1; rua=mailto:x@example.org']] }, /^wrong: no p= policy/],
    ['MX among others', 'example.org', mx, { 'example.org MX': [{ exchange: 'backup.example.net', priority: 20 }, { exchange: 'MAIL.example.org.', priority: 10 }] }, /^ok$/],
    ['MX elsewhere', 'example.org', mx, { 'example.org MX': [{ exchange: 'mx.example.net', priority: 10 }] }, /^wrong: found MX 10 mx.example.net/],
    ['SRV right', '_imaps._tcp.example.org', srv, { '_imaps._tcp.example.org SRV': [{ name: 'mail.example.org', port: 993, priority: 0, weight: 1 }] }, /^ok$/],
    ['SRV other port', '_imaps._tcp.example.org', srv, { '_imaps._tcp.example.org SRV': [{ name: 'mail.example.org', port: 1993, priority: 0, weight: 1 }] }, /^wrong: found SRV 0 1 1993 mail.example.org/],
    ['SRV missing', '_imaps._tcp.example.org', srv, {}, /^missing$/],
    ['service off, not published', '_pop3._tcp.example.org', off, {}, /^ok$/],
    ['service off, published as "."', '_pop3._tcp.example.org', off, { '_pop3._tcp.example.org SRV': [{ name: '', port: 0, priority: 0, weight: 0 }] }, /^ok$/],
    ['service off but advertised', '_pop3._tcp.example.org', off, { '_pop3._tcp.example.org SRV': [{ name: 'mail.example.org', port: 110, priority: 0, weight: 1 }] }, /^wrong: found SRV/],
    ['CNAME right', 'autoconfig.example.org', cname, { 'autoconfig.example.org CNAME': ['mail.example.org'] }, /^ok$/],
    ['A equal to the server', 'autoconfig.example.org', cname, { 'autoconfig.example.org A': ['192.0.2.1'], 'mail.example.org A': ['192.0.2.1', '192.0.2.2'] }, /^ok$/],
    ['A elsewhere', 'autoconfig.example.org', cname, { 'autoconfig.example.org A': ['198.51.100.7'], 'mail.example.org A': ['192.0.2.1'] }, /^wrong: found A 198.51.100.7/],
    ['nothing', 'autoconfig.example.org', cname, {}, /^missing$/],
    ['A record of the host', 'mail.example.org', { type: 'A' }, { 'mail.example.org AAAA': ['2001:db8::1'] }, /^ok$/],
  ];
  for (const [name, owner, expected, table, want] of cases) it(name, async () => assert.match(await check(owner, expected, table), want));
});
