// The POP3 session on the connection layer, in process over real TCP sockets, where the
// test can see what a child process hides: listeners on the shutdown signal and the
// socket, the maildrop lease, the server socket's user-space write buffer. Every way
// out (QUIT, the client leaving, STLS, shutdown, idle autologout, a client that stops
// reading) leaves no listener behind and the lease free, and UPDATE runs only at QUIT.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { LiveLogins } from '../auth/live-logins.js';
import { createAuthenticator } from '../auth/authenticate.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { createUser } from '../mail/accounts.js';
import { deliver } from '../mail/delivery.js';
import { deliveryContext } from '../mail/delivery-context.js';
import { tcpSockets } from '../net/connection-pairs.test-helper.js';
import { loadTlsMaterial } from '../net/tls.js';
import type { Services } from '../services.js';
import { openBackend, type Backend } from '../store/open.js';
import type { User } from '../store/types.js';
import { Transcript } from '../../test/harness/transcript.js';
import { Pop3Session } from './session.js';
import { MessageSource } from '../mail/message-source.js';

const SOCKET_EVENTS = ['data', 'end', 'error', 'close', 'drain', 'timeout', 'finish'] as const;
const tick = () => new Promise<void>((r) => setImmediate(r));
const log = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** A small CRLF message (~`kb` KB) whose lines sometimes start with a dot. */
function message(n: number, kb: number): Buffer {
  const lines = [`Subject: message ${n}`, `Message-ID: <${n}.session@example.test>`, ''];
  for (let i = 0, size = 0; size < kb * 1024; i++) {
    const line = i % 13 === 0 ? `.dot line ${i}` : `line ${i} of message ${n} ${'y'.repeat(i % 60)}`;
    lines.push(line);
    size += line.length + 2;
  }
  return Buffer.from(lines.join('\r\n') + '\r\n');
}

/** RFC 1939 3 for CRLF text: "+OK" line, each line with a leading dot doubled, ".". */
function retrAnswer(raw: Buffer): string {
  const text = raw.toString('latin1');
  const body = text.slice(0, -2).split('\r\n').map((l) => (l.startsWith('.') ? '.' + l : l) + '\r\n').join('');
  return `+OK ${raw.length} octets\r\n${body}.\r\n`;
}

