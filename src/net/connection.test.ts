// The connection layer, mode by mode (table tests on TCP and on an exact-chunk Duplex
// pair), then its lifecycle: STARTTLS, shutdown, timeout, backpressure both ways,
// listener cleanup, and sockets handed over by the PROXY-protocol path.
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { createLogger } from '../log/logger.js';
import { DataDecoder } from '../smtp/protocol/data-decoder.js';
import { Connection, ConnectionClosed, type LineResult } from './connection.js';
import { pair, received, tcpSockets, writeChunks, type Transport } from './connection-pairs.test-helper.js';
import { startListeners } from './listeners.js';
import { parseTrustedNetworks } from './proxy-protocol.js';
import { loadTlsMaterial } from './tls.js';

const TRANSPORTS: Transport[] = ['tcp', 'duplex'];
const TOO_LONG = Symbol('tooLong');
const tick = () => new Promise<void>((r) => setImmediate(r));
const slow = async () => {
  for (let i = 0; i < 3; i++) await tick();
};
const show = (r: LineResult) => ('tooLong' in r ? TOO_LONG : r.line.toString('latin1'));

async function rejectsClosed(p: Promise<unknown>, reason: ConnectionClosed['reason']): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof ConnectionClosed && err.reason === reason);
}

const silentLog = () => createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

