/**
 * POP3 over real sockets against the built server: raw transcripts for exact bytes,
 * every command and error path, pipelining, the maildrop lock, policies, limits.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningTestServer } from '../harness/server.js';
import { connect } from '../harness/transcript.js';
import { cli, deliver, Pop3Client } from './helpers.js';

const BARE_LF = 'Subject: bare\n\nline one\n.starts with dot\n..two dots\nlast line without newline';
/** Octets in CRLF form: each bare LF becomes two. */
const BARE_SIZE = BARE_LF.length + BARE_LF.split('\n').length - 1;
const CRLF = 'Subject: crlf\r\nFrom: a@example.test\r\n\r\nbody 1\r\nbody 2\r\nbody 3\r\n';

describe('POP3 server', () => {
  let server: RunningTestServer;
  let port: number;
  let users = 0;
  /** A fresh user with the given messages. */
  async function newUser(...messages: string[]): Promise<string> {
    const address = `u${++users}@example.test`;
    await cli(server, ['user', 'add', address, '--password', 'secret']);
    for (const m of messages) await deliver(server, address, m);
    return address;
  }

  before(async () => {
    server = await startServer({ env: { MAILROOM_POP3_MAX_ERRORS: '5' } });
    port = server.ports.pop3!;
  });
  after(() => server.stop());

  it('greets, lists capabilities, refuses transaction commands before login', async () => {
    const c = await Pop3Client.open(port);
    const capa = await c.multi('CAPA');
    assert.equal(capa.status, '+OK capability list follows');
    assert.deepEqual(capa.lines, ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE NEVER USER', 'LOGIN-DELAY 0 USER', 'UTF8', 'IMPLEMENTATION Mailroom', 'USER', 'SASL SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN', 'STLS']);
    assert.equal(await c.cmd('STAT'), '-ERR STAT is not valid in the AUTHORIZATION state');
    assert.equal(await c.cmd('PASS x'), '-ERR send USER first');
    assert.equal(await c.cmd('APOP a b'), '-ERR APOP is not supported; use USER/PASS or AUTH over TLS');
    assert.equal(await c.cmd('QUIT'), '+OK Mailroom POP3 server signing off');
    await c.t.closed;
  });

  it('every TRANSACTION command, exact bytes, sizes equal what RETR sends', async () => {
    const user = await newUser(BARE_LF, CRLF);
    const c = await Pop3Client.open(port);
    assert.equal(await c.login(user), `+OK ${user} has 2 messages (${BARE_SIZE + CRLF.length} octets)`);
    assert.equal(await c.cmd('STAT'), `+OK 2 ${BARE_SIZE + CRLF.length}`);
    const list = await c.multi('LIST');
    assert.deepEqual(list.lines, [`1 ${BARE_SIZE}`, `2 ${CRLF.length}`]);
    assert.equal(await c.cmd('LIST 2'), `+OK 2 ${CRLF.length}`);
    c.t.send('RETR 1\r\n');
    assert.equal(await c.t.readLine(), `+OK ${BARE_SIZE} octets\r\n`);
    const retr = await c.t.readUntil('\r\n.\r\n');
    assert.equal(retr, 'Subject: bare\r\n\r\nline one\r\n..starts with dot\r\n...two dots\r\nlast line without newline\r\n.\r\n');
    // The octets before stuffing and without the terminator equal LIST's size.
    const unstuffed = retr.slice(0, -3).split('\r\n').map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('\r\n');
    assert.equal(Buffer.byteLength(unstuffed) - 2 /* the CRLF added before the terminator */, BARE_SIZE);
    const retr2 = await c.multi('RETR 2');
    assert.equal(retr2.raw, CRLF + '.\r\n');
    assert.equal(Buffer.byteLength(CRLF), CRLF.length);
    const top = await c.multi('TOP 2 1');
    assert.deepEqual(top.lines, ['Subject: crlf', 'From: a@example.test', '', 'body 1']);
    assert.deepEqual((await c.multi('TOP 2 0')).lines, ['Subject: crlf', 'From: a@example.test', '']);
    assert.deepEqual((await c.multi('TOP 1 2')).lines, ['Subject: bare', '', 'line one', '.starts with dot']);
    const uidl = await c.multi('UIDL');
    assert.equal(uidl.lines.length, 2);
    const ids = uidl.lines.map((l) => l.split(' ')[1]);
    for (const id of ids) assert.match(id, /^[\x21-\x7e]{1,70}$/);
    assert.notEqual(ids[0], ids[1]);
    assert.equal(await c.cmd('UIDL 2'), `+OK 2 ${ids[1]}`);
    assert.equal(await c.cmd('DELE 1'), '+OK message 1 deleted');
    assert.equal(await c.cmd('DELE 1'), '-ERR message 1 already deleted');
    assert.equal(await c.cmd('RETR 1'), '-ERR message 1 already deleted');
    assert.equal(await c.cmd('STAT'), `+OK 1 ${CRLF.length}`);
    assert.deepEqual((await c.multi('LIST')).lines, [`2 ${CRLF.length}`]);
    assert.deepEqual((await c.multi('UIDL')).lines, [`2 ${ids[1]}`]);
    assert.equal(await c.cmd('RSET'), `+OK maildrop has 2 messages (${BARE_SIZE + CRLF.length} octets)`);
    assert.equal(await c.cmd('NOOP'), '+OK');
    assert.equal(await c.cmd('DELE 2'), '+OK message 2 deleted');
    assert.equal(await c.cmd('QUIT'), '+OK Mailroom POP3 server signing off (1 message removed)');
    await c.t.closed;
    const again = await Pop3Client.open(port);
    assert.equal(await again.login(user), `+OK ${user} has 1 message (${BARE_SIZE} octets)`);
    assert.deepEqual((await again.multi('UIDL')).lines, [`1 ${ids[0]}`], 'UIDL is stable across sessions');
    await again.cmd('QUIT');
  });

  it('bad input: -ERR with clear text, the session continues', async () => {
    const user = await newUser(CRLF);
    const c = await Pop3Client.open(port);
    await c.login(user);
    const table: [string, string][] = [
      ['RETR', '-ERR usage: RETR message-number'],
      ['RETR 1 2', '-ERR usage: RETR message-number'],
      ['RETR x', '-ERR message number expected, got "x"'],
      ['RETR 0', '-ERR message number expected, got "0"'],
    ];
    for (const [line, answer] of table) assert.equal(await c.cmd(line), answer, line);
    assert.equal(await c.cmd('NOOP'), '+OK', 'still alive after 4 errors');
    assert.equal(await c.cmd('LIST 9'), '-ERR no such message, only 1 message in maildrop');
    await c.t.closed; // 5th error: closed (MAILROOM_POP3_MAX_ERRORS=5)
    const d = await Pop3Client.open(port);
    await d.login(user);
    for (const [line, answer] of [
      ['TOP 1', '-ERR usage: TOP message-number lines'],
      ['TOP 1 -1', '-ERR number of lines expected, got "-1"'],
      ['STAT 1', '-ERR usage: STAT'],
      ['USER x', '-ERR USER is not valid in the TRANSACTION state'],
    ]) assert.equal(await d.cmd(line), answer, line);
    assert.equal(await d.cmd('QUIT'), '+OK Mailroom POP3 server signing off (0 messages removed)');
  });

  it('failed logins answer [AUTH]; the session continues', async () => {
    const user = await newUser();
    const c = await Pop3Client.open(port);
    assert.equal(await c.cmd(`USER ${user}`), '+OK send PASS');
    assert.equal(await c.cmd('PASS wrong'), '-ERR [AUTH] invalid user name or password');
    assert.equal(await c.cmd('PASS secret'), '-ERR send USER first');
    assert.match(await c.login(user), /^\+OK /);
    await c.cmd('QUIT');
  });

  it('pipelining: many commands in one write, answers in order', async () => {
    const user = await newUser(CRLF, CRLF, CRLF);
    const t = await connect(port, { timeoutMs: 20_000 });
    await t.readLine();
    t.send(`USER ${user}\r\nPASS secret\r\nSTAT\r\nLIST\r\nRETR 2\r\nDELE 3\r\nFOO\r\nUIDL 1\r\nQUIT\r\n`);
    const all = await t.readToEnd();
    const lines = all.split('\r\n');
    assert.equal(lines[0], '+OK send PASS');
    assert.match(lines[1], /^\+OK .* has 3 messages/);
    assert.equal(lines[2], `+OK 3 ${3 * CRLF.length}`);
    assert.ok(all.includes(`+OK ${CRLF.length} octets\r\n${CRLF}.\r\n+OK message 3 deleted\r\n-ERR unknown command FOO\r\n+OK 1 `));
    assert.ok(all.endsWith('+OK Mailroom POP3 server signing off (1 message removed)\r\n'));
  });

  it('one session per maildrop: the second gets [IN-USE]; free again after QUIT or disconnect', async () => {
    const user = await newUser(CRLF);
    const a = await Pop3Client.open(port);
    await a.login(user);
    const b = await Pop3Client.open(port);
    await b.cmd(`USER ${user}`);
    assert.equal(await b.cmd('PASS secret'), '-ERR [IN-USE] maildrop already locked by another POP3 session; try later');
    a.t.socket.destroy(); // no QUIT: no UPDATE, but the lock goes
    await a.t.closed;
    await new Promise((r) => setTimeout(r, 300));
    assert.match(await b.login(user), /^\+OK /);
    await b.cmd('QUIT');
  });

  it('snapshot: mail arriving during a session waits for the next login', async () => {
    const user = await newUser(CRLF);
    const c = await Pop3Client.open(port);
    await c.login(user);
    await deliver(server, user, CRLF);
    assert.equal(await c.cmd('STAT'), `+OK 1 ${CRLF.length}`);
    await c.cmd('QUIT');
    const d = await Pop3Client.open(port);
    await d.login(user);
    assert.equal(await d.cmd('STAT'), `+OK 2 ${2 * CRLF.length}`);
    await d.cmd('QUIT');
  });

  it('an overlong line closes the session', async () => {
    const c = await Pop3Client.open(port);
    c.t.send('NOOP ' + 'x'.repeat(5000) + '\r\n');
    assert.equal(await c.t.readToEnd(), '-ERR line too long (over 4096 octets); closing connection\r\n');
  });

  it('the line limit: 4096 octets with CRLF are a command, 4097 close the session', async () => {
    const c = await Pop3Client.open(port);
    const pass = (octets: number) => 'PASS ' + 'p'.repeat(octets - 'PASS '.length - 2);
    assert.equal(await c.cmd(pass(4096)), '-ERR send USER first');
    c.t.send(pass(4097) + '\r\n');
    assert.equal(await c.t.readToEnd(), '-ERR line too long (over 4096 octets); closing connection\r\n');
  });

  it('STLS: commands pipelined after STLS in plaintext are dropped (RFC 2595 4)', async () => {
    const user = await newUser(CRLF);
    const c = await Pop3Client.open(port);
    c.t.send(`STLS\r\nUSER ${user}\r\n`);
    assert.equal(await c.t.readLine(), '+OK begin TLS negotiation\r\n');
    const tls = await import('node:tls');
    c.t.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: c.t.socket, rejectUnauthorized: false });
    await new Promise((r) => secure.once('secureConnect', r));
    const { Transcript } = await import('../harness/transcript.js');
    const s = new Pop3Client(new Transcript(secure, 20_000));
    assert.equal(await s.cmd('PASS secret'), '-ERR send USER first', 'the plaintext USER did not count');
    assert.match(await s.login(user), /^\+OK /);
    await s.cmd('QUIT');
  });

  it('AUTH PLAIN (initial response and continuation), AUTH LOGIN, cancel, bad base64', async () => {
    const user = await newUser(CRLF);
    const plain = Buffer.from(`\0${user}\0secret`).toString('base64');
    const a = await Pop3Client.open(port);
    assert.deepEqual((await a.multi('AUTH')).lines, ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'LOGIN']);
    assert.equal(await a.cmd('AUTH PLAIN'), '+ ');
    assert.equal(await a.cmd('*'), '-ERR authentication cancelled');
    assert.equal(await a.cmd('AUTH PLAIN !!!'), '-ERR [AUTH] authentication failed: invalid base64');
    assert.equal(await a.cmd('AUTH CRAM-MD5'), '-ERR unsupported SASL mechanism CRAM-MD5; supported: SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN');
    assert.match(await a.cmd(`AUTH PLAIN ${plain}`), /^\+OK .* has 1 message/);
    await a.cmd('QUIT');
    const b = await Pop3Client.open(port);
    assert.equal(await b.cmd('AUTH PLAIN'), '+ ');
    assert.match(await b.cmd(plain), /^\+OK /);
    await b.cmd('QUIT');
    const l = await Pop3Client.open(port);
    assert.equal(await l.cmd('AUTH LOGIN'), '+ VXNlcm5hbWU6');
    assert.equal(await l.cmd(Buffer.from(user).toString('base64')), '+ UGFzc3dvcmQ6');
    assert.match(await l.cmd(Buffer.from('secret').toString('base64')), /^\+OK /);
    await l.cmd('QUIT');
  });

  it('UTF8 only before login; CAPA after login shows exact EXPIRE and LOGIN-DELAY', async () => {
    const user = await newUser();
    await cli(server, ['user', 'set', user, 'pop3.keepDays=30', 'pop3.loginDelay=0']);
    const c = await Pop3Client.open(port);
    assert.equal(await c.cmd('UTF8'), '+OK UTF8 enabled');
    await c.login(user);
    const capa = (await c.multi('CAPA')).lines;
    assert.ok(capa.includes('EXPIRE 30') && capa.includes('LOGIN-DELAY 0'), capa.join('|'));
    assert.ok(!capa.includes('USER') && !capa.includes('STLS'));
    assert.equal(await c.cmd('UTF8'), '-ERR UTF8 is not valid in the TRANSACTION state');
    await c.cmd('QUIT');
  });

  it('LOGIN-DELAY is enforced per user', async () => {
    const user = await newUser();
    await cli(server, ['user', 'set', user, 'pop3.loginDelay=3600']);
    const c = await Pop3Client.open(port);
    assert.match(await c.login(user), /^\+OK/);
    assert.ok((await c.multi('CAPA')).lines.includes('LOGIN-DELAY 3600'));
    await c.cmd('QUIT');
    const d = await Pop3Client.open(port);
    assert.equal(await d.login(user), '-ERR [LOGIN-DELAY] logins are allowed at most every 3600 seconds');
    await d.cmd('QUIT');
  });

  it('EXPIRE 0: retrieved messages are removed at QUIT; others stay', async () => {
    const user = await newUser(CRLF, CRLF);
    await cli(server, ['user', 'set', user, 'pop3.keepDays=0']);
    const c = await Pop3Client.open(port);
    await c.login(user);
    await c.multi('RETR 1');
    assert.equal(await c.cmd('QUIT'), '+OK Mailroom POP3 server signing off (1 message removed)');
    const d = await Pop3Client.open(port);
    assert.match(await d.login(user), /has 1 message/);
    await d.cmd('QUIT');
  });

  it('STLS upgrades; implicit TLS on pop3s', async () => {
    const user = await newUser(CRLF);
    const c = await Pop3Client.open(port);
    assert.equal(await c.cmd('STLS'), '+OK begin TLS negotiation');
    const tls = await import('node:tls');
    const secure = tls.connect({ socket: c.t.socket, rejectUnauthorized: false });
    await new Promise((r) => secure.once('secureConnect', r));
    const { Transcript } = await import('../harness/transcript.js');
    const s = new Pop3Client(new Transcript(secure, 20_000));
    const capa = (await s.multi('CAPA')).lines;
    assert.ok(!capa.includes('STLS') && capa.includes('USER'));
    assert.equal(await s.cmd('STLS'), '-ERR TLS is already active');
    assert.match(await s.login(user), /^\+OK/);
    await s.cmd('QUIT');
    const i = await Pop3Client.open(server.ports.pop3s!, true);
    assert.ok(!(await i.multi('CAPA')).lines.includes('STLS'));
    assert.match(await i.login(user), /^\+OK/);
    await i.cmd('QUIT');
  });
});

describe('POP3 plaintext policy', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startServer({ env: { MAILROOM_AUTH_ALLOW_PLAINTEXT: 'never' } });
    await cli(server, ['user', 'add', 'p@example.test', '--password', 'secret']);
  });
  after(() => server.stop());

  it('refuses USER/PASS/AUTH before TLS and hides them in CAPA', async () => {
    const c = await Pop3Client.open(server.ports.pop3!);
    const capa = (await c.multi('CAPA')).lines;
    assert.ok(!capa.includes('USER') && !capa.some((l) => l.startsWith('SASL')) && capa.includes('STLS'));
    const refused = '-ERR [AUTH] plaintext authentication disallowed on non-secure connections; use STLS or the POP3S port';
    assert.equal(await c.cmd('USER p@example.test'), refused);
    assert.equal(await c.cmd('AUTH PLAIN AHBAZXhhbXBsZS50ZXN0AHNlY3JldA=='), refused);
    await c.cmd('QUIT');
    const i = await Pop3Client.open(server.ports.pop3s!, true);
    assert.match(await i.login('p@example.test'), /^\+OK/);
    await i.cmd('QUIT');
  });
});
