// `mailroom dns` and `domain add` through the built CLI, and `--check` against a DNS
// answers file (smtp.dns_file) with some records right, some wrong and some missing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDirs } from '../harness/server.js';

describe('mailroom dns', () => {
  const { dir, dataDir } = tempDirs();
  const answersFile = join(dir, 'dns.json');
  const env = {
    MAILROOM_HOSTNAME: 'mail.example.test',
    MAILROOM_SMTP: '0.0.0.0:25',
    MAILROOM_IMAPS: '0.0.0.0:993',
    MAILROOM_IMAP: '0.0.0.0:143',
    MAILROOM_POP3S: '0.0.0.0:995',
    MAILROOM_POP3: 'off',
    MAILROOM_SUBMISSIONS: '0.0.0.0:465',
    MAILROOM_SUBMISSION: '0.0.0.0:587',
    MAILROOM_SMTP_DNS_FILE: answersFile,
  };
  const cli = (...args: string[]) => runCli(args, { dataDir, env });
  let zone = '';

  before(async () => {
    const added = await cli('domain', 'add', 'example.test');
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^added domain example.test$/m);
    assert.match(added.stdout, /a DKIM key was made for example.test/);
    zone = added.stdout;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The zone line starting with `owner type`. */
  const line = (text: string, owner: string, type: string) => {
    const found = text.split('\n').find((l) => l.startsWith(`${owner}. 3600 IN ${type} `));
    assert.ok(found, `no ${owner} ${type} line in:\n${text}`);
    return found.slice(`${owner}. 3600 IN ${type} `.length);
  };

  it('prints every record, ready to paste; domain add printed the same (with the key it made)', async () => {
    const r = await cli('dns', 'example.test');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /a DKIM key was made/, 'the key exists now; the same key is printed');
    const records = (text: string) => text.split('\n').filter((l) => l && !l.startsWith(';') && !l.startsWith('added ') && !l.startsWith('Check '));
    assert.deepEqual(records(r.stdout), records(zone));
    const table: [string, string, RegExp][] = [
      ['example.test', 'MX', /^10 mail\.example\.test\.$/],
      ['example.test', 'TXT', /^"v=spf1 mx -all"$/],
      ['mailroom._domainkey.example.test', 'TXT', /^\( "v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{200,255}" "[A-Za-z0-9+/=]+" \)$/],
      ['_dmarc.example.test', 'TXT', /^"v=DMARC1; p=quarantine; rua=mailto:postmaster@example\.test"$/],
      ['_mta-sts.example.test', 'TXT', /^"v=STSv1; id=[0-9a-f]{20}"$/],
      ['_smtp._tls.example.test', 'TXT', /^"v=TLSRPTv1; rua=mailto:postmaster@example\.test"$/],
      ['_imaps._tcp.example.test', 'SRV', /^0 1 993 mail\.example\.test\.$/],
      ['_imap._tcp.example.test', 'SRV', /^10 1 143 mail\.example\.test\.$/],
      ['_pop3s._tcp.example.test', 'SRV', /^0 1 995 mail\.example\.test\.$/],
      ['_pop3._tcp.example.test', 'SRV', /^0 0 0 \.$/],
      ['_submissions._tcp.example.test', 'SRV', /^0 1 465 mail\.example\.test\.$/],
      ['_submission._tcp.example.test', 'SRV', /^10 1 587 mail\.example\.test\.$/],
      ['_autodiscover._tcp.example.test', 'SRV', /^0 1 443 mail\.example\.test\.$/],
      ['autoconfig.example.test', 'CNAME', /^mail\.example\.test\.$/],
      ['autodiscover.example.test', 'CNAME', /^mail\.example\.test\.$/],
      ['mta-sts.example.test', 'CNAME', /^mail\.example\.test\.$/],
    ];
    for (const [owner, type, value] of table) assert.match(line(r.stdout, owner, type), value, `${owner} ${type}`);
    assert.doesNotMatch(r.stdout, /warning/, 'a complete public configuration has nothing to warn about');
  });

  it('a domain not hosted here is refused in one line', async () => {
    const r = await cli('dns', 'elsewhere.test');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: unknown domain elsewhere.test: add it first/);
  });

  /** DNS answers (node:dns shapes) as the published zone would give them, with `edit` applied. */
  const answers = async (edit: (a: Record<string, Record<string, unknown>>) => void) => {
    const text = (await cli('dns', 'example.test')).stdout;
    const txt = (owner: string) => [(line(text, owner, 'TXT').match(/"((?:[^"\\]|\\.)*)"/g) ?? []).map((s) => s.slice(1, -1))];
    const srv = (owner: string) => {
      const [priority, weight, port, target] = line(text, owner, 'SRV').split(' ');
      return [{ priority: Number(priority), weight: Number(weight), port: Number(port), name: target.replace(/\.$/, '') }];
    };
    const a: Record<string, Record<string, unknown>> = {
      'mail.example.test': { A: ['192.0.2.10'] },
      'example.test': { MX: [{ exchange: 'mail.example.test', priority: 10 }], TXT: [['v=spf1 mx -all'], ['google-site-verification=abc']] },
      'mailroom._domainkey.example.test': { TXT: txt('mailroom._domainkey.example.test') },
      '_dmarc.example.test': { TXT: txt('_dmarc.example.test') },
      '_mta-sts.example.test': { TXT: txt('_mta-sts.example.test') },
      '_smtp._tls.example.test': { TXT: txt('_smtp._tls.example.test') },
      'autoconfig.example.test': { CNAME: ['mail.example.test'] },
      'autodiscover.example.test': { CNAME: ['mail.example.test'] },
      'mta-sts.example.test': { CNAME: ['mail.example.test'] },
    };
    for (const s of ['_imaps', '_imap', '_pop3s', '_submissions', '_submission', '_autodiscover']) a[`${s}._tcp.example.test`] = { SRV: srv(`${s}._tcp.example.test`) };
    edit(a);
    writeFileSync(answersFile, JSON.stringify(a));
  };

  it('--check: everything published → exit 0', async () => {
    await answers(() => undefined);
    const r = await cli('dns', 'example.test', '--check');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /all 17 records are in place/);
    assert.doesNotMatch(r.stdout, /MISSING|WRONG/);
  });

  it('--check: lists what is missing or wrong, with what was found and what to publish, and exits 1', async () => {
    await answers((a) => {
      a['example.test'].MX = [{ exchange: 'old-mx.example.net', priority: 10 }];
      a['example.test'].TXT = [['v=spf1 include:_spf.example.net -all']];
      a['mailroom._domainkey.example.test'].TXT = [['v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnotthekey']];
      delete a['_dmarc.example.test'];
      a['_mta-sts.example.test'].TXT = [['v=STSv1; id=20200101']];
      a['_imaps._tcp.example.test'].SRV = [{ priority: 0, weight: 1, port: 1993, name: 'mail.example.test' }];
      a['_pop3._tcp.example.test'] = { SRV: [{ priority: 10, weight: 1, port: 110, name: 'mail.example.test' }] };
      delete a['autodiscover.example.test'];
      a['autoconfig.example.test'] = { A: ['192.0.2.10'] }; // an address record equal to the server's is fine too
      a['mta-sts.example.test'] = { CNAME: ['somewhere.example.net'] };
      a['_smtp._tls.example.test'].TXT = [['v=TLSRPTv1; rua=mailto:a@example.test'], ['v=TLSRPTv1; rua=mailto:b@example.test']];
    });
    const r = await cli('dns', 'example.test', '--check');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^error: 10 of 17 records are missing or wrong$/m);
    const status = new Map(r.stdout.split('\n').filter((l) => /^(ok|MISSING|WRONG)\s/.test(l)).map((l) => {
      const [s, name, type] = l.replace(/:.*$/, '').split(/\s+/);
      return [`${name} ${type}`, s];
    }));
    assert.deepEqual(Object.fromEntries(status), {
      'mail.example.test A': 'ok',
      'example.test MX': 'WRONG',
      'example.test TXT': 'WRONG',
      'mailroom._domainkey.example.test TXT': 'WRONG',
      '_dmarc.example.test TXT': 'MISSING',
      '_mta-sts.example.test TXT': 'WRONG',
      '_smtp._tls.example.test TXT': 'WRONG',
      '_imaps._tcp.example.test SRV': 'WRONG',
      '_imap._tcp.example.test SRV': 'ok',
      '_pop3s._tcp.example.test SRV': 'ok',
      '_pop3._tcp.example.test SRV': 'WRONG',
      '_submissions._tcp.example.test SRV': 'ok',
      '_submission._tcp.example.test SRV': 'ok',
      '_autodiscover._tcp.example.test SRV': 'ok',
      'autoconfig.example.test CNAME': 'ok',
      'autodiscover.example.test CNAME': 'MISSING',
      'mta-sts.example.test CNAME': 'WRONG',
    });
    assert.match(r.stdout, /WRONG\s+example\.test MX: found MX 10 old-mx\.example\.net\n\s+publish: example\.test\. 3600 IN MX 10 mail\.example\.test\./);
    assert.match(r.stdout, /WRONG\s+_imaps\._tcp\.example\.test SRV: found SRV 0 1 1993 mail\.example\.test\n\s+publish: _imaps\._tcp\.example\.test\. 3600 IN SRV 0 1 993 mail\.example\.test\./);
    assert.match(r.stdout, /_mta-sts\.example\.test TXT: the policy changed: publish id=[0-9a-f]{20} so senders fetch it again \(found "v=STSv1; id=20200101"\)/);
    assert.match(r.stdout, /example\.test TXT: does not authorise the MX \(add "mx"\) \(found "v=spf1 include:_spf\.example\.net -all"\)/);
    assert.match(r.stdout, /mta-sts\.example\.test CNAME: found CNAME somewhere\.example\.net/);
    assert.match(r.stdout, /_smtp\._tls\.example\.test TXT: 2 tls-rpt records; there must be one/);
  });
});