for (const transport of TRANSPORTS) {
  describe(`connection over ${transport}`, () => {
    const lineRows: [string, (string | Buffer)[], number, (string | typeof TOO_LONG)[]][] = [
      ['CRLF and bare LF end lines', ['a\r\nb\nc\r\n'], 100, ['a', 'b', 'c']],
      ['CR and LF in different chunks', ['a\r', '\nb', '\r\n'], 100, ['a', 'b']],
      ['one byte at a time', [...'HELO x\r\nNOOP\r\n'], 100, ['HELO x', 'NOOP']],
      ['a bare CR does not end a line', ['a\rb\r\n'], 100, ['a\rb']],
      ['an empty line', ['\r\n\n'], 100, ['', '']],
      ['at the limit (CR counts, LF does not)', ['x'.repeat(10) + '\r\n'], 11, ['x'.repeat(10)]],
      ['one byte over the limit', ['x'.repeat(10) + '\r\n'], 10, [TOO_LONG]],
      ['over-long line in many chunks, consumed to its end', ['y'.repeat(50), 'y'.repeat(50), 'y\r\nnext\r\n'], 20, [TOO_LONG, 'next']],
      ['over-long line and its LF in one chunk', ['z'.repeat(300) + '\nafter\n'], 20, [TOO_LONG, 'after']],
    ];
    for (const [name, chunks, max, expected] of lineRows) {
      it(`readLine: ${name}`, async () => {
        const { conn, client } = await pair(transport);
        const writing = writeChunks(client, chunks).then(() => client.end());
        const got = [];
        for (let i = 0; i < expected.length; i++) got.push(show(await conn.readLine(max)));
        assert.deepEqual(got, expected);
        await writing;
        await rejectsClosed(conn.readLine(max), 'eof');
        conn.destroy();
      });
    }

    it('readLine: a line cut off by the end of input is not returned', async () => {
      const { conn, client } = await pair(transport);
      client.end('QUIT');
      await rejectsClosed(conn.readLine(100), 'eof');
      conn.destroy();
    });

    it('answer: the answers to a pipelined group leave in one write, after the last command', async () => {
      const { conn, client } = await pair(transport);
      const out = received(client);
      const chunks: string[] = [];
      client.on('data', (c: Buffer) => chunks.push(c.toString('latin1')));
      await writeChunks(client, ['MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n']);
      for (const reply of ['250 2.1.0 Ok\r\n', '250 2.1.5 Ok\r\n', '354 Go ahead\r\n']) {
        await conn.readLine(100);
        await conn.answer(reply);
      }
      assert.equal(await out.until('354 Go ahead\r\n'), '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 Go ahead\r\n');
      if (transport === 'duplex') assert.deepEqual(chunks, ['250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 Go ahead\r\n'], 'one write for the group');
      conn.destroy();
    });

    it('answer: a held answer goes out before a read waits, and ahead of later writes and the last words', async () => {
      const { conn, client } = await pair(transport);
      const out = received(client);
      await writeChunks(client, ['NOOP\r\nNOOP\r\n']);
      await conn.readLine(100);
      await conn.answer('250 first\r\n'); // held: the second NOOP is buffered
      await conn.readLine(100);
      const waiting = conn.readLine(100); // nothing buffered: the held answer must leave now
      assert.equal(await out.until('250 first\r\n'), '250 first\r\n');
      await writeChunks(client, ['NOOP\r\nNOOP\r\n']);
      await waiting;
      await conn.answer('250 second\r\n'); // held again
      await conn.write(Buffer.from('body\r\n'));
      await conn.readLine(100);
      await conn.answer('250 third\r\n'); // nothing buffered: written at once
      assert.equal(await out.until('250 third\r\n'), '250 first\r\n250 second\r\nbody\r\n250 third\r\n');
      await writeChunks(client, ['QUIT\r\nNOOP\r\n']);
      await conn.readLine(100);
      await conn.answer('221 bye\r\n'); // held: NOOP is buffered
      conn.end('421 closing\r\n');
      assert.equal(await out.until('421 closing\r\n'), '250 first\r\n250 second\r\nbody\r\n250 third\r\n221 bye\r\n421 closing\r\n');
      conn.destroy();
    });

    it('lineBuffered: true only while a whole line is unread', async () => {
      const { conn, client } = await pair(transport);
      assert.equal(conn.lineBuffered, false);
      await writeChunks(client, ['RETR 1\r\nRETR']);
      while (conn.buffered < 11) await tick(); // the bytes reach the server's buffer (no read is waiting)
      assert.equal(conn.lineBuffered, true);
      assert.equal(show(await conn.readLine(100)), 'RETR 1');
      assert.equal(conn.lineBuffered, false, 'a partial line: readLine would wait');
      await writeChunks(client, [' 2\n']);
      assert.equal(show(await conn.readLine(100)), 'RETR 2');
      conn.destroy();
    });

    const exactRows: [string, (string | Buffer)[], number, string, string][] = [
      ['literal in the same chunk as its line', ['LIT\r\nabc\r\nnext\r\n'], 5, 'abc\r\n', 'next'],
      ['literal one byte at a time', ['LIT\r\n', ...'a\r\n.\r\n', 'next\r\n'], 6, 'a\r\n.\r\n', 'next'],
      ['empty literal', ['LIT\r\nnext\r\n'], 0, '', 'next'],
      ['literal glued to the next line', ['LIT\r\n', 'xyznext\r\n'], 3, 'xyz', 'next'],
    ];
    for (const [name, chunks, n, literal, next] of exactRows) {
      it(`readExactly: ${name}`, async () => {
        const { conn, client } = await pair(transport);
        const writing = writeChunks(client, chunks);
        assert.equal(show(await conn.readLine(100)), 'LIT');
        const pieces: Buffer[] = [];
        await conn.readExactly(n, async (piece) => {
          await slow();
          pieces.push(piece);
        });
        assert.equal(Buffer.concat(pieces).toString('latin1'), literal);
        assert.equal(show(await conn.readLine(100)), next);
        await writing;
        conn.destroy();
      });
    }

    const dataRows: [string, (string | Buffer)[], string][] = [
      ['terminator glued to data and the next command', ['a\r\n.\r\nQUIT\r\n'], 'a\r\n'],
      ['terminator alone', ['a\r\n', '.\r\n', 'QUIT\r\n'], 'a\r\n'],
      ['terminator split', ['a\r\n.', '\r', '\nQUIT\r\n'], 'a\r\n'],
      ['dot-stuffing removed', ['..dot\r\n...\r\n.\r\nQUIT\r\n'], '.dot\r\n..\r\n'],
      ['empty message', ['.\r\nQUIT\r\n'], ''],
      ['one byte at a time', [...'x\r\n.y\r\n.\r\nQUIT\r\n'], 'x\r\ny\r\n'],
    ];
    for (const [name, chunks, body] of dataRows) {
      it(`readUntilTerminator: ${name}`, async () => {
        const { conn, client } = await pair(transport);
        const writing = writeChunks(client, chunks);
        const out: Buffer[] = [];
        await conn.readUntilTerminator(new DataDecoder({ mode: 'dot', binary: false }), async (c) => {
          await slow();
          out.push(Buffer.from(c));
        });
        assert.equal(Buffer.concat(out).toString('latin1'), body);
        assert.equal(show(await conn.readLine(100)), 'QUIT');
        await writing;
        conn.destroy();
      });
    }

    for (const size of [400 * 1024, 1024 * 1024]) {
      it(`readUntilTerminator: ${size / 1024} KB with CRLF.CRLF in the same write as the last data, slow consumer (issue 9)`, async () => {
        const { conn, client } = await pair(transport);
        const line = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2) + '\r\n';
        const body = line.repeat(Math.ceil(size / line.length));
        client.write(`${body}.\r\nQUIT\r\n`);
        const hash = createHash('sha256');
        let n = 0;
        await conn.readUntilTerminator(new DataDecoder({ mode: 'dot', binary: false }), async (c) => {
          hash.update(c);
          n += c.length;
          await new Promise((r) => setTimeout(r, 1));
        });
        assert.equal(n, body.length);
        assert.equal(hash.digest('hex'), createHash('sha256').update(body).digest('hex'));
        assert.equal(show(await conn.readLine(100)), 'QUIT');
        conn.destroy();
      });
    }

    it('writes: send, writeMany (corked), write; all arrive in order', async () => {
      const { conn, client } = await pair(transport);
      const got = received(client);
      await conn.send('220 hello\r\n');
      await conn.writeMany(['250-a\r\n', Buffer.from('250-b\r\n'), '250 c\r\n']);
      await conn.write(Buffer.from('tail\r\n'));
      assert.equal(await got.until('tail\r\n'), '220 hello\r\n250-a\r\n250-b\r\n250 c\r\ntail\r\n');
      conn.destroy();
    });

    it('a shutdown wakes a waiting read, runs onShutdown, and the session can still say goodbye', async () => {
      const ac = new AbortController();
      const { conn, client } = await pair(transport, { signal: ac.signal });
      const got = received(client);
      let told = 0;
      conn.onShutdown(() => told++);
      const reading = conn.readLine(100);
      ac.abort();
      await rejectsClosed(reading, 'shutdown');
      assert.equal(told, 1);
      conn.end('421 bye\r\n');
      assert.equal(await got.until('421 bye\r\n'), '421 bye\r\n');
      await conn.closed;
      assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    });

    it('the idle timeout wakes a waiting read; buffered input is still read first', async () => {
      const { conn, client } = await pair(transport, { idleTimeoutMs: 50 });
      client.write('NOOP\r\nHAL');
      assert.equal(show(await conn.readLine(100)), 'NOOP');
      await rejectsClosed(conn.readLine(100), 'timeout');
      conn.destroy();
    });
  });
}

