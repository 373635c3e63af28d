// Client autoconfiguration over real HTTP against a started server, every document read
// back with an independent parser (fast-xml-parser for XML, python3 plistlib for plists,
// openssl for the CMS signature), and the advertised settings used by a real client.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import fc from 'fast-check';
import net from 'node:net';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { makeChain, parsePlist, request, startSetupWorld, type SetupWorld } from './helpers.js';

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => ['incomingServer', 'outgoingServer', 'Protocol'].includes(name) });
type Node = Record<string, unknown>;
const autodiscoverRequest = (email: string, schema = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a') =>
  `<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${email}</EMailAddress><AcceptableResponseSchema>${schema}</AcceptableResponseSchema></Request></Autodiscover>`;

describe('client autoconfiguration (self-signed certificate)', () => {
  let w: SetupWorld;
  before(async () => {
    w = await startSetupWorld({ MAILROOM_POP3S: 'off' }); // one POP3 listener off: it must not be advertised
  });
  after(async () => {
    await w.server.stop();
    rmSync(w.dir, { recursive: true, force: true });
  });

  it('Thunderbird: both paths give the fields Thunderbird reads, IMAP and POP3 and submission, implicit TLS first', async () => {
    const answers = [
      await request(w.http, '/mail/config-v1.1.xml?emailaddress=alice%40example.test', { host: 'autoconfig.example.test' }),
      await request(w.http, '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.test', { host: 'example.test' }),
      await request(w.http, '/mail/config-v1.1.xml', { host: 'autoconfig.example.test' }), // older Thunderbirds send no address
      await request(w.http, '/.well-known/autoconfig/mail/config-v1.1.xml', { host: 'example.test' }),
    ];
    const p = w.server.ports;
    for (const a of answers) {
      assert.equal(a.status, 200, a.text);
      assert.match(String(a.headers['content-type']), /^application\/xml/);
      const doc = xml.parse(a.text) as { clientConfig: Node & { emailProvider: Node } };
      assert.equal(doc.clientConfig['@version'], '1.1');
      const provider = doc.clientConfig.emailProvider;
      assert.equal(provider['@id'], 'example.test');
      assert.equal(provider.domain, 'example.test');
      assert.ok(provider.displayName);
      const servers = (list: unknown) => (list as Node[]).map((s) => [s['@type'], s.hostname, Number(s.port), s.socketType, s.authentication, s.username]);
      assert.deepEqual(servers(provider.incomingServer), [
        ['imap', 'mail.example.test', p.imaps, 'SSL', 'password-cleartext', '%EMAILADDRESS%'],
        ['imap', 'mail.example.test', p.imap, 'STARTTLS', 'password-cleartext', '%EMAILADDRESS%'],
        ['pop3', 'mail.example.test', p.pop3, 'STARTTLS', 'password-cleartext', '%EMAILADDRESS%'],
      ]);
      assert.deepEqual(servers(provider.outgoingServer), [
        ['smtp', 'mail.example.test', p.submissions, 'SSL', 'password-cleartext', '%EMAILADDRESS%'],
        ['smtp', 'mail.example.test', p.submission, 'STARTTLS', 'password-cleartext', '%EMAILADDRESS%'],
      ]);
      assert.equal(((provider.incomingServer as Node[])[2].pop3 as Node).leaveMessagesOnServer, 'true');
    }
  });

  it('Thunderbird: 404 for a domain not hosted here, 400 for a bad address, 405 for POST', async () => {
    assert.equal((await request(w.http, '/mail/config-v1.1.xml?emailaddress=bob%40elsewhere.test')).status, 404);
    assert.equal((await request(w.http, '/mail/config-v1.1.xml', { host: 'autoconfig.elsewhere.test' })).status, 404);
    assert.equal((await request(w.http, '/mail/config-v1.1.xml', { host: '127.0.0.1' })).status, 404);
    assert.equal((await request(w.http, '/mail/config-v1.1.xml?emailaddress=not-an-address')).status, 400);
    assert.equal((await request(w.http, '/mail/config-v1.1.xml?emailaddress=a%40example.test', { method: 'POST' })).status, 405);
  });

  it('the advertised IMAP settings log a real client in (imapflow)', async () => {
    const a = await request(w.http, '/mail/config-v1.1.xml?emailaddress=alice%40example.test');
    const first = ((xml.parse(a.text) as { clientConfig: { emailProvider: Node } }).clientConfig.emailProvider.incomingServer as Node[])[0];
    const client = new ImapFlow({ host: '127.0.0.1', port: Number(first.port), secure: first.socketType === 'SSL', auth: { user: String(first.username).replace('%EMAILADDRESS%', 'alice@example.test'), pass: 'secret' }, tls: { rejectUnauthorized: false }, logger: false });
    await client.connect();
    const box = await client.mailboxOpen('INBOX');
    assert.equal(box.path, 'INBOX');
    await client.logout();
  });

  it('Autodiscover POX: one Protocol per endpoint with Type, Server, Port, SSL/Encryption and LoginName', async () => {
    for (const path of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']) {
      const a = await request(w.http, path, { method: 'POST', body: autodiscoverRequest('alice@example.test'), headers: { 'Content-Type': 'text/xml' } });
      assert.equal(a.status, 200, a.text);
      assert.match(String(a.headers['content-type']), /^text\/xml; charset=utf-8/);
      const doc = xml.parse(a.text) as { Autodiscover: Node & { Response: Node & { Account: Node } } };
      assert.equal(doc.Autodiscover['@xmlns'], 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006');
      assert.equal(doc.Autodiscover.Response['@xmlns'], 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a');
      const account = doc.Autodiscover.Response.Account;
      assert.equal(account.AccountType, 'email');
      assert.equal(account.Action, 'settings');
      const p = w.server.ports;
      assert.deepEqual(
        (account.Protocol as Node[]).map((x) => [x.Type, x.Server, Number(x.Port), x.SSL, x.Encryption, x.LoginName, x.AuthRequired]),
        [
          ['IMAP', 'mail.example.test', p.imaps, 'on', 'SSL', 'alice@example.test', 'on'],
          ['IMAP', 'mail.example.test', p.imap, 'on', 'TLS', 'alice@example.test', 'on'],
          ['POP3', 'mail.example.test', p.pop3, 'on', 'TLS', 'alice@example.test', 'on'],
          ['SMTP', 'mail.example.test', p.submissions, 'on', 'SSL', 'alice@example.test', 'on'],
          ['SMTP', 'mail.example.test', p.submission, 'on', 'TLS', 'alice@example.test', 'on'],
        ],
      );
    }
  });

  it('the Autodiscover POP3 (STARTTLS) and SMTP (implicit TLS) settings work with real clients (python poplib, nodemailer)', async () => {
    const a = await request(w.http, '/autodiscover/autodiscover.xml', { method: 'POST', body: autodiscoverRequest('alice@example.test') });
    const protocols = ((xml.parse(a.text) as { Autodiscover: { Response: { Account: Node } } }).Autodiscover.Response.Account.Protocol as Node[]);
    const pop3 = protocols.find((x) => x.Type === 'POP3')!;
    assert.equal(pop3.Encryption, 'TLS');
    const script = 'import poplib,ssl,sys\nc=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE\np=poplib.POP3("127.0.0.1", int(sys.argv[1])); p.stls(context=c); p.user(sys.argv[2]); p.pass_(sys.argv[3]); print(p.stat()[0]); p.quit()';
    assert.equal(execFileSync('python3', ['-c', script, String(pop3.Port), String(pop3.LoginName), 'secret'], { encoding: 'utf8' }).trim(), '0');
    const smtp = protocols.find((x) => x.Type === 'SMTP')!;
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: Number(smtp.Port), secure: smtp.Encryption === 'SSL', auth: { user: String(smtp.LoginName), pass: 'secret' }, tls: { rejectUnauthorized: false } });
    assert.equal(await transport.verify(), true);
    transport.close();
  });

  const badRequests: [string, string, number, string][] = [
    ['not XML', 'hello', 400, '600'],
    ['unclosed element', '<Autodiscover><Request><EMailAddress>a@example.test</EMailAddress></Request>', 400, '600'],
    ['no Request', '<Autodiscover xmlns="x"/>', 400, '600'],
    ['no EMailAddress', '<Autodiscover><Request><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>', 400, '600'],
    ['not an address', autodiscoverRequest('nobody'), 400, '600'],
    ['ActiveSync schema', autodiscoverRequest('alice@example.test', 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006'), 400, '601'],
    ['domain not hosted', autodiscoverRequest('bob@elsewhere.test'), 404, '500'],
  ];
  for (const [name, body, status, code] of badRequests) it(`Autodiscover POX: ${name} → ${status} with an Error body (${code})`, async () => {
    const a = await request(w.http, '/autodiscover/autodiscover.xml', { method: 'POST', body });
    assert.equal(a.status, status, a.text);
    const doc = xml.parse(a.text) as { Autodiscover: { Response: { Error: Node } } };
    assert.equal(doc.Autodiscover.Response.Error.ErrorCode, code);
    assert.ok(doc.Autodiscover.Response.Error.Message);
  });

  it('Autodiscover POX: GET is 405 naming POST; a body over 64 KiB is 413', async () => {
    const a = await request(w.http, '/autodiscover/autodiscover.xml');
    assert.equal(a.status, 405);
    assert.equal(a.headers.allow, 'POST');
    assert.equal((await request(w.http, '/autodiscover/autodiscover.xml', { method: 'POST', body: 'x'.repeat(70_000) })).status, 413);
  });

  it('Autodiscover JSON v1.0: AutodiscoverV1 points at the XML endpoint; other protocols and unknown domains are errors', async () => {
    for (const path of ['/autodiscover/autodiscover.json/v1.0/alice@example.test?Protocol=AutodiscoverV1', '/autodiscover/autodiscover.json?Email=alice%40example.test&Protocol=AutodiscoverV1&RedirectCount=1']) {
      const a = await request(w.http, path, { host: 'autodiscover.example.test' });
      assert.equal(a.status, 200, a.text);
      assert.match(String(a.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(a.text), { Protocol: 'AutodiscoverV1', Url: 'https://autodiscover.example.test/autodiscover/autodiscover.xml' });
    }
    const activeSync = await request(w.http, '/autodiscover/autodiscover.json/v1.0/alice@example.test?Protocol=ActiveSync');
    assert.equal(activeSync.status, 400);
    assert.equal((JSON.parse(activeSync.text) as Node).ErrorCode, 'InvalidProtocol');
    const noAddress = await request(w.http, '/autodiscover/autodiscover.json?Protocol=AutodiscoverV1');
    assert.equal(noAddress.status, 400);
    assert.equal((JSON.parse(noAddress.text) as Node).ErrorCode, 'InvalidRequest');
    const elsewhere = await request(w.http, '/autodiscover/autodiscover.json/v1.0/bob@elsewhere.test?Protocol=AutodiscoverV1');
    assert.equal(elsewhere.status, 404);
    assert.equal((JSON.parse(elsewhere.text) as Node).ErrorCode, 'MailboxNotFound');
  });

  it('Apple profile: unsigned with a self-signed certificate; IMAP or POP3 by parameter; identifiers stable per user', async () => {
    const get = async (q: string) => {
      const a = await request(w.http, `/mobileconfig?${q}`);
      assert.equal(a.status, 200, a.text);
      assert.equal(a.headers['content-type'], 'application/x-apple-aspen-config');
      assert.match(String(a.headers['content-disposition']), /attachment; filename="example\.test-(imap|pop3)\.mobileconfig"/);
      assert.match(a.text, /^<\?xml/, 'unsigned: the plist itself');
      return { raw: a.text, plist: parsePlist(a.body) };
    };
    const imap = await get('emailaddress=alice%40example.test');
    const again = await get('emailaddress=alice%40example.test&protocol=imap');
    const pop3 = await get('emailaddress=alice%40example.test&protocol=pop3');
    assert.equal(imap.raw, again.raw, 'the same profile each time');
    const p = w.server.ports;
    for (const [profile, type, port] of [[imap.plist, 'EmailTypeIMAP', p.imaps], [pop3.plist, 'EmailTypePOP', p.pop3]] as const) {
      assert.equal(profile.PayloadType, 'Configuration');
      assert.equal(profile.PayloadVersion, 1);
      const [account] = profile.PayloadContent as Node[];
      assert.equal(account.PayloadType, 'com.apple.mail.managed');
      assert.equal(account.EmailAccountType, type);
      assert.equal(account.EmailAddress, 'alice@example.test');
      assert.equal(account.IncomingMailServerHostName, 'mail.example.test');
      assert.equal(account.IncomingMailServerPortNumber, port);
      assert.equal(account.IncomingMailServerUseSSL, type === 'EmailTypeIMAP', 'imaps is implicit TLS; pop3 (pop3s is off) is STARTTLS');
      assert.equal(account.IncomingMailServerUsername, 'alice@example.test');
      assert.equal(account.IncomingMailServerAuthentication, 'EmailAuthPassword');
      assert.equal(account.OutgoingMailServerPortNumber, p.submissions);
      assert.equal(account.OutgoingMailServerUseSSL, true);
      assert.equal(account.OutgoingPasswordSameAsIncomingPassword, true);
      assert.match(String(account.PayloadUUID), /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    }
    assert.equal(imap.plist.PayloadIdentifier, pop3.plist.PayloadIdentifier, 'installing the POP3 profile replaces the IMAP one');
    assert.notEqual(imap.plist.PayloadUUID, pop3.plist.PayloadUUID);
    const other = await get('emailaddress=other%40example.test');
    assert.notEqual(other.plist.PayloadUUID, imap.plist.PayloadUUID);
    assert.notEqual(other.plist.PayloadIdentifier, imap.plist.PayloadIdentifier);
  });

  it('Apple profile: bad parameters are 400, a domain not hosted here 404', async () => {
    assert.equal((await request(w.http, '/mobileconfig')).status, 400);
    assert.equal((await request(w.http, '/mobileconfig?emailaddress=alice%40example.test&protocol=smtp')).status, 400);
    assert.equal((await request(w.http, '/mobileconfig?emailaddress=bob%40elsewhere.test')).status, 404);
  });

  it('MTA-STS: the policy is served to mta-sts.DOMAIN only, in testing mode while the certificate is self-signed', async () => {
    const a = await request(w.http, '/.well-known/mta-sts.txt', { host: 'mta-sts.example.test' });
    assert.equal(a.status, 200);
    assert.match(String(a.headers['content-type']), /^text\/plain/);
    assert.equal(a.text, 'version: STSv1\r\nmode: testing\r\nmx: mail.example.test\r\nmax_age: 604800\r\n');
    assert.equal((await request(w.http, '/.well-known/mta-sts.txt', { host: 'example.test' })).status, 404);
    assert.equal((await request(w.http, '/.well-known/mta-sts.txt', { host: 'mta-sts.elsewhere.test' })).status, 404);
  });

  it('property: any request target and Host get a clear 2xx/4xx answer, never a 500', async () => {
    const raw = (target: string, host: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(w.http, '127.0.0.1', () => socket.end(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
        let text = '';
        socket.setEncoding('latin1').on('data', (d: string) => (text += d));
        socket.on('end', () => resolve(text.split('\r\n')[0]));
        socket.on('error', reject);
      });
    const piece = fc.constantFrom('/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml', '/autodiscover/autodiscover.json', '/v1.0/', '/mobileconfig', '/.well-known/mta-sts.txt', '?', '&', '=', 'emailaddress', 'protocol', 'Email', 'alice%40example.test', '%', '%zz', '@', 'pop3', '..', '//', '#', 'x');
    const hostPiece = fc.constantFrom('autoconfig.', 'mta-sts.', 'example.test', 'elsewhere.test', ':80', '[::1]', '', '.', '-', 'UPPER.');
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 8 }), fc.array(hostPiece, { maxLength: 4 }), async (parts, hostParts) => {
        const status = await raw(`/${parts.join('')}`, hostParts.join(''));
        assert.match(status, /^HTTP\/1\.1 (200|400|404|405) /, `${parts.join('')} @ ${hostParts.join('')}`);
      }),
      { numRuns: 300 },
    );
    assert.equal((await request(w.http, '/healthz')).status, 200);
  });

  it('a client that half-closes right after its request still gets the answer a store lookup gives', async () => {
    for (let i = 0; i < 20; i++) {
      const text = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(w.http, '127.0.0.1', () =>
          socket.end('GET /mail/config-v1.1.xml?emailaddress=alice%40example.test HTTP/1.1\r\nHost: autoconfig.example.test\r\n\r\n'),
        );
        let got = '';
        socket.setEncoding('utf8').on('data', (d: string) => (got += d));
        socket.on('end', () => resolve(got));
        socket.on('error', reject);
      });
      assert.match(text, /^HTTP\/1\.1 200 /, `round ${i}: ${JSON.stringify(text.slice(0, 80))}`);
      assert.match(text, /<emailProvider id="example\.test">/);
    }
  });

  it('/healthz still answers', async () => {
    const a = await request(w.http, '/healthz');
    assert.deepEqual([a.status, a.text], [200, 'ok\n']);
  });
});

