/**
 * Bytes written per message: a real server receives messages of size S over SMTP (MX,
 * one local recipient) and over submission (a remote recipient through the queue, plus
 * the Sent copy), and `/proc/<pid>/io` of the server says how much it wrote:
 * `write_bytes` (file data it dirtied, SQLite included) and `cancelled_write_bytes`
 * (dirtied, then removed before it reached the disk: a spool unlinked early). Linux only.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, runCli, tempDirs } from '../test/harness/server.js';

const USER = 'alice@bench.test';
const PASSWORD = 'bench-password-1';

interface Io {
  wchar: number;
  write_bytes: number;
  cancelled_write_bytes: number;
}

function io(pid: number): Io {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/io`, 'utf8').split('\n')) {
    const [k, v] = line.split(':');
    if (v) out[k.trim()] = Number(v.trim());
  }
  return out as unknown as Io;
}

/** A message of about `size` bytes: plain text lines, or one base64 attachment (a large MIME leaf, its own blob). */
function message(n: number, size: number, shape: 'text' | 'attachment'): Buffer {
  const head = `From: <bob@remote.test>\r\nTo: <${USER}>\r\nSubject: disk writes ${n}\r\nMessage-ID: <dw.${n}.${randomBytes(6).toString('hex')}@remote.test>\r\nMIME-Version: 1.0\r\n`;
  if (shape === 'text') {
    const line = 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n';
    return Buffer.from(head + 'Content-Type: text/plain\r\n\r\n' + line.repeat(Math.ceil(size / line.length)));
  }
  const b64 = randomBytes(Math.floor((size * 3) / 4)).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(head + 'Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n' + b64 + '\r\n--B--\r\n');
}

/** One SMTP session sending one message; resolves after the reply to the final dot. */
async function send(port: number, from: string, to: string, raw: Buffer, auth?: string): Promise<void> {
  const sock = net.connect(port, '127.0.0.1');
  let buf = '';
  const waiters: ((line: string) => void)[] = [];
  sock.setEncoding('latin1').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (line[3] === ' ') waiters.shift()?.(line);
    }
  });
  const reply = () => new Promise<string>((r) => waiters.push(r));
  const step = async (line: string, want: string) => {
    const r = reply();
    sock.write(line + '\r\n');
    const got = await r;
    if (!got.startsWith(want)) throw new Error(`${line} → ${got}`);
  };
  const greeting = reply();
  if (!(await greeting).startsWith('220')) throw new Error('no greeting');
  await step('EHLO bench.test', '250');
  if (auth) await step(`AUTH PLAIN ${Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64')}`, '235');
  await step(`MAIL FROM:<${from}>`, '250');
  await step(`RCPT TO:<${to}>`, '250');
  await step('DATA', '354');
  const done = reply();
  sock.write(Buffer.concat([Buffer.from(raw.toString('latin1').replace(/^\./gm, '..'), 'latin1'), Buffer.from('.\r\n')])); // RFC 5321 4.5.2
  const got = await done;
  if (!got.startsWith('250')) throw new Error(`DATA → ${got}`);
  sock.end('QUIT\r\n');
}

export interface DiskWritesRow {
  path: string;
  shape: 'text' | 'attachment';
  messageBytes: number;
  messages: number;
  /** Per message, as multiples of its size. */
  writeBytesPerSize: number;
  netWriteBytesPerSize: number;
  wcharPerSize: number;
}

export async function benchDiskWrites(): Promise<{ rows: DiskWritesRow[] }> {
  const size = Number(process.env.BENCH_DISK_WRITES_SIZE ?? 1024 * 1024);
  const count = Number(process.env.BENCH_DISK_WRITES_MESSAGES ?? 20);
  const { dir } = tempDirs();
  const dnsFile = join(dir, 'dns.json');
  writeFileSync(dnsFile, '{}');
  // The queue must not deliver (remote.test does not resolve): its retries would write to the store meanwhile.
  const s = await startServer({ env: { MAILROOM_SMTP_DNS_FILE: dnsFile, MAILROOM_IMAP: 'off', MAILROOM_IMAPS: 'off', MAILROOM_POP3: 'off', MAILROOM_POP3S: 'off' } });
  const rows: DiskWritesRow[] = [];
  try {
    const added = await runCli(['user', 'add', USER, '--password', PASSWORD], { dataDir: s.dataDir });
    if (added.code !== 0) throw new Error(added.stderr.trim());
    for (const shape of ['text', 'attachment'] as const) {
      for (const path of ['mx → INBOX', 'submission → queue + Sent'] as const) {
        const messages = Array.from({ length: count }, (_, i) => message(i, size, shape));
        await send(s.ports.smtp!, 'bob@remote.test', USER, message(9999, 1000, 'text')); // warm up (first mailbox writes)
        const before = io(s.pid);
        for (const m of messages) {
          if (path === 'mx → INBOX') await send(s.ports.smtp!, 'bob@remote.test', USER, m);
          else await send(s.ports.submission!, USER, 'carol@remote.test', m, 'plain');
        }
        const after = io(s.pid);
        const bytes = messages.reduce((a, m) => a + m.length, 0);
        const per = (k: keyof Io) => Math.round(((after[k] - before[k]) / bytes) * 100) / 100;
        rows.push({
          path,
          shape,
          messageBytes: Math.round(bytes / count),
          messages: count,
          writeBytesPerSize: per('write_bytes'),
          netWriteBytesPerSize: Math.round(((after.write_bytes - before.write_bytes - (after.cancelled_write_bytes - before.cancelled_write_bytes)) / bytes) * 100) / 100,
          wcharPerSize: per('wchar'),
        });
        process.stderr.write(`  ${path} ${shape}: ${JSON.stringify(rows[rows.length - 1])}\n`);
      }
    }
  } finally {
    await s.stop();
  }
  return { rows };
}
