import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { Writable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../log/logger.js';
import { ListenError, limitKey, startListeners, type ListenerSpec, type Session } from './listeners.js';
import { loadTlsMaterial } from './tls.js';
import { httpProtocol } from '../http/server.js';
import type { Services } from '../services.js';
import { connect } from '../../test/harness/transcript.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(JSON.parse(String(chunk))), cb()) });
  return { lines, log: createLogger({ level: 'debug', destination: sink }) };
}

const any = { host: '127.0.0.1', port: 0 };
const ctxBase = { connectionsPerIp: 50, shutdownTimeoutMs: 2000 };

test('binds port 0, logs the real address, gives each connection its own session', async () => {
  const { lines, log } = capture();
  const sessions: Session[] = [];
  const spec: ListenerSpec = { name: 'echo', address: any, tls: 'none', handler: (s, session) => (sessions.push(session), s.end(`hello ${session.id}\r\n`)) };
  const l = await startListeners([spec], { ...ctxBase, log });
  const port = l.addresses.echo.port;
  assert.ok(port > 0);
  assert.deepEqual(
    lines.filter((x) => x.msg === 'listening').map((x) => [x.listener, x.address]),
    [['echo', `127.0.0.1:${port}`]],
  );
  const a = await connect(port);
  const b = await connect(port);
  assert.match(await a.readLine(), /^hello [\w-]{8}\r\n$/);
  await b.readLine();
  assert.equal(sessions.length, 2);
  assert.notEqual(sessions[0].id, sessions[1].id);
  assert.equal(sessions[0].remoteAddress, '127.0.0.1');
  assert.ok(lines.some((x) => x.msg === 'connect' && x.session === sessions[0].id && x.listener === 'echo'));
  await l.close();
});

test('per-IP limit: over it the busy line is sent and the connection closed', async () => {
  const { log } = capture();
  const held: net.Socket[] = [];
  const spec: ListenerSpec = { name: 'hold', address: any, tls: 'none', busyLine: '421 busy\r\n', handler: (s) => (held.push(s), s.write('hi\r\n')) };
  const l = await startListeners([spec], { ...ctxBase, connectionsPerIp: 2, log });
  const port = l.addresses.hold.port;
  const c1 = await connect(port);
  const c2 = await connect(port);
  assert.equal(await c1.readLine(), 'hi\r\n');
  assert.equal(await c2.readLine(), 'hi\r\n');
  const c3 = await connect(port);
  assert.equal(await c3.readToEnd(), '421 busy\r\n');
  c1.close();
  await new Promise((r) => held[0].once('close', r));
  const c4 = await connect(port);
  assert.equal(await c4.readLine(), 'hi\r\n', 'a slot freed by a close is reused');
  c2.close();
  c4.close();
  await l.close();
});

test('a taken port is a ListenError with one clear line, and earlier listeners are closed', async () => {
  const { log } = capture();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const taken = (blocker.address() as net.AddressInfo).port;
  const first = await startListeners([{ name: 'probe', address: any, tls: 'none', handler: (s) => s.end() }], { ...ctxBase, log });
  const freePort = first.addresses.probe.port;
  await first.close();
  const specs: ListenerSpec[] = [
    { name: 'first', address: { host: '127.0.0.1', port: freePort }, tls: 'none', handler: (s) => s.end() },
    { name: 'imap', address: { host: '127.0.0.1', port: taken }, tls: 'none', handler: (s) => s.end() },
  ];
  await assert.rejects(startListeners(specs, { ...ctxBase, log }), (err: unknown) => {
    assert.ok(err instanceof ListenError);
    assert.equal(err.message, `cannot listen on 127.0.0.1:${taken} for imap: address already in use`);
    return true;
  });
  // The first listener was released: its port can be bound again.
  const again = net.createServer();
  await new Promise<void>((resolve, reject) => (again.once('error', reject), again.listen(freePort, '127.0.0.1', resolve)));
  again.close();
  blocker.close();
});

test('implicit TLS: the handler speaks after the handshake; plain listeners beside it speak at once', async () => {
  const { log } = capture();
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-net-'));
  const material = await loadTlsMaterial({ cert: '', key: '', dataDir, hostname: 'mail.example.test', log });
  const sayAndClose = (line: string): ListenerSpec['handler'] => (socket) => void socket.end(line);
  const specs: ListenerSpec[] = [
    { name: 'imaps', address: any, tls: 'implicit', handler: sayAndClose('* BYE [UNAVAILABLE] secure hello\r\n') },
    { name: 'pop3', address: any, tls: 'none', handler: sayAndClose('-ERR [SYS/PERM] plain hello\r\n') },
  ];
  const l = await startListeners(specs, { ...ctxBase, log, tls: material });
  const imaps = await connect(l.addresses.imaps.port, { tls: true });
  assert.equal(await imaps.readToEnd(), '* BYE [UNAVAILABLE] secure hello\r\n');
  const pop3 = await connect(l.addresses.pop3.port);
  assert.equal(await pop3.readToEnd(), '-ERR [SYS/PERM] plain hello\r\n');
  await l.close();
});

/** Opens a raw TCP connection and resolves once it is connected; never speaks TLS. */
function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}
const closedBy = (s: net.Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));

