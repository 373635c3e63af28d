// APPEND framing over raw sockets (issue 9): big literals whose closing CRLF arrives in a
// separate packet after a pause, twice in a row on one connection, synchronizing and
// {n+}; ten clients appending at once; python's imaplib (which sends the literal and the
// CRLF in two writes). Every message is fetched back and compared byte for byte.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import type { RunningTestServer } from '../harness/server.js';
import { PASS, startImapServer, USER } from './client.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A message of exactly `size` bytes: headers, then random base64 lines, all CRLF. */
function makeMessage(size: number, id: string): Buffer {
  const head = `From: Bob <bob@example.test>\r\nTo: ${USER}\r\nSubject: ${id}\r\nMessage-ID: <${id}.${size}@example.test>\r\n\r\n`;
  const random = randomBytes(Math.ceil(size * 0.8) + 64).toString('base64');
  const lines: string[] = [];
  let room = size - head.length;
  let at = 0;
  while (room > 80) {
    lines.push(`${random.slice(at, at + 76)}\r\n`); // 78 bytes a line, so 3..80 are left at the end
    at += 76;
    room -= 78;
  }
  lines.push(`${random.slice(at, at + room - 2)}\r\n`);
  const out = Buffer.from(head + lines.join(''), 'latin1');
  assert.equal(out.length, size);
  return out;
}

