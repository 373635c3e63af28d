// IMAP sessions in this process over real TCP sockets, so the listener-wide shutdown
// signal can be inspected (issue 9): after 200 sessions that end in every way (LOGOUT,
// a client that vanishes mid-literal, in IDLE, right after the greeting) the signal has
// no listener left; shutting down says BYE to sessions in every state; and no
// MaxListenersExceededWarning is emitted on the way.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners, setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { openBackend, type Backend } from '../../src/store/open.js';
import { LiveLogins } from '../../src/auth/live-logins.js';
import { createAuthenticator } from '../../src/auth/authenticate.js';
import { deliveryContext } from '../../src/mail/delivery-context.js';
import { createUser } from '../../src/mail/accounts.js';
import { ImapSession } from '../../src/imap/session.js';
import { shutdownWaiters } from '../../src/net/connection.js';
import type { Services } from '../../src/services.js';

const USER = 'lifecycle@example.test';
const PASS = 'secret-pw';

/** A client socket with "read until" over everything received. */
class Client {
  private text = '';
  private waiters: (() => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => ((this.text += c.toString('latin1')), this.wake()));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => ((this.ended = true), this.wake(), resolve())));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async until(s: string): Promise<string> {
    while (!this.text.includes(s)) {
      if (this.ended) throw new Error(`closed before ${JSON.stringify(s)}; got ${JSON.stringify(this.text.slice(-300))}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.text;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }
}

describe('IMAP session lifecycle (in process)', () => {
  let dir: string;
  let backend: Backend;
  let services: Services;
  let ac: AbortController;
  let server: net.Server;
  /** Server-side sockets not yet closed, each with a promise of its close. */
  const open = new Map<net.Socket, Promise<void>>();
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  let sessionNo = 0;
  /** Per-test IMAP settings for the next sessions (the schema's minimums do not apply in process). */
  let imapOverride: Partial<Services['config']['imap']> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-lifecycle-'));
    const config = loadConfig({ env: { MAILROOM_DATA: join(dir, 'data') }, cwd: dir });
    backend = await openBackend({ dataDir: config.data, databaseUrl: config.database_url, database: config.database });
    const log = pino({ level: 'silent' });
    services = {
      config,
      leaseOwner: `node:test:${process.pid}:`,
      store: backend.store,
      bus: backend.bus,
      auth: createAuthenticator(backend.store, backend.throttle),
      logins: new LiveLogins(backend.store, backend.bus),
      delivery: deliveryContext(backend.store, config),
      log,
      tls: { cert: '', key: '' },
    };
    await createUser(backend.store, USER, PASS);
    ac = new AbortController();
    setMaxListeners(0, ac.signal); // as src/net/listeners.ts does: one listener per open session is normal
    process.on('warning', onWarning);
    server = net.createServer((socket) => {
      const svc = { ...services, config: { ...services.config, imap: { ...services.config.imap, ...imapOverride } } };
      const s = new ImapSession(svc, socket, { id: `t${++sessionNo}`, remoteAddress: '127.0.0.1', log, signal: ac.signal, secureContext: undefined }, false);
      // Registered after the session's own listeners, so it runs after the connection cleaned up.
      open.set(socket, new Promise((resolve) => socket.once('close', () => (open.delete(socket), resolve()))));
      s.start();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  after(async () => {
    process.off('warning', onWarning);
    server?.close();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect(): Promise<Client> {
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new Client(socket);
    await c.until('* OK');
    return c;
  }

  /** Open sessions waiting on the shutdown signal; they share one EventTarget listener (connection.ts), so adding one stays O(1). */
  const listeners = () => {
    assert.ok(getEventListeners(ac.signal, 'abort').length <= 1, 'one listener on the signal, whatever the number of sessions');
    return shutdownWaiters(ac.signal);
  };

  /** Waits until every server-side socket of this process has closed. */
  async function allClosed(): Promise<void> {
    while (open.size > 0) await Promise.all(open.values());
  }

  /** One session that ends in the way `kind` picks. */
  async function session(kind: number): Promise<void> {
    const c = await connect();
    switch (kind) {
      case 0:
        c.send('a1 LOGOUT\r\n');
        await c.until('a1 OK');
        break;
      case 1: // vanishes in the middle of a spooled literal
        c.send(`a1 LOGIN ${USER} ${PASS}\r\na2 APPEND INBOX {300000+}\r\n`);
        c.send(Buffer.alloc(150_000, 0x61));
        await c.until('a1 OK');
        break;
      case 2: // vanishes in IDLE
        c.send(`a1 LOGIN ${USER} ${PASS}\r\na2 SELECT INBOX\r\na3 IDLE\r\n`);
        await c.until('+ idling');
        break;
      case 3: {
        const msg = `Subject: m\r\n\r\n${'x'.repeat(78)}\r\n`.repeat(1500);
        c.send(`a1 LOGIN ${USER} ${PASS}\r\na2 APPEND INBOX {${msg.length}}\r\n`);
        await c.until('+ Ready');
        c.send(msg);
        c.send('\r\n');
        await c.until('a2 OK');
        c.send('a3 LOGOUT\r\n');
        await c.until('a3 OK');
        break;
      }
      default: // vanishes right after the greeting
        break;
    }
    c.socket.destroy();
    await c.closed;
  }

  test('200 sessions: one shutdown listener per open session, none left after they close; no MaxListenersExceededWarning', { timeout: 300_000 }, async () => {
    assert.equal(listeners(), 0);
    const held = await Promise.all(Array.from({ length: 12 }, () => connect()));
    assert.equal(listeners(), 12, 'one listener per open session');
    for (const c of held) c.socket.destroy();
    await allClosed();
    assert.equal(listeners(), 0);
    for (let i = 0; i < 200; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => session((i + j) % 5)));
    }
    await allClosed();
    assert.equal(listeners(), 0, 'every session removed its listener from the shutdown signal');
    assert.deepEqual(
      warnings.filter((w) => w.includes('MaxListeners')),
      [],
    );
  });

  test('autologout: the short timer before login, the long one after it, IDLE included (RFC 9051 5.4, RFC 2177 3)', { timeout: 60_000 }, async () => {
    imapOverride = { preauth_timeout_s: 0.2, idle_timeout_s: 3600 };
    const preauth = await connect();
    assert.match(await preauth.until('* BYE'), /\* BYE Autologout; idle for too long\r\n/);
    await preauth.closed;
    // A long pre-login timer and a short one after login: a logged-in session is cut by the second.
    imapOverride = { preauth_timeout_s: 3600, idle_timeout_s: 0.2 };
    const authed = await connect();
    authed.send(`a1 LOGIN ${USER} ${PASS}\r\n`);
    await authed.until('a1 OK');
    assert.match(await authed.until('* BYE'), /\* BYE Autologout; idle for too long\r\n/);
    await authed.closed;
    const idling = await connect();
    idling.send(`a1 LOGIN ${USER} ${PASS}\r\na2 SELECT INBOX\r\na3 IDLE\r\n`);
    await idling.until('+ idling');
    assert.match(await idling.until('* BYE'), /\* BYE Autologout; idle for too long\r\n/);
    await idling.closed;
    imapOverride = {};
    await allClosed();
    assert.equal(listeners(), 0);
  });

  test('shutdown: BYE [UNAVAILABLE] before login, when authenticated, in IDLE and in the middle of a literal; no listener left', { timeout: 60_000 }, async () => {
    const preauth = await connect();
    const authed = await connect();
    authed.send(`a1 LOGIN ${USER} ${PASS}\r\n`);
    await authed.until('a1 OK');
    const idling = await connect();
    idling.send(`a1 LOGIN ${USER} ${PASS}\r\na2 SELECT INBOX\r\na3 IDLE\r\n`);
    await idling.until('+ idling');
    const literal = await connect();
    literal.send(`a1 LOGIN ${USER} ${PASS}\r\na2 APPEND INBOX {200000}\r\n`);
    await literal.until('+ Ready');
    literal.send(Buffer.alloc(100_000, 0x62));
    assert.equal(listeners(), 4);
    ac.abort();
    for (const c of [preauth, authed, idling, literal]) {
      assert.match(await c.until('* BYE'), /\* BYE \[UNAVAILABLE\] Server shutting down\r\n/);
      await c.closed;
    }
    await allClosed();
    assert.equal(listeners(), 0);
  });
});