test('connections that never start the TLS handshake count toward the per-IP limit', async () => {
  const { log } = capture();
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-net-'));
  const material = await loadTlsMaterial({ cert: '', key: '', dataDir, hostname: 'mail.example.test', log });
  const specs: ListenerSpec[] = [
    { name: 'imaps', address: any, tls: 'implicit', handler: (s) => void s.end('* OK secure\r\n') },
    { name: 'imap', address: any, tls: 'none', busyLine: '* BYE busy\r\n', handler: (s) => void s.end('* OK plain\r\n') },
  ];
  const l = await startListeners(specs, { ...ctxBase, connectionsPerIp: 2, log, tls: material });
  const silent = [await rawConnect(l.addresses.imaps.port), await rawConnect(l.addresses.imaps.port)];
  const third = await rawConnect(l.addresses.imaps.port);
  third.on('error', () => {});
  await closedBy(third); // destroyed by the server: nothing can be said before TLS
  const plain = await connect(l.addresses.imap.port);
  assert.equal(await plain.readToEnd(), '* BYE busy\r\n', 'the silent TLS sockets hold this address\'s slots');
  for (const s of silent) s.destroy();
  await new Promise((r) => setTimeout(r, 50));
  const after = await connect(l.addresses.imap.port);
  assert.equal(await after.readToEnd(), '* OK plain\r\n', 'freed once they close');
  await l.close();
});

test('total cap: over it mail listeners refuse; the exempt HTTP listener still answers', async () => {
  const { log } = capture();
  const specs: ListenerSpec[] = [
    { name: 'pop3', address: any, tls: 'none', busyLine: '-ERR [SYS/TEMP] busy\r\n', handler: (s) => void s.write('+OK hi\r\n') },
    { name: 'http', address: any, tls: 'none', exemptFromTotal: true, handler: (s) => void s.end('up\n') },
  ];
  const l = await startListeners(specs, { ...ctxBase, connectionsTotal: 2, log });
  const a = await connect(l.addresses.pop3.port);
  const b = await connect(l.addresses.pop3.port);
  assert.equal(await a.readLine(), '+OK hi\r\n');
  assert.equal(await b.readLine(), '+OK hi\r\n');
  const c = await connect(l.addresses.pop3.port);
  assert.equal(await c.readToEnd(), '-ERR [SYS/TEMP] busy\r\n');
  const h = await connect(l.addresses.http.port);
  assert.equal(await h.readToEnd(), 'up\n');
  a.close();
  b.close();
  await l.close();
});

test('limit key: IPv4 as is, IPv6 by its /64', () => {
  const table: [string, string][] = [
    ['192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ];
  assert.deepEqual(table.map(([ip]) => [ip, limitKey(ip)]), table);
});

test('shutdown: sessions are told via the signal; a cooperative one closes at once', async () => {
  const { log } = capture();
  const spec: ListenerSpec = {
    name: 'polite',
    address: any,
    tls: 'none',
    handler: (s, session) => {
      s.write('* OK hi\r\n');
      session.signal.addEventListener('abort', () => s.end('* BYE shutting down\r\n'));
    },
  };
  const l = await startListeners([spec], { ...ctxBase, shutdownTimeoutMs: 30_000, log });
  const c = await connect(l.addresses.polite.port);
  await c.readLine();
  const started = Date.now();
  await l.close();
  assert.ok(Date.now() - started < 5000, 'did not wait for the timeout');
  assert.equal(await c.readToEnd(), '* BYE shutting down\r\n');
  assert.equal(l.openConnections(), 0);
});

test('shutdown: a session that ignores the signal is cut after the timeout', async () => {
  const { lines, log } = capture();
  const spec: ListenerSpec = { name: 'stubborn', address: any, tls: 'none', handler: (s) => s.write('hi\r\n') };
  const l = await startListeners([spec], { ...ctxBase, shutdownTimeoutMs: 300, log });
  const c = await connect(l.addresses.stubborn.port);
  await c.readLine();
  const started = Date.now();
  await l.close();
  const took = Date.now() - started;
  assert.ok(took >= 250 && took < 5000, `took ${took} ms`);
  await c.closed;
  assert.ok(lines.some((x) => x.msg === 'shutdown timeout: closing remaining connections'));
});

test('a handler that throws costs only its connection', async () => {
  const { lines, log } = capture();
  let n = 0;
  const spec: ListenerSpec = {
    name: 'flaky',
    address: any,
    tls: 'none',
    handler: (s) => {
      if (n++ === 0) throw new Error('boom');
      s.end('fine\r\n');
    },
  };
  const l = await startListeners([spec], { ...ctxBase, log });
  const c1 = await connect(l.addresses.flaky.port);
  await c1.closed;
  const c2 = await connect(l.addresses.flaky.port);
  assert.equal(await c2.readToEnd(), 'fine\r\n');
  assert.ok(lines.some((x) => x.msg === 'connection handler failed'));
  await l.close();
});

function get(port: number, path: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

test('HTTP: /healthz is 200 ok, others 404; idle keep-alive connections close promptly on shutdown', async () => {
  const { log } = capture();
  const l = await startListeners([{ name: 'http', address: any, tls: 'none', ...httpProtocol({ log } as Services) }], { ...ctxBase, shutdownTimeoutMs: 30_000, log }); // /healthz needs nothing else
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const port = l.addresses.http.port;
  assert.deepEqual(await get(port, '/healthz', agent), { status: 200, body: 'ok\n' });
  assert.equal((await get(port, '/nope', agent)).status, 404);
  assert.equal(l.openConnections(), 1, 'the keep-alive connection is still open');
  const started = Date.now();
  await l.close();
  assert.ok(Date.now() - started < 5000);
  agent.destroy();
});
