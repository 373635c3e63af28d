/**
 * Shared by the client matrix tests in test/interop/: the message sizes, a
 * deterministic message generator, a server with one user per (client, size) and a
 * fake DNS, external clients run with a hard timeout, and byte-exact read-back over
 * IMAP (raw `BODY.PEEK[]`) and POP3 (python poplib).
 *
 * Why: a green suite hid hanging attachments because every test client wrote in
 * small chunks. These tests send the way real clients do (whole message and final
 * "." in one write; an APPEND literal's CRLF in a write of its own) at realistic
 * sizes, and every client call has a deadline, so a hang fails fast and names the
 * client and size instead of hanging the suite.
 *
 * Never imports src/ beyond what test/smtp/setup.ts does (store setup before start).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalChangeBus } from '../../src/store/bus.js';
import { openStore } from '../../src/store/open.js';
import { createUser } from '../../src/mail/accounts.js';
import { repoRoot } from '../harness/repo-root.js';
import { startServer, tempDirs, type RunningTestServer } from '../harness/server.js';

export const KB = 1024;
export const MB = 1024 * 1024;

export interface Size {
  label: string;
  bytes: number;
  /** base64: a text part plus a base64 attachment; 8bit: a text part plus an 8bit latin-1 part. */
  kind: 'base64' | '8bit';
}

export const SIZES: Size[] = [
  { label: '1KB', bytes: KB, kind: 'base64' },
  { label: '100KB', bytes: 100 * KB, kind: 'base64' },
  { label: '100KB-8bit', bytes: 100 * KB, kind: '8bit' },
  { label: '400KB', bytes: 400 * KB, kind: 'base64' },
  { label: '1MB', bytes: MB, kind: 'base64' },
  { label: '1MB-8bit', bytes: MB, kind: '8bit' },
  { label: '5MB', bytes: 5 * MB, kind: 'base64' },
  { label: '25MB', bytes: 25 * MB, kind: 'base64' },
];

export const PASSWORD = 'secret';
export const DOMAIN = 'example.test';
/** The MX's sender domain; the fake DNS gives it an SPF record that passes for 127.0.0.1. */
export const REMOTE_SENDER = 'sender@remote.test';

/**
 * How long one client call may take before it counts as hung. Generous (the machine
 * is shared and has 2 cores): a working 25 MB transfer takes seconds, a hang forever.
 */
export function deadlineMs(size: Size): number {
  return size.bytes >= 25 * MB ? 120_000 : 60_000;
}

/** The user that receives (and, for submission/APPEND, sends) the message of one matrix cell. */
export function cellUser(client: string, size: Size): string {
  return `${client}-${size.label}`.toLowerCase().replace(/[^a-z0-9-]/g, '') + `@${DOMAIN}`;
}