/** A raw IMAP client: exact writes, reads by pattern or by byte count. */
class Raw {
  private buf: Buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private ended = false;
  private tagNo = 0;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = this.buf.length === 0 ? c : Buffer.concat([this.buf, c]);
      this.wake();
    });
    const end = () => ((this.ended = true), this.wake());
    socket.on('close', end);
    socket.on('error', end);
  }

  static async open(port: number, login = true): Promise<Raw> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new Raw(socket);
    await c.until(/\r\n/);
    if (login) await c.ok(`LOGIN ${USER} ${PASS}`);
    return c;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async more(what: string): Promise<void> {
    if (this.ended) throw new Error(`connection closed while waiting for ${what}; have ${JSON.stringify(this.buf.subarray(-300).toString('latin1'))}`);
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Reads through the first match of `re` (latin1) and returns that text. */
  async until(re: RegExp): Promise<RegExpExecArray & { text: string }> {
    for (;;) {
      const text = this.buf.toString('latin1');
      const m = re.exec(text);
      if (m) {
        const end = m.index + m[0].length;
        this.buf = this.buf.subarray(end);
        return Object.assign(m, { text: text.slice(0, end) });
      }
      await this.more(String(re));
    }
  }

  async bytes(n: number): Promise<Buffer> {
    while (this.buf.length < n) await this.more(`${n} bytes`);
    const out = Buffer.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    return out;
  }

  tag(): string {
    return `r${++this.tagNo}`;
  }

  async tagged(tag: string): Promise<{ status: string; line: string; text: string }> {
    const m = await this.until(new RegExp(`(?:^|\\r\\n)${tag} (OK|NO|BAD)([^\\r\\n]*)\\r\\n`));
    return { status: m[1], line: `${m[1]}${m[2]}`, text: m.text };
  }

  async ok(command: string): Promise<string> {
    const tag = this.tag();
    this.write(`${tag} ${command}\r\n`);
    const r = await this.tagged(tag);
    assert.equal(r.status, 'OK', `${command} → ${r.text}`);
    return r.text;
  }

  /**
   * APPEND with the literal and the closing CRLF as separate writes (after `gapMs`);
   * returns the UID from APPENDUID.
   */
  async append(mailbox: string, msg: Buffer, opts: { nonSync: boolean; gapMs: number }): Promise<number> {
    const tag = this.tag();
    if (opts.nonSync) {
      this.write(`${tag} APPEND ${mailbox} {${msg.length}+}\r\n`);
    } else {
      this.write(`${tag} APPEND ${mailbox} {${msg.length}}\r\n`);
      await this.until(/(?:^|\r\n)\+ [^\r\n]*\r\n/);
    }
    this.write(msg);
    if (opts.gapMs > 0) await pause(opts.gapMs);
    this.write('\r\n');
    const r = await this.tagged(tag);
    assert.equal(r.status, 'OK', `APPEND of ${msg.length} bytes → ${r.line}`);
    const m = /\[APPENDUID \d+ (\d+)\]/.exec(r.line);
    assert.ok(m, r.line);
    return Number(m[1]);
  }

  /** UID FETCH uid BODY.PEEK[] of the selected mailbox: the literal's bytes. */
  async body(uid: number): Promise<Buffer> {
    const tag = this.tag();
    this.write(`${tag} UID FETCH ${uid} BODY.PEEK[]\r\n`);
    const m = await this.until(/BODY\[\] \{(\d+)\}\r\n/);
    const data = await this.bytes(Number(m[1]));
    const r = await this.tagged(tag);
    assert.equal(r.status, 'OK', r.line);
    return data;
  }

  close(): void {
    this.socket.destroy();
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('IMAP APPEND framing (issue 9)', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startImapServer();
  });
  after(async () => {
    await server?.stop();
  });

  for (const nonSync of [false, true]) {
    for (const size of [100 * 1024, 400 * 1024, 1024 * 1024, 5 * 1024 * 1024]) {
      test(`APPEND ${size} bytes ${nonSync ? '{n+}' : '{n}'}, closing CRLF after a pause, twice on one connection`, { timeout: 120_000 }, async () => {
        const c = await Raw.open(server.ports.imap!);
        const box = `Big${size}${nonSync ? 'plus' : 'sync'}`;
        await c.ok(`CREATE ${box}`);
        const sent: [number, Buffer][] = [];
        for (let i = 0; i < 2; i++) {
          const msg = makeMessage(size, `big-${size}-${nonSync}-${i}`);
          sent.push([await c.append(box, msg, { nonSync, gapMs: 150 }), msg]);
        }
        await c.ok(`SELECT ${box}`);
        for (const [uid, msg] of sent) assert.equal(sha(await c.body(uid)), sha(msg), `message ${uid} stored byte for byte`);
        await c.ok('LOGOUT');
        c.close();
      });
    }
  }

  test('10 clients each APPEND 20 messages of 80–310 KB at once: all complete, all stored byte for byte', { timeout: 300_000 }, async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => Raw.open(server.ports.imap!)));
    await Promise.all(
      clients.map(async (c, ci) => {
        const box = `Par${ci}`;
        await c.ok(`CREATE ${box}`);
        const sent: [number, Buffer][] = [];
        for (let i = 0; i < 20; i++) {
          const size = 80 * 1024 + Math.floor(Math.random() * 230 * 1024);
          const msg = makeMessage(size, `par-${ci}-${i}`);
          // Alternate the literal kinds; every third one has its CRLF in a separate write after a pause.
          sent.push([await c.append(box, msg, { nonSync: i % 2 === 1, gapMs: i % 3 === 0 ? 20 : 0 }), msg]);
        }
        await c.ok(`SELECT ${box}`);
        assert.match(await c.ok('STATUS INBOX (MESSAGES)'), /STATUS/);
        for (const [uid, msg] of sent) assert.equal(sha(await c.body(uid)), sha(msg), `client ${ci} uid ${uid}`);
        await c.ok('LOGOUT');
        c.close();
      }),
    );
  });

  test('python imaplib: APPEND of 100 KB twelve times on one connection', { timeout: 180_000 }, async () => {
    const script = `
import hashlib, imaplib, json, os, sys, base64
host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
m = imaplib.IMAP4(host, port)
m.login(user, pw)
m.create('PyAppend')
out = {'appends': [], 'sent': [], 'fetched': []}
for i in range(12):
    body = base64.b64encode(os.urandom(75 * 1024)).decode()
    lines = '\\r\\n'.join(body[j:j + 76] for j in range(0, len(body), 76))
    msg = ('From: py@example.test\\r\\nTo: %s\\r\\nSubject: py %d\\r\\nMessage-ID: <py%d.%s@example.test>\\r\\n\\r\\n%s\\r\\n' % (user, i, i, os.urandom(4).hex(), lines)).encode()
    typ, data = m.append('PyAppend', None, None, msg)
    out['appends'].append([typ, data[0].decode()])
    out['sent'].append(hashlib.sha256(msg).hexdigest())
m.select('PyAppend')
typ, data = m.fetch('1:*', '(BODY.PEEK[])')
for part in data:
    if isinstance(part, tuple):
        out['fetched'].append(hashlib.sha256(part[1]).hexdigest())
m.logout()
print(json.dumps(out))
`;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('python3', ['-c', script, '127.0.0.1', String(server.ports.imap), USER, PASS], { timeout: 150_000, maxBuffer: 1 << 20 }, (err, out, errText) =>
        err ? reject(new Error(`imaplib failed: ${errText.trim().split('\n').slice(-3).join(' | ') || err.message}`)) : resolve(out),
      ),
    );
    const r = JSON.parse(stdout) as { appends: [string, string][]; sent: string[]; fetched: string[] };
    assert.equal(r.appends.length, 12);
    for (const [typ, text] of r.appends) assert.equal(typ, 'OK', text);
    assert.deepEqual(r.fetched, r.sent);
  });

  test('no MaxListenersExceededWarning in the server log', () => {
    assert.doesNotMatch(server.stderr(), /MaxListenersExceededWarning/);
  });
});