describe('client autoconfiguration (CA-issued certificate)', () => {
  let w: SetupWorld;
  let chain: ReturnType<typeof makeChain>;
  before(async () => {
    chain = makeChain(join(process.env.TMPDIR ?? '/tmp', `mailroom-chain-${process.pid}`), 'mail.example.test');
    w = await startSetupWorld({ MAILROOM_TLS_CERT: chain.chain, MAILROOM_TLS_KEY: chain.key, MAILROOM_POP3: 'off', MAILROOM_POP3S: 'off' });
  });
  after(async () => {
    await w.server.stop();
    rmSync(w.dir, { recursive: true, force: true });
    rmSync(chain.dir, { recursive: true, force: true });
  });

  it('Apple profile: signed (CMS, content included) by the server certificate, verifiable up to the root', async () => {
    const a = await request(w.http, '/mobileconfig?emailaddress=alice%40example.test');
    assert.equal(a.status, 200, a.text);
    assert.equal(a.headers['content-type'], 'application/x-apple-aspen-config');
    assert.equal(a.body[0], 0x30, 'DER SEQUENCE, not XML');
    const signed = join(chain.dir, 'profile.der');
    writeFileSync(signed, a.body);
    const content = execFileSync('openssl', ['smime', '-verify', '-noverify', '-inform', 'der', '-in', signed], { stdio: ['ignore', 'pipe', 'pipe'] });
    const verified = execFileSync('openssl', ['cms', '-verify', '-inform', 'der', '-in', signed, '-CAfile', chain.rootCa, '-purpose', 'any'], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.deepEqual(verified, content);
    const signer = execFileSync('openssl', ['pkcs7', '-inform', 'der', '-in', signed, '-print_certs', '-noout'], { encoding: 'utf8' });
    assert.match(signer, /subject=CN ?= ?mail\.example\.test/);
    assert.match(signer, /subject=CN ?= ?Mailroom Test Intermediate/, 'the intermediate travels with the signature');
    const plist = parsePlist(content);
    assert.equal(((plist.PayloadContent as Node[])[0]).EmailAccountType, 'EmailTypeIMAP');
    const stranger = makeChain(join(chain.dir, 'stranger'), 'mail.example.test');
    assert.throws(() => execFileSync('openssl', ['cms', '-verify', '-inform', 'der', '-in', signed, '-CAfile', stranger.rootCa, '-purpose', 'any'], { stdio: 'ignore' }), 'another root does not verify it');
  });

  it('Apple profile: POP3 with both POP3 listeners off is 404', async () => {
    assert.equal((await request(w.http, '/mobileconfig?emailaddress=alice%40example.test&protocol=pop3')).status, 404);
  });

  it('MTA-STS: enforce with a certificate other servers can verify', async () => {
    const a = await request(w.http, '/.well-known/mta-sts.txt', { host: 'mta-sts.example.test' });
    assert.match(a.text, /^version: STSv1\r\nmode: enforce\r\n/);
  });
});