/** xorshift32: the same id always gives the same bytes, different ids different bytes. */
function prng(seed: string): () => number {
  let x = createHash('sha256').update(seed).digest().readUInt32LE(0) || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/**
 * A unique, checkable message of about `size.bytes` bytes (CRLF lines, ends in CRLF,
 * no NUL and no bare CR/LF, so IMAP `BODY[]` must return it unchanged). The text part
 * holds a line that is a lone "." and lines starting with dots: a client that does
 * not dot-stuff, or a server that does not undo it, changes the message.
 */
export function makeMessage(id: string, size: Size, from: string, to: string): Buffer {
  const rnd = prng(id);
  const boundary = `=_matrix_${id.replace(/[^A-Za-z0-9]/g, '_')}`;
  const head = [
    `From: Matrix Sender <${from}>`,
    `To: <${to}>`,
    `Subject: matrix ${id}`,
    `Message-ID: <${id.replace(/[^A-Za-z0-9.-]/g, '.')}@matrix.test>`,
    'Date: Sat, 28 Nov 2026 12:00:00 +0000',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    'This is a multi-part message in MIME format.',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `Message ${id}, about ${size.bytes} bytes.`,
    '.',
    '..two dots',
    '.one dot',
    '',
    `--${boundary}`,
  ];
  const tail = `\r\n--${boundary}--\r\n`;
  if (size.kind === 'base64') {
    head.push('Content-Type: application/octet-stream; name="blob.bin"', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="blob.bin"', '', '');
    const top = Buffer.from(head.join('\r\n'));
    const room = Math.max(0, size.bytes - top.length - tail.length);
    const raw = Buffer.alloc(Math.floor((room * 57) / 78));
    for (let i = 0; i < raw.length; i++) raw[i] = rnd() & 0xff;
    const b64 = raw.toString('base64');
    const lines: string[] = [];
    for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
    return Buffer.concat([top, Buffer.from(lines.join('\r\n')), Buffer.from(tail)]);
  }
  head.push('Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: 8bit', '', '');
  const top = Buffer.from(head.join('\r\n'));
  const room = Math.max(0, size.bytes - top.length - tail.length);
  const body = Buffer.alloc(room);
  let i = 0;
  // Lines of 1..998 octets plus CRLF (RFC 5322 2.1.1) from 0x20..0xFF, one in eight starting with ".".
  while (room - i >= 3) {
    const len = Math.min(room - i - 2, 1 + (rnd() % 998));
    for (let j = i; j < i + len; j++) {
      const b = 0x20 + (rnd() % 0xe0);
      // No DEL; no backslash either: swaks reads a backslash before "n" in its data as a line break.
      body[j] = b === 0x7f || b === 0x5c ? 0x2e : b;
    }
    if (rnd() % 8 === 0) body[i] = 0x2e;
    body[i + len] = 0x0d;
    body[i + len + 1] = 0x0a;
    i += len + 2;
  }
  return Buffer.concat([top, body.subarray(0, i), Buffer.from(tail)]);
}

export interface MatrixServer {
  server: RunningTestServer;
  /** A scratch directory for message files and read-back files. */
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts the server with the given users (password PASSWORD) made through the store
 * first, the MX hostname mx.example.test and a DNS file that keeps SPF/DKIM/DMARC
 * checks off the network.
 */
export async function startMatrixServer(users: string[], env: Record<string, string> = {}): Promise<MatrixServer> {
  const { dir, dataDir } = tempDirs();
  const setup = await openStore({ dataDir, bus: new LocalChangeBus() });
  for (const u of users) await createUser(setup, u, PASSWORD);
  await setup.close();
  const dnsFile = join(dir, 'dns.json');
  writeFileSync(dnsFile, JSON.stringify({ 'remote.test': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] } }));
  const server = await startServer({ dataDir, env: { MAILROOM_HOSTNAME: 'mx.example.test', MAILROOM_SMTP_DNS_FILE: dnsFile, ...env } });
  const scratch = mkdtempSync(join(tmpdir(), 'mailroom-matrix-'));
  return {
    server,
    dir: scratch,
    async stop() {
      await server.stop();
      rmSync(scratch, { recursive: true, force: true }); // message files reach 25 MB each
    },
  };
}

/** Resolves with `p`, or rejects after `ms` naming what hung; `onTimeout` tears the client down. */
export function within<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${what}: HUNG, no result within ${ms / 1000} s`));
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Fail-fast bookkeeping: once a client hung at one size, its larger sizes fail at once
 * naming that row instead of each waiting out its deadline (a regression must not turn
 * CI into hours). MATRIX_TRY_ALL=1 tries every cell anyway, to map what hangs.
 */
export class HangLedger {
  private hung = new Map<string, string>();

  /** Runs one cell; a HUNG failure is recorded against `client`. */
  async run(client: string, what: string, cell: () => Promise<void>): Promise<void> {
    const earlier = this.hung.get(client);
    if (earlier && process.env.MATRIX_TRY_ALL !== '1') throw new Error(`${what}: not attempted, ${earlier} hung already (MATRIX_TRY_ALL=1 tries anyway)`);
    try {
      await cell();
    } catch (err) {
      if (/HUNG/.test(String((err as Error).message))) this.hung.set(client, what);
      throw err;
    }
  }
}

/** Runs an external client; a run past `ms` is killed and fails as a hang of `what`. */
export function runClient(file: string, args: string[], ms: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    execFile(file, args, { timeout: ms, killSignal: 'SIGKILL', maxBuffer: 16 * MB }, (err, stdout, stderr) => {
      if (err && Date.now() - started >= ms) return reject(new Error(`${what}: HUNG, no result within ${ms / 1000} s; last output: ${tail(stdout)} ${tail(stderr)}`));
      if (err) return reject(new Error(`${what}: failed (${err.message.split('\n')[0]}); stderr: ${tail(stderr)}; stdout: ${tail(stdout)}`));
      resolve(stdout);
    });
  });
}

const tail = (s: string) => s.trim().split('\n').slice(-4).join(' | ');

/** One of the python scripts in test/interop/py/. */
export const pyScript = (name: string) => join(repoRoot, 'test', 'interop', 'py', name);

/** A socket with exact reads (lines and byte counts) under a deadline, without quadratic buffering. */
export class Wire {
  private chunks: Buffer[] = [];
  private length = 0;
  private wake: (() => void) | undefined;
  private closed = false;
  private failure: Error | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.length += c.length;
      this.wake?.();
    });
    socket.on('error', (e) => ((this.failure = e), this.wake?.()));
    socket.on('close', () => ((this.closed = true), this.wake?.()));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => (s.off('error', reject), resolve(new Wire(s))));
      s.once('error', reject);
    });
  }

  /** Writes and resolves when the bytes were handed to the kernel. */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** One line including its CRLF, as latin1. */
  async line(ms: number, what: string): Promise<string> {
    const deadline = Date.now() + ms;
    while (true) {
      let seen = 0;
      for (const c of this.chunks) {
        const at = c.indexOf(0x0a);
        if (at >= 0) return this.take(seen + at + 1).toString('latin1');
        seen += c.length;
      }
      await this.more(deadline, what, 'reply line');
    }
  }

  /** Exactly n bytes. */
  async bytes(n: number, ms: number, what: string): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (this.length < n) await this.more(deadline, what, `${n} bytes (have ${this.length})`);
    return this.take(n);
  }

  /** Lines until one starts with `prefix`; returns all of them. */
  async until(prefix: string, ms: number, what: string): Promise<string[]> {
    const deadline = Date.now() + ms;
    const out: string[] = [];
    while (true) {
      const l = await this.line(Math.max(1, deadline - Date.now()), what);
      out.push(l);
      if (l.startsWith(prefix)) return out;
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  private more(deadline: number, what: string, wanted: string): Promise<void> {
    if (this.failure) return Promise.reject(new Error(`${what}: socket error ${this.failure.message} while waiting for ${wanted}`));
    if (this.closed) return Promise.reject(new Error(`${what}: connection closed while waiting for ${wanted}; have ${JSON.stringify(this.peek())}`));
    const left = deadline - Date.now();
    if (left <= 0) return Promise.reject(new Error(`${what}: HUNG, no ${wanted} within the deadline; have ${JSON.stringify(this.peek())}`));
    return new Promise((resolve) => {
      const timer = setTimeout(() => ((this.wake = undefined), resolve()), left);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private peek(): string {
    return (this.chunks[0] ?? Buffer.alloc(0)).subarray(0, 200).toString('latin1');
  }
}

/** Logs in over plain IMAP and returns INBOX's EXISTS and `BODY.PEEK[]` of message 1. */
export async function imapFetchFirst(port: number, user: string, ms: number): Promise<{ exists: number; raw: Buffer }> {
  const what = `IMAP read-back of ${user}`;
  const w = await Wire.connect(port);
  try {
    await w.line(ms, what);
    await w.write(`a LOGIN "${user}" "${PASSWORD}"\r\n`);
    assertOk(await w.until('a ', ms, what), what);
    await w.write('b SELECT INBOX\r\n');
    const sel = await w.until('b ', ms, what);
    assertOk(sel, what);
    const exists = Number(sel.map((l) => /^\* (\d+) EXISTS/.exec(l)?.[1]).find((x) => x !== undefined) ?? -1);
    await w.write('c FETCH 1 BODY.PEEK[]\r\n');
    const head = await w.line(ms, what);
    const m = /^\* 1 FETCH \(.*BODY\[\] \{(\d+)\}\r\n$/.exec(head);
    if (!m) throw new Error(`${what}: unexpected FETCH response ${JSON.stringify(head)}`);
    const raw = await w.bytes(Number(m[1]), ms, what);
    assertOk(await w.until('c ', ms, what), what);
    await w.write('d LOGOUT\r\n');
    return { exists, raw };
  } finally {
    w.close();
  }
}

function assertOk(lines: string[], what: string): void {
  const last = lines[lines.length - 1];
  if (!/^\S+ OK/.test(last)) throw new Error(`${what}: ${JSON.stringify(lines.join(''))}`);
}

/** RETR 1 through python poplib; returns the maildrop size and the message bytes. */
export async function pop3RetrFirst(port: number, user: string, dir: string, ms: number): Promise<{ count: number; raw: Buffer }> {
  const out = join(dir, `${user}.pop3`);
  const stdout = await runClient('python3', [pyScript('pop3_retr.py'), '127.0.0.1', String(port), user, PASSWORD, out], ms, `POP3 (poplib) read-back of ${user}`);
  const { count } = JSON.parse(stdout) as { count: number };
  return { count, raw: readFileSync(out) };
}

/**
 * Checks that `got` is `sent` with only the named header fields added in front (the
 * trace and verification fields a receiving server prepends, RFC 5321 4.4). An empty
 * list means byte-for-byte equality. On failure says where the bytes first differ.
 */
export function assertDelivered(got: Buffer, sent: Buffer, added: readonly string[], what: string): void {
  const prefixLength = got.length - sent.length;
  if (prefixLength < 0 || !got.subarray(prefixLength).equals(sent)) {
    const a = got.subarray(Math.max(0, prefixLength));
    let i = 0;
    while (i < a.length && i < sent.length && a[i] === sent[i]) i++;
    throw new Error(
      `${what}: the message is not returned byte for byte (sent ${sent.length} bytes, got ${got.length}; ` +
        `first difference at sent offset ${i}: sent ${JSON.stringify(sent.subarray(i, i + 40).toString('latin1'))}, got ${JSON.stringify(a.subarray(i, i + 40).toString('latin1'))})`,
    );
  }
  const prefix = got.subarray(0, prefixLength).toString('latin1');
  const names = [...prefix.matchAll(/^([!-9;-~]+):/gm)].map((m) => m[1].toLowerCase());
  const fields = /^(?:[!-9;-~]+:[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)*$/.test(prefix);
  const unexpected = names.filter((n) => !added.includes(n));
  if (!fields || unexpected.length > 0 || (added.length === 0 && prefixLength > 0)) {
    throw new Error(`${what}: added in front of the message ${JSON.stringify(prefix.slice(0, 600))}; only header fields ${added.join(', ') || '(none)'} may be`);
  }
}
