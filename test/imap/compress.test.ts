// COMPRESS=DEFLATE (RFC 4978) over raw sockets: the client side deflates and inflates
// itself, so the exact bytes after the switch are checked, as are pipelining right
// behind the command, IDLE pushes that must not wait in the compressor, TLS under it,
// refusals, and a client that sends garbage instead of DEFLATE.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { deliver, Imap, message, PASS, startImapServer, USER } from './client.js';
import type { RunningTestServer } from '../harness/server.js';

let server: RunningTestServer;
before(async () => {
  server = await startImapServer();
});
after(async () => {
  await server?.stop();
});

/** A client that speaks plain IMAP until `startDeflate()`, then raw DEFLATE both ways. */
class RawClient {
  private plain = Buffer.alloc(0);
  private text = '';
  private inflate: zlib.InflateRaw | undefined;
  private deflate: zlib.DeflateRaw | undefined;
  private waiters: (() => void)[] = [];
  closed = false;
  /** Compressed bytes received after the switch. */
  compressedBytes = 0;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.inflate) {
        this.compressedBytes += chunk.length;
        this.inflate.write(chunk);
      } else this.received(chunk);
    });
    socket.on('close', () => {
      // zlib inflates off the main thread: what arrived last may still be coming out of it.
      if (!this.inflate) return void ((this.closed = true), this.wake());
      this.inflate.once('close', () => ((this.closed = true), this.wake()));
      this.inflate.end();
    });
    socket.on('error', () => {});
  }

  static async open(port: number, useTls = false): Promise<RawClient> {
    const socket = useTls ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once(useTls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const c = new RawClient(socket);
    await c.readUntil(/\r\n/);
    return c;
  }

  private received(chunk: Buffer): void {
    this.plain = Buffer.concat([this.plain, chunk]);
    this.text = this.plain.toString('latin1');
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** From now on: what is sent is deflated (sync-flushed per send), what arrives is inflated. */
  startDeflate(leftover?: Buffer): void {
    this.inflate = zlib.createInflateRaw();
    this.inflate.on('data', (d: Buffer) => this.received(d));
    this.inflate.on('error', () => {});
    this.deflate = zlib.createDeflateRaw();
    this.deflate.on('data', (d: Buffer) => this.socket.write(d));
    if (leftover && leftover.length > 0) this.inflate.write(leftover);
  }

  /** The bytes `text` becomes on the wire once compressed (sync-flushed), without sending. */
  compressNow(text: string): Buffer {
    return zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  }

  send(data: string | Buffer): void {
    if (this.deflate) {
      this.deflate.write(data);
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    } else this.socket.write(data);
  }

  sendRaw(data: Buffer): void {
    this.socket.write(data);
  }

  /** Everything up to and including the first match of `re`, removed from what was received. */
  async readUntil(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const m = re.exec(this.text);
      if (m) {
        const end = m.index + m[0].length;
        const out = this.text.slice(0, end);
        this.plain = this.plain.subarray(Buffer.byteLength(out, 'latin1'));
        this.text = this.plain.toString('latin1');
        return out;
      }
      const left = deadline - Date.now();
      if (this.closed || left <= 0) throw new Error(`readUntil(${re}): ${this.closed ? 'closed' : 'timeout'}; received ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  async cmd(tag: string, command: string): Promise<string> {
    this.send(`${tag} ${command}\r\n`);
    return this.readUntil(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`));
  }

  /** Sends COMPRESS DEFLATE uncompressed, reads the plain OK, and switches. */
  async compress(tag = 'z'): Promise<string> {
    this.socket.write(`${tag} COMPRESS DEFLATE\r\n`);
    return this.switchAfterOk(tag);
  }

  /** Reads the plain tagged OK of COMPRESS and inflates everything after it. */
  async switchAfterOk(tag: string): Promise<string> {
    const ok = await this.readUntil(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`));
    const rest = this.plain; // bytes after the OK are already compressed
    this.plain = Buffer.alloc(0);
    this.text = '';
    this.startDeflate(rest);
    return ok;
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('COMPRESS=DEFLATE', { timeout: 60_000 }, () => {
  test('advertised after login only; the OK is plain, then both directions are DEFLATE', async () => {
    const c = await RawClient.open(server.ports.imap!);
    const pre = await c.cmd('a', 'CAPABILITY');
    assert.doesNotMatch(pre, /COMPRESS=DEFLATE/);
    assert.match(await c.cmd('b', 'COMPRESS DEFLATE'), /^b BAD .*COMPRESS is not allowed before login/m);
    const login = await c.cmd('c', `LOGIN ${USER} ${PASS}`);
    assert.match(login, /COMPRESS=DEFLATE/);
    assert.equal(await c.compress('d'), 'd OK DEFLATE active\r\n');
    const sel = await c.cmd('e', 'SELECT INBOX');
    assert.match(sel, /\* OK \[UIDVALIDITY \d+\]/);
    assert.match(sel, /e OK \[READ-WRITE\]/);
    assert.ok(c.compressedBytes > 0, 'the reply came compressed');
    // a second COMPRESS: NO [COMPRESSIONACTIVE] (RFC 4978 3), still compressed
    assert.match(await c.cmd('f', 'COMPRESS DEFLATE'), /^f NO \[COMPRESSIONACTIVE\] /m);
    assert.match(await c.cmd('g', 'NOOP'), /^g OK /m);
    c.send('h LOGOUT\r\n');
    assert.match(await c.readUntil(/h OK [^\r\n]*\r\n/), /\* BYE /);
    await new Promise((r) => setTimeout(r, 50));
    c.close();
  });

  test('unknown mechanism and missing argument are BAD', async () => {
    const c = await RawClient.open(server.ports.imap!);
    await c.cmd('a', `LOGIN ${USER} ${PASS}`);
    assert.match(await c.cmd('b', 'COMPRESS GZIP'), /^b BAD \[CLIENTBUG\] Unknown compression mechanism GZIP/m);
    assert.match(await c.cmd('c', 'COMPRESS'), /^c BAD /m);
    assert.match(await c.cmd('d', 'NOOP'), /^d OK /m, 'still uncompressed');
    c.close();
  });

  test('commands compressed right behind COMPRESS in the same packet are answered, each flushed at once', async () => {
    const c = await RawClient.open(server.ports.imap!);
    await c.cmd('a', `LOGIN ${USER} ${PASS}`);
    // one deflate stream: its first sync-flushed piece goes in the same write as the command
    const deflate = zlib.createDeflateRaw();
    const pieces: Buffer[] = [];
    deflate.on('data', (d: Buffer) => pieces.push(d));
    const flushed = (text: string) =>
      new Promise<Buffer>((resolve) => {
        deflate.write(text);
        deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(pieces.splice(0))));
      });
    const first = await flushed('b NOOP\r\nc STATUS INBOX (MESSAGES)\r\n');
    c.sendRaw(Buffer.concat([Buffer.from('z COMPRESS DEFLATE\r\n'), first]));
    assert.equal(await c.switchAfterOk('z'), 'z OK DEFLATE active\r\n');
    const replies = await c.readUntil(/c OK [^\r\n]*\r\n/);
    assert.match(replies, /^b OK NOOP completed\r\n\* STATUS "INBOX" \(MESSAGES \d+\)\r\nc OK /);
    // the same stream goes on: the server kept its inflater across packets
    c.sendRaw(await flushed('d NOOP\r\n'));
    assert.match(await c.readUntil(/d OK [^\r\n]*\r\n/), /^d OK /);
    c.close();
  });

  test('an IDLE push arrives without any client traffic (flushed, not held in the compressor)', async () => {
    const c = await RawClient.open(server.ports.imap!);
    await c.cmd('a', `LOGIN ${USER} ${PASS}`);
    await c.compress();
    const sel = await c.cmd('b', 'SELECT INBOX');
    const exists = Number(/\* (\d+) EXISTS/.exec(sel)![1]);
    c.send('c IDLE\r\n');
    await c.readUntil(/\+ [^\r\n]*\r\n/);
    await deliver(server, message('pushed while compressed'));
    assert.match(await c.readUntil(/\* \d+ EXISTS\r\n/, 15_000), new RegExp(`\\* ${exists + 1} EXISTS`));
    c.send('DONE\r\n');
    assert.match(await c.readUntil(/c OK [^\r\n]*\r\n/), /c OK /);
    c.close();
  });

  test('works under implicit TLS, with a large FETCH body spanning many deflate blocks', async () => {
    const big = 'x'.repeat(70) + '\r\n';
    await deliver(server, message('big compressed', big.repeat(20_000)));
    const c = await RawClient.open(server.ports.imaps!, true);
    await c.cmd('a', `LOGIN ${USER} ${PASS}`);
    await c.compress();
    await c.cmd('b', 'SELECT INBOX');
    const r = await c.cmd('c', 'UID SEARCH SUBJECT "big compressed"');
    const uid = /\* SEARCH (\d+)/.exec(r)![1];
    c.send(`d UID FETCH ${uid} (BODY.PEEK[TEXT])\r\n`);
    const body = await c.readUntil(/d OK [^\r\n]*\r\n/, 30_000);
    const m = /BODY\[TEXT\] \{(\d+)\}\r\n/.exec(body)!;
    assert.equal(Number(m[1]), big.length * 20_000 + 2);
    assert.ok(body.includes(big.repeat(100)));
    assert.ok(c.compressedBytes < (big.length * 20_000) / 10, `compressed well: ${c.compressedBytes} bytes`);
    c.close();
  });

  test('garbage instead of DEFLATE ends that connection only', async () => {
    const c = await RawClient.open(server.ports.imap!);
    await c.cmd('a', `LOGIN ${USER} ${PASS}`);
    await c.compress();
    c.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x13, 0x37, 0xfe, 0xed]));
    await new Promise<void>((resolve) => (c.closed ? resolve() : c.socket.once('close', () => resolve())));
    const other = await Imap.open(server.ports.imap!);
    assert.match(await other.ok('NOOP'), /OK/);
    other.close();
  });
});
