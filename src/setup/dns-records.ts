/**
 * Every DNS record a hosted domain needs, as data: MX, SPF, DKIM, DMARC, MTA-STS and
 * TLS-RPT, the SRV records of RFC 6186 (implicit TLS preferred by priority, RFC 8314
 * 5.1; target "." for a service that is off), and the names mail apps and senders ask
 * (autoconfig, autodiscover, mta-sts) as CNAMEs to this server. `zoneLine` writes one
 * ready to paste; dns-check.ts compares them with what DNS answers.
 */
import type { Config, ListenerName } from '../config/schema.js';
import type { DkimRecord } from '../mail/dkim.js';
import type { MtaStsPolicy } from './mta-sts.js';

export type TxtKind = 'spf' | 'dkim' | 'dmarc' | 'mta-sts' | 'tls-rpt';

export type Expected =
  | { type: 'A' }
  | { type: 'MX'; priority: number; exchange: string }
  | { type: 'TXT'; kind: TxtKind; text: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'CNAME'; target: string };

export interface DnsRecord {
  /** Owner name, fully qualified, without the trailing dot. */
  name: string;
  expected: Expected;
  /** Why it is there, a few words. */
  purpose: string;
}

export interface RecordInput {
  domain: string;
  config: Config;
  dkim: DkimRecord[];
  mtaSts: MtaStsPolicy;
}

/** The HTTPS port Outlook's Autodiscover uses (served through a TLS proxy in front of the HTTP listener). */
export const AUTODISCOVER_PORT = 443;

const SRV: readonly { service: string; listener: ListenerName; priority: number }[] = [
  { service: '_imaps._tcp', listener: 'imaps', priority: 0 },
  { service: '_imap._tcp', listener: 'imap', priority: 10 },
  { service: '_pop3s._tcp', listener: 'pop3s', priority: 0 },
  { service: '_pop3._tcp', listener: 'pop3', priority: 10 },
  { service: '_submissions._tcp', listener: 'submissions', priority: 0 },
  { service: '_submission._tcp', listener: 'submission', priority: 10 },
];

export function dnsRecords({ domain, config, dkim, mtaSts }: RecordInput): DnsRecord[] {
  const host = config.hostname.toLowerCase().replace(/\.$/, '');
  const records: DnsRecord[] = [
    { name: host, expected: { type: 'A' }, purpose: "this server's address (A and/or AAAA)" },
    { name: domain, expected: { type: 'MX', priority: 10, exchange: host }, purpose: 'mail for the domain comes here' },
    { name: domain, expected: { type: 'TXT', kind: 'spf', text: 'v=spf1 mx -all' }, purpose: 'SPF: only the MX sends mail for the domain' },
    ...dkim.map((d): DnsRecord => ({ name: d.name, expected: { type: 'TXT', kind: 'dkim', text: d.value }, purpose: 'DKIM public key' })),
    { name: `_dmarc.${domain}`, expected: { type: 'TXT', kind: 'dmarc', text: `v=DMARC1; p=quarantine; rua=mailto:postmaster@${domain}` }, purpose: 'DMARC policy and reports' },
    { name: `_mta-sts.${domain}`, expected: { type: 'TXT', kind: 'mta-sts', text: `v=STSv1; id=${mtaSts.id}` }, purpose: `MTA-STS (${mtaSts.mode}); the policy is served at https://mta-sts.${domain}/.well-known/mta-sts.txt` },
    { name: `_smtp._tls.${domain}`, expected: { type: 'TXT', kind: 'tls-rpt', text: `v=TLSRPTv1; rua=mailto:postmaster@${domain}` }, purpose: 'TLS-RPT: where senders report TLS failures' },
  ];
  for (const { service, listener, priority } of SRV) {
    const address = config.listen[listener];
    const expected: Expected = address === 'off' ? { type: 'SRV', priority: 0, weight: 0, port: 0, target: '.' } : { type: 'SRV', priority, weight: 1, port: address.port, target: host };
    records.push({ name: `${service}.${domain}`, expected, purpose: address === 'off' ? `${listener} is off: "." says not offered (RFC 6186)` : `mail apps find ${listener} (RFC 6186/8314)` });
  }
  records.push(
    { name: `_autodiscover._tcp.${domain}`, expected: { type: 'SRV', priority: 0, weight: 1, port: AUTODISCOVER_PORT, target: host }, purpose: 'Outlook Autodiscover (HTTPS)' },
    { name: `autoconfig.${domain}`, expected: { type: 'CNAME', target: host }, purpose: 'Thunderbird autoconfig' },
    { name: `autodiscover.${domain}`, expected: { type: 'CNAME', target: host }, purpose: 'Outlook Autodiscover' },
    { name: `mta-sts.${domain}`, expected: { type: 'CNAME', target: host }, purpose: 'serves the MTA-STS policy (HTTPS)' },
  );
  return records;
}

/** The record as a zone-file line; the A record, whose address only the administrator knows, as a comment. */
export function zoneLine(r: DnsRecord): string {
  const owner = `${r.name}.`;
  const e = r.expected;
  switch (e.type) {
    case 'A':
      return `; ${owner} 3600 IN A <this server's public IPv4 address> (and AAAA for IPv6)`;
    case 'MX':
      return `${owner} 3600 IN MX ${e.priority} ${e.exchange}.`;
    case 'TXT': {
      // RFC 1035 3.3.14: one TXT string holds at most 255 characters; longer values are split.
      const chunks = (e.text.match(/.{1,255}/g) ?? [e.text]).map((c) => `"${c.replace(/["\\]/g, '\\$&')}"`);
      return `${owner} 3600 IN TXT ${chunks.length > 1 ? `( ${chunks.join(' ')} )` : chunks[0]}`;
    }
    case 'SRV':
      return `${owner} 3600 IN SRV ${e.priority} ${e.weight} ${e.port} ${e.target === '.' ? '.' : `${e.target}.`}`;
    case 'CNAME':
      return `${owner} 3600 IN CNAME ${e.target}.`;
  }
}

/** Things in the configuration that make the records useless as they stand. */
export function setupWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (!config.hostname.includes('.')) warnings.push(`hostname "${config.hostname}" is not a fully qualified name: set hostname (MAILROOM_HOSTNAME) to this server's public name`);
  for (const name of ['smtp', 'imaps', 'imap', 'pop3s', 'pop3', 'submissions', 'submission'] as const) {
    const a = config.listen[name];
    if (a !== 'off' && (a.host === '127.0.0.1' || a.host === '::1' || a.host === 'localhost')) warnings.push(`listen.${name} is on ${a.host} only: other machines cannot reach it (e.g. MAILROOM_${name.toUpperCase()}=0.0.0.0:${a.port})`);
  }
  if (config.queue.smarthost) warnings.push(`outgoing mail leaves through the smarthost ${config.queue.smarthost}: add its SPF mechanism (its provider says which) to the SPF record`);
  return warnings;
}