test('setIdleTimeout applies to the next wait', async () => {
  const { conn } = await pair('tcp', { idleTimeoutMs: 60_000 });
  conn.setIdleTimeout(30);
  await rejectsClosed(conn.readLine(100), 'timeout');
  conn.destroy();
});

test('a signal aborted before the connection starts fails the first read with shutdown', async () => {
  const ac = new AbortController();
  ac.abort();
  const { conn } = await pair('tcp', { signal: ac.signal });
  await rejectsClosed(conn.readLine(100), 'shutdown');
  conn.destroy();
});

test('read backpressure: the socket pauses above highWater, and every byte still arrives to a slow reader', async () => {
  const highWater = 64 * 1024;
  const { conn, client } = await pair('tcp', { highWater });
  const total = 4 * 1024 * 1024;
  const data = Buffer.alloc(total, 0x61);
  client.write(data);
  // Wait (by events, not time) until the server buffered more than highWater.
  while (conn.buffered <= highWater) await new Promise((r) => setTimeout(r, 5));
  assert.equal(conn.socket.isPaused(), true);
  let n = 0;
  let maxBuffered = 0;
  await conn.readExactly(total, async (piece) => {
    n += piece.length;
    maxBuffered = Math.max(maxBuffered, conn.buffered);
    await tick();
  });
  assert.equal(n, total);
  // The bound: highWater plus what was already in flight when the socket paused.
  assert.ok(maxBuffered <= highWater + 1024 * 1024, `buffered up to ${maxBuffered}`);
  conn.destroy();
});