describe('POP3 session on the connection layer', () => {
  let backend: Backend;
  let services: Services;
  let secureContext: tls.SecureContext;
  const users: Record<'small' | 'big', User> = {} as never;
  const small = [message(1, 2), message(2, 50)];
  const big = Array.from({ length: 10 }, (_, i) => message(100 + i, 2048)); // 20 MB: more than any socket buffer

  before(async () => {
    const data = mkdtempSync(join(tmpdir(), 'pop3-session-'));
    const config = loadConfig({ env: { MAILROOM_DATA: data, MAILROOM_HOSTNAME: 'mail.example.test' }, cwd: data });
    backend = await openBackend({ dataDir: data });
    const material = await loadTlsMaterial({ cert: '', key: '', dataDir: data, hostname: 'mail.example.test', log });
    secureContext = tls.createSecureContext({ cert: material.cert, key: material.key });
    services = {
      config,
      leaseOwner: `node:test:${process.pid}:`,
      store: backend.store,
      bus: backend.bus,
      auth: createAuthenticator(backend.store, backend.throttle),
      logins: new LiveLogins(backend.store, backend.bus),
      delivery: deliveryContext(backend.store, config),
      log,
      tls: { cert: material.cert, key: material.key },
    };
    for (const [name, messages] of [['small', small], ['big', big]] as const) {
      users[name] = await createUser(backend.store, `${name}@example.test`, 'secret');
      for (const raw of messages) assert.equal((await deliver(services.delivery, MessageSource.fromBuffer(raw), [`${name}@example.test`]))[0].status, 'delivered');
    }
  });
  after(() => backend.close());

  let sessions = 0;
  /** One connection with a session on it; `idleS` shortens the autologout (the config's minimum is 600 s). */
  async function open(signal: AbortSignal, idleS?: number) {
    const { server, client } = await tcpSockets();
    const baseline = new Map(SOCKET_EVENTS.map((e) => [e, server.listenerCount(e)]));
    const svc = idleS === undefined ? services : { ...services, config: { ...services.config, pop3: { ...services.config.pop3, idle_timeout_s: idleS } } };
    const session = new Pop3Session(svc, { id: `s${++sessions}`, remoteAddress: '127.0.0.1', log, signal, secureContext }, server, false);
    const done = session.run();
    const t = new Transcript(client, 60_000);
    assert.equal(await t.readLine(), '+OK Mailroom POP3 server ready\r\n');
    /**
     * Waits until the session is over and the connection closed; then no listener of it
     * may be left on the socket. After STLS only Node's own TLSSocket listeners stay on
     * the wrapped socket (they die with it, and hold nothing of the session), so the
     * count is not compared then; the shutdown signal, the one that outlives sessions,
     * is checked by the callers in every case.
     */
    const finished = async () => {
      await done;
      await session.conn.closed;
      await tick();
      if (session.tls) return;
      for (const [e, n] of baseline) assert.equal(server.listenerCount(e), n, `'${e}' listeners left on the socket`);
    };
    return { t, client, server, session, finished };
  }

  async function login(t: Transcript, who: 'small' | 'big'): Promise<void> {
    t.send(`USER ${who}@example.test\r\nPASS secret\r\n`);
    assert.equal(await t.readLine(), '+OK send PASS\r\n');
    assert.match(await t.readLine(), /^\+OK .* has \d+ messages? /);
  }

  /** The maildrop lease is free: a probe takes it (and gives it back). */
  async function leaseFree(who: 'small' | 'big'): Promise<boolean> {
    const key = `pop3-maildrop:${users[who].id}`;
    if (!(await backend.store.acquireLease(key, 'probe', 10_000))) return false;
    await backend.store.releaseLease(key, 'probe');
    return true;
  }

  async function messagesInInbox(who: 'small' | 'big'): Promise<number> {
    const inbox = (await backend.store.getMailbox(users[who].id, 'INBOX'))!;
    return (await backend.store.listMessages(inbox.id, users[who].id)).length;
  }

  it('40 sessions, every way out: no listener left on the shutdown signal or the socket, the lease free', async () => {
    const ac = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 40; i++) {
        const { t, client, finished } = await open(ac.signal);
        assert.equal(getEventListeners(ac.signal, 'abort').length, 1, 'one listener per open session');
        const way = i % 4;
        if (way === 0) {
          t.send('QUIT\r\n');
          assert.equal(await t.readToEnd(), '+OK Mailroom POP3 server signing off\r\n');
        } else if (way === 1) {
          await login(t, 'small');
          t.send('RETR 1\r\nQUIT\r\n');
          assert.equal(await t.readToEnd(), retrAnswer(small[0]) + '+OK Mailroom POP3 server signing off (0 messages removed)\r\n');
        } else if (way === 2) {
          await login(t, 'small');
          t.send('DELE 1\r\n');
          assert.equal(await t.readLine(), '+OK message 1 deleted\r\n');
          client.destroy(); // the client leaves without QUIT: no UPDATE
        } else {
          t.send('STLS\r\n');
          assert.equal(await t.readLine(), '+OK begin TLS negotiation\r\n');
          client.removeAllListeners('data');
          const secure = tls.connect({ socket: client, rejectUnauthorized: false });
          await new Promise((r) => secure.once('secureConnect', r));
          const s = new Transcript(secure, 60_000);
          await login(s, 'small');
          secure.destroy();
        }
        await finished();
        assert.equal(getEventListeners(ac.signal, 'abort').length, 0, `session ${i}: the shutdown listener is removed`);
        assert.ok(await leaseFree('small'), `session ${i}: the maildrop lease is released`);
      }
      assert.equal(await messagesInInbox('small'), small.length, 'nothing removed without QUIT');
      assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning'), []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('trace: a pipelined SASL login is logged in conversation order with the secrets hidden', async () => {
    const records: { dir: string; line: string }[] = [];
    const capture = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _e, cb) {
          const r = JSON.parse(chunk.toString()) as { msg: string; dir: string; line: string };
          if (r.msg === 'trace') records.push({ dir: r.dir, line: r.line });
          cb();
        },
      }),
    });
    const traced = { ...services, config: { ...services.config, log: { ...services.config.log, trace: true } } };
    const { server, client } = await tcpSockets();
    const session = new Pop3Session(traced, { id: 'trace', remoteAddress: '127.0.0.1', log: capture, signal: new AbortController().signal, secureContext }, server, false);
    const done = session.run();
    const t = new Transcript(client, 60_000);
    const plain = Buffer.from('\0small@example.test\0secret').toString('base64');
    t.send(`AUTH PLAIN\r\n${plain}\r\nSTAT\r\nUSER x\r\nPASS secret two\r\nQUIT\r\n`);
    await t.readToEnd();
    await done;
    const stat = `+OK ${small.length} ${small.reduce((a, m) => a + m.length, 0)}`;
    assert.deepEqual(records, [
      { dir: 'S', line: '+OK Mailroom POP3 server ready' },
      { dir: 'C', line: 'AUTH PLAIN' },
      { dir: 'S', line: '+ ' },
      { dir: 'C', line: '***' },
      { dir: 'S', line: `+OK small@example.test has ${small.length} messages (${stat.split(' ')[2]} octets)` },
      { dir: 'C', line: 'STAT' },
      { dir: 'S', line: stat },
      { dir: 'C', line: 'USER x' },
      { dir: 'S', line: '-ERR USER is not valid in the TRANSACTION state' },
      { dir: 'C', line: 'PASS ***' },
      { dir: 'S', line: '-ERR PASS is not valid in the TRANSACTION state' },
      { dir: 'C', line: 'QUIT' },
      { dir: 'S', line: '+OK Mailroom POP3 server signing off (0 messages removed)' },
    ]);
  });

  it('shutdown while waiting for a command: -ERR [SYS/TEMP], no UPDATE, the lease free', async () => {
    const ac = new AbortController();
    const { t, finished } = await open(ac.signal);
    await login(t, 'small');
    t.send('DELE 1\r\n');
    assert.equal(await t.readLine(), '+OK message 1 deleted\r\n');
    ac.abort();
    assert.equal(await t.readToEnd(), '-ERR [SYS/TEMP] server shutting down\r\n');
    await finished();
    assert.ok(await leaseFree('small'));
    assert.equal(await messagesInInbox('small'), small.length);
  });

  it('shutdown during a pipelined batch: only whole answers, then -ERR [SYS/TEMP]', async () => {
    const ac = new AbortController();
    const { t, finished } = await open(ac.signal);
    await login(t, 'small');
    t.send('RETR 2\r\n'.repeat(30));
    const answer = retrAnswer(small[1]);
    const first = await t.readLine();
    assert.equal(first, answer.slice(0, first.length));
    ac.abort();
    const rest = first + (await t.readToEnd());
    const shutdown = '-ERR [SYS/TEMP] server shutting down\r\n';
    assert.ok(rest.endsWith(shutdown), JSON.stringify(rest.slice(-80)));
    const answers = rest.slice(0, -shutdown.length);
    assert.equal(answers.length % answer.length, 0, 'no answer cut in half');
    assert.equal(answers, answer.repeat(answers.length / answer.length));
    await finished();
    assert.ok(await leaseFree('small'));
  });

  it('idle autologout (RFC 1939 3): -ERR [SYS/TEMP], no UPDATE, the lease free', async () => {
    const { t, finished } = await open(new AbortController().signal, 1);
    await login(t, 'small');
    t.send('DELE 2\r\n');
    assert.equal(await t.readLine(), '+OK message 2 deleted\r\n');
    assert.equal(await t.readToEnd(), '-ERR [SYS/TEMP] autologout: idle for too long\r\n');
    await finished();
    assert.ok(await leaseFree('small'));
    assert.equal(await messagesInInbox('small'), small.length);
  });

  it('RETR waits for the socket to drain: 20 MB to a client that stops reading stays bounded in the server; every byte arrives after', async () => {
    const { client, server, finished } = await open(new AbortController().signal);
    client.removeAllListeners('data'); // this test reads by hand
    const chunks: Buffer[] = [];
    client.on('data', (c: Buffer) => chunks.push(c));
    client.write('USER big@example.test\r\nPASS secret\r\n');
    while (!Buffer.concat(chunks).toString('latin1').includes('messages')) await tick();
    chunks.length = 0;
    client.pause(); // stop reading: the kernel buffers fill, then the server's writes must wait
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, server.writableLength)), 1);
    try {
      client.write(big.map((_, i) => `RETR ${i + 1}\r\n`).join('') + 'QUIT\r\n');
      while (!server.writableNeedDrain) await new Promise((r) => setTimeout(r, 5));
      for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 5)); // give a leaky writer time to pile up
      most = Math.max(most, server.writableLength);
    } finally {
      clearInterval(sample);
    }
    assert.ok(most < 1024 * 1024, `the server buffered ${most} bytes in user space while the client did not read`);
    const ended = new Promise((r) => client.once('end', r));
    client.resume();
    await ended;
    const got = Buffer.concat(chunks).toString('latin1');
    const expected = big.map(retrAnswer).join('') + '+OK Mailroom POP3 server signing off (0 messages removed)\r\n';
    assert.equal(got.length, expected.length);
    assert.ok(got === expected, 'every byte, in order');
    client.destroy();
    await finished();
  });

  it('a client that stops reading is cut off after the idle timeout; the lease is released', async () => {
    const { client, finished } = await open(new AbortController().signal, 1);
    client.removeAllListeners('data');
    const lines: Buffer[] = [];
    client.on('data', (c: Buffer) => lines.push(c));
    client.write('USER big@example.test\r\nPASS secret\r\n');
    while (!Buffer.concat(lines).toString('latin1').includes('messages')) await tick();
    client.pause();
    client.write(big.map((_, i) => `RETR ${i + 1}\r\n`).join(''));
    await finished(); // the session ends on its own: the stalled write was given up
    assert.ok(await leaseFree('big'));
    client.destroy();
  });
});
