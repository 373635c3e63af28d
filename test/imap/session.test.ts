// Raw transcripts: greeting, capabilities by state, STARTTLS, implicit TLS, LOGINDISABLED,
// AUTHENTICATE (SASL-IR, continuations, cancel), BAD handling and the bad-command limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { connect } from '../harness/transcript.js';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, PASS, startImapServer, USER } from './client.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('IMAP session', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startImapServer({ MAILROOM_IMAP_MAX_BAD_COMMANDS: '3' });
  });
  after(async () => {
    await server?.stop();
  });

  test('greeting and CAPABILITY before and after login (loopback may log in without TLS)', async () => {
    const t = await connect(server.ports.imap!);
    const greeting = await t.readLine();
    assert.match(greeting, /^\* OK \[CAPABILITY IMAP4rev1 IMAP4rev2 [^\]]*STARTTLS AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-1 AUTH=PLAIN AUTH=LOGIN\] .* Mailroom IMAP ready\r\n$/);
    t.send('a CAPABILITY\r\n');
    const caps = await t.readUntil('a OK CAPABILITY completed\r\n');
    assert.match(caps, /^\* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL\+ SASL-IR ID ENABLE IDLE STARTTLS AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-1 AUTH=PLAIN AUTH=LOGIN\r\n/);
    assert.doesNotMatch(caps, /LOGINDISABLED/);
    t.send(`b LOGIN ${USER} ${PASS}\r\n`);
    const ok = await t.readLine();
    assert.match(ok, /^b OK \[CAPABILITY IMAP4rev1 IMAP4rev2 .*UIDPLUS MOVE .*ESEARCH .*APPENDLIMIT=\d+\] Logged in\r\n$/);
    assert.doesNotMatch(ok, /STARTTLS|AUTH=/);
    t.close();
  });

  test('bad syntax: tagged BAD naming the problem, untagged BAD without a tag; the session continues', async () => {
    const c = await Imap.open(server.ports.imap!, { login: false });
    assert.equal((await c.cmd('FROB')).tagged, 'BAD Unknown command FROB');
    assert.match((await c.cmd('SELECT INBOX')).tagged, /^BAD \[CLIENTBUG\] SELECT is not allowed before login/);
    assert.equal((await c.cmd('NOOP')).status, 'OK'); // resets the count of bad commands in a row
    c.t.send('\r\n(bad\r\n');
    assert.match(await c.t.readLine(), /^\* BAD /);
    assert.equal((await c.cmd('NOOP')).status, 'OK');
    await c.ok(`LOGIN ${USER} ${PASS}`);
    const r = await c.cmd('FETCH 1 FLAGS');
    assert.match(r.tagged, /^BAD \[CLIENTBUG\] FETCH is not allowed without a selected mailbox/);
    await c.ok('SELECT INBOX');
    assert.match((await c.cmd('FETCH 1:x FLAGS')).tagged, /^BAD Invalid sequence set "1:x"/);
    assert.match((await c.cmd('FETCH 99 FLAGS')).tagged, /^BAD \[CLIENTBUG\] Invalid sequence number/);
    assert.equal((await c.cmd('NOOP')).status, 'OK');
    c.close();
  });

  test('too many bad commands in a row: BYE and close', async () => {
    const c = await Imap.open(server.ports.imap!, { login: false });
    c.t.send('a BOGUS\r\nb BOGUS\r\nc BOGUS\r\nd NOOP\r\n');
    const rest = await c.t.readToEnd(10_000);
    assert.match(rest, /c BAD Unknown command BOGUS\r\n\* BYE \[CLIENTBUG\] Too many invalid commands\r\n$/);
  });

  test('LOGIN failure is NO [AUTHENTICATIONFAILED]; literal login works', async () => {
    const c = await Imap.open(server.ports.imap!, { login: false });
    assert.equal((await c.cmd(`LOGIN ${USER} wrong`)).tagged, 'NO [AUTHENTICATIONFAILED] Authentication failed');
    const tag = c.nextTag();
    c.t.send(`${tag} LOGIN {${USER.length}}\r\n`);
    assert.equal(await c.t.readLine(), '+ Ready for literal data\r\n');
    c.t.send(`${USER} {${PASS.length}+}\r\n${PASS}\r\n`);
    assert.match((await c.readTagged(tag)).tagged, /^OK \[CAPABILITY /);
    c.close();
  });

  test('AUTHENTICATE PLAIN with SASL-IR, PLAIN with a continuation, LOGIN, and "*" cancels', async () => {
    const c1 = await Imap.open(server.ports.imap!, { login: false });
    assert.match((await c1.cmd(`AUTHENTICATE PLAIN ${b64(`\0${USER}\0${PASS}`)}`)).tagged, /^OK \[CAPABILITY .*\] Logged in$/);
    c1.close();
    const c2 = await Imap.open(server.ports.imap!, { login: false });
    let tag = c2.nextTag();
    c2.t.send(`${tag} AUTHENTICATE PLAIN\r\n`);
    assert.equal(await c2.t.readLine(), '+ \r\n');
    c2.t.send(`${b64(`\0${USER}\0${PASS}`)}\r\n`);
    assert.equal((await c2.readTagged(tag)).status, 'OK');
    c2.close();
    const c3 = await Imap.open(server.ports.imap!, { login: false });
    tag = c3.nextTag();
    c3.t.send(`${tag} AUTHENTICATE LOGIN\r\n`);
    assert.equal(await c3.t.readLine(), '+ VXNlcm5hbWU6\r\n');
    c3.t.send(`${b64(USER)}\r\n`);
    assert.equal(await c3.t.readLine(), '+ UGFzc3dvcmQ6\r\n');
    c3.t.send(`${b64(PASS)}\r\n`);
    assert.equal((await c3.readTagged(tag)).status, 'OK');
    c3.close();
    const c4 = await Imap.open(server.ports.imap!, { login: false });
    tag = c4.nextTag();
    c4.t.send(`${tag} AUTHENTICATE PLAIN\r\n`);
    await c4.t.readLine();
    c4.t.send('*\r\n');
    assert.equal((await c4.readTagged(tag)).tagged, 'BAD Authentication cancelled');
    assert.equal((await c4.cmd('NOOP')).status, 'OK');
    c4.close();
  });

  test('implicit TLS (imaps): greeting without STARTTLS, login works', async () => {
    const c = await connect(server.ports.imaps!, { tls: true });
    const greeting = await c.readLine();
    assert.match(greeting, /^\* OK \[CAPABILITY .*AUTH=PLAIN/);
    assert.doesNotMatch(greeting, /STARTTLS|LOGINDISABLED/);
    c.send(`a LOGIN ${USER} ${PASS}\r\n`);
    assert.match(await c.readLine(), /^a OK /);
    c.close();
  });

  test('ID, NAMESPACE, ENABLE IMAP4rev2, LOGOUT', async () => {
    const c = await Imap.open(server.ports.imap!);
    assert.match(await c.ok('ID ("name" "test")'), /^\* ID \("name" "Mailroom" "vendor" "Mailroom"\)\r\n/);
    assert.match(await c.ok('ID NIL'), /^\* ID /);
    assert.match(await c.ok('NAMESPACE'), /^\* NAMESPACE \(\("" "\/"\)\) \(\("Other Users\/" "\/"\)\) \(\("Shared\/" "\/"\)\)\r\n/); // RFC 2342 5, RFC 4314 sharing
    assert.match(await c.ok('ENABLE IMAP4rev2 CONDSTORE X-NONE'), /^\* ENABLED IMAP4rev2 CONDSTORE\r\n/);
    assert.match(await c.ok('ENABLE IMAP4rev2'), /^\* ENABLED\r\n/);
    const tag = c.nextTag();
    c.t.send(`${tag} LOGOUT\r\n`);
    assert.equal(await c.t.readToEnd(), `* BYE Logging out\r\n${tag} OK LOGOUT completed\r\n`);
  });
});