test('write backpressure: write() waits for drain while the client does not read', async () => {
  const { conn, client } = await pair('tcp');
  client.pause();
  const piece = Buffer.alloc(64 * 1024, 0x62);
  let pending = true;
  const writing = (async () => {
    for (let i = 0; i < 160; i++) {
      await conn.write(piece);
      assert.ok(conn.socket.writableLength <= conn.socket.writableHighWaterMark + piece.length, `queued ${conn.socket.writableLength}`);
    }
    pending = false;
  })();
  // 10 MB cannot fit in the kernel buffers of a paused client: the writer must be waiting.
  while (conn.socket.writableLength === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(pending, true);
  let got = 0;
  client.on('data', (c: Buffer) => (got += c.length));
  client.resume();
  await writing;
  while (got < 160 * piece.length) await new Promise((r) => setTimeout(r, 5));
  assert.equal(got, 160 * piece.length);
  conn.destroy();
});

test('a client that stops reading is cut off after the idle timeout: the waiting write resolves, reads fail with timeout', async () => {
  const { conn, client } = await pair('tcp', { idleTimeoutMs: 60_000 });
  client.pause();
  conn.setIdleTimeout(50);
  const piece = Buffer.alloc(64 * 1024, 0x63);
  let writes = 0;
  while (!conn.gone && writes < 1000) {
    await conn.write(piece); // resolves at once while the buffers take it, then waits for drain or the cut
    writes++;
  }
  assert.equal(conn.gone, true, 'the stalled connection was closed');
  assert.equal(conn.cutForNotReading, true);
  await rejectsClosed(conn.readLine(100), 'timeout');
  await conn.closed;
  client.destroy();
});

test('a slow reader that keeps reading is not cut off', async () => {
  const { conn, client } = await pair('tcp', { idleTimeoutMs: 60_000 });
  conn.setIdleTimeout(200);
  let got = 0;
  client.on('data', (c: Buffer) => {
    got += c.length;
    client.pause();
    setTimeout(() => client.resume(), 5); // reads, slowly, well within the timeout each time
  });
  const piece = Buffer.alloc(64 * 1024, 0x64);
  for (let i = 0; i < 64; i++) await conn.write(piece);
  assert.equal(conn.gone, false);
  assert.equal(conn.cutForNotReading, false);
  while (got < 64 * piece.length) await new Promise((r) => setTimeout(r, 5));
  conn.destroy();
});

test('sendConfirmed: true while the client is there, false once it is gone; closed and onClose fire', async () => {
  const { conn, client } = await pair('tcp');
  assert.equal(await conn.sendConfirmed('250 ok\r\n'), true);
  let closes = 0;
  conn.onClose(() => closes++);
  client.destroy();
  await conn.closed;
  assert.equal(conn.gone, true);
  assert.equal(await conn.sendConfirmed('250 late\r\n'), false);
  assert.equal(closes, 1);
  await conn.send('ignored\r\n'); // writing to a gone connection is a no-op, not an error
});

test('every listener is removed on close: signal listener count back to 0, no MaxListenersExceededWarning', async () => {
  const ac = new AbortController();
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const baseline = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const { server, client } = await tcpSockets();
      if (i === 0) for (const e of ['data', 'end', 'error', 'close', 'drain']) baseline.set(e, server.listenerCount(e));
      const conn = new Connection(server, { idleTimeoutMs: 10_000, signal: ac.signal });
      client.resume(); // a reading client, so it sees the server's FIN and closes its side
      assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
      client.write('NOOP\r\n');
      await conn.readLine(100);
      await conn.send('250 ok\r\n');
      if (i % 2 === 0) client.destroy(); // the client leaves
      else conn.end('221 bye\r\n'); // the server closes
      await conn.closed;
      client.destroy();
      for (const [e, n] of baseline) assert.equal(server.listenerCount(e), n, `${e} listeners left on the socket`);
      assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    }
    await tick();
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning'), []);
  } finally {
    process.off('warning', onWarning);
  }
});