describe('IMAP without plaintext logins (auth.allow_plaintext = never)', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startImapServer({ MAILROOM_AUTH_ALLOW_PLAINTEXT: 'never' });
  });
  after(async () => {
    await server?.stop();
  });

  test('LOGINDISABLED before TLS; STARTTLS discards injected plaintext; logins work after TLS', async () => {
    const t = await connect(server.ports.imap!);
    const greeting = await t.readLine();
    assert.match(greeting, /STARTTLS LOGINDISABLED\]/);
    assert.doesNotMatch(greeting, /AUTH=/);
    t.send(`a LOGIN ${USER} ${PASS}\r\n`);
    assert.equal(await t.readLine(), 'a NO [PRIVACYREQUIRED] Plaintext authentication is disabled; use STARTTLS first\r\n');
    t.send(`b AUTHENTICATE PLAIN ${b64(`\0${USER}\0${PASS}`)}\r\n`);
    assert.match(await t.readLine(), /^b NO \[PRIVACYREQUIRED\]/);
    // RFC 9051 6.2.1: the "c NOOP" sent in the same packet must not be answered after the upgrade
    t.send('s STARTTLS\r\nc NOOP\r\n');
    assert.equal(await t.readLine(), 's OK Begin TLS negotiation now\r\n');
    t.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: t.socket, rejectUnauthorized: false });
    await new Promise((r) => secure.once('secureConnect', r));
    let got = '';
    secure.on('data', (d: Buffer) => (got += d.toString()));
    secure.write('d CAPABILITY\r\n');
    const deadline = Date.now() + 10_000;
    while (!got.includes('d OK') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.doesNotMatch(got, /c OK/);
    assert.match(got, /^\* CAPABILITY .*AUTH=PLAIN AUTH=LOGIN\r\nd OK/);
    assert.doesNotMatch(got, /STARTTLS|LOGINDISABLED/);
    secure.write(`e LOGIN ${USER} ${PASS}\r\n`);
    while (!got.includes('e OK') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(got, /e OK \[CAPABILITY/);
    secure.destroy();
  });
});