describe('TLS', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-conn-'));
  const material = await loadTlsMaterial({ cert: '', key: '', dataDir, hostname: 'mail.example.test', log: silentLog() });
  const secureContext = tls.createSecureContext({ cert: material.cert, key: material.key });

  it('STARTTLS: plaintext pipelined after the command is dropped; reads go on over TLS', async () => {
    const { conn, client } = await pair('tcp');
    (client as net.Socket).write('STARTTLS\r\nRCPT TO:<injected@evil.test>\r\n');
    assert.equal(show(await conn.readLine(100)), 'STARTTLS');
    await conn.send('220 go ahead\r\n');
    const switching = conn.startTls(secureContext);
    const got = received(client);
    await got.until('220 go ahead\r\n');
    client.removeAllListeners('data');
    const secure = tls.connect({ socket: client as net.Socket, rejectUnauthorized: false });
    await new Promise((r) => secure.once('secureConnect', r));
    await switching;
    assert.equal(conn.secure, true);
    secure.write('EHLO after\r\n');
    assert.equal(show(await conn.readLine(100)), 'EHLO after');
    const reply = received(secure);
    await conn.send('250 secure\r\n');
    await reply.until('250 secure\r\n');
    secure.destroy();
    await conn.closed;
  });

  it('STARTTLS: a client that never shakes hands gets ConnectionClosed, and the connection closes', async () => {
    const { conn, client } = await pair('tcp', { idleTimeoutMs: 100 });
    (client as net.Socket).write('not a client hello, and more than five bytes\r\n');
    await assert.rejects(conn.startTls(secureContext), ConnectionClosed);
    await conn.closed;
  });

  it('sockets handed over by the PROXY-protocol path (plain and implicit TLS) read the bytes glued to the header', async () => {
    const trusted = parseTrustedNetworks('127.0.0.1/32');
    const handler = (socket: net.Socket) => {
      const conn = new Connection(socket, { idleTimeoutMs: 10_000 });
      void (async () => {
        const got = await conn.readLine(100);
        await conn.send(`echo ${show(got).toString()} ${conn.secure ? 'tls' : 'plain'}\r\n`);
        conn.end();
      })().catch(() => conn.destroy());
    };
    const l = await startListeners(
      [
        { name: 'plain', address: { host: '127.0.0.1', port: 0 }, tls: 'none', handler, proxy: { trusted } },
        { name: 'tls', address: { host: '127.0.0.1', port: 0 }, tls: 'implicit', handler, proxy: { trusted } },
      ],
      { log: silentLog(), tls: { cert: material.cert, key: material.key }, connectionsPerIp: 10, shutdownTimeoutMs: 2000 },
    );
    try {
      const header = 'PROXY TCP4 192.0.2.1 192.0.2.2 1234 25\r\n';
      const plain = net.connect(l.addresses.plain.port, '127.0.0.1');
      const plainGot = received(plain);
      plain.write(header + 'HELLO\r\n'); // header and first command in one segment
      assert.equal(await plainGot.until('\r\n'), 'echo HELLO plain\r\n');
      plain.destroy();

      const raw = net.connect(l.addresses.tls.port, '127.0.0.1');
      await new Promise((r) => raw.once('connect', r));
      raw.write(header);
      const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
      await new Promise((r) => secure.once('secureConnect', r));
      const secureGot = received(secure);
      secure.write('HELLO\r\n');
      assert.equal(await secureGot.until('\r\n'), 'echo HELLO tls\r\n');
      secure.destroy();
    } finally {
      await l.close();
    }
  });
});
