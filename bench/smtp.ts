/**
 * SMTP MX load: C concurrent connections (BENCH_SMTP_CLIENTS, default 8) send
 * BENCH_SMTP_MESSAGES messages (default 2000, ~4 KB of text each, one recipient)
 * with PIPELINING (MAIL+RCPT+DATA in one write), counting 250s after DATA.
 *
 * Same run, same client, two targets:
 * - Mailroom's MX (the built binary, temp data dir, DNS answers from an empty file:
 *   SPF/DKIM/DMARC run but never touch the network); its 250 means "in the INBOX".
 * - Postfix (private instance, loopback) handing mail to a private Dovecot over LMTP;
 *   Postfix's 250 means "in Postfix's queue", so the end-to-end rate (until every
 *   message is in the Dovecot Maildir) is reported too.
 * Reports messages/s of both and the ratios. Loopback only; bounded in count and time.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { startServer, runCli, tempDirs } from '../test/harness/server.js';
import { LocalChangeBus } from '../src/store/bus.js';
import { openStore } from '../src/store/open.js';
import { prng } from './corpus.js';
import { dovecotVersion, startDovecot } from './dovecot.js';
import { postfixVersion, startPostfix } from './postfix.js';

const USER = 'bench@bench.test';
const PASSWORD = 'bench-password';

export interface SmtpTargetResult {
  server: string;
  accepted: number;
  failures: number;
  firstFailures: string[];
  seconds: number;
  acceptedPerSecond: number;
  latencyMs: { mean: number; p50: number; p99: number };
  /** Messages found in the mailbox afterwards, and the rate until the last one arrived. */
  delivered: number;
  endToEndPerSecond: number;
}

export interface SmtpBenchResult {
  clients: number;
  messages: number;
  messageBytes: number;
  mailroom: SmtpTargetResult | { error: string };
  postfixDovecot: SmtpTargetResult | { skipped: string } | { error: string };
  /** Mailroom accepted/s ÷ Postfix accepted/s (Postfix's 250 is only "queued"). */
  ratioAccepted?: number;
  /** Mailroom ÷ Postfix+Dovecot, both measured until the messages are in the mailbox. */
  ratioEndToEnd?: number;
}

/** A ~4 KB plain-text message, different for each n. */
function message(n: number): Buffer {
  const rand = prng(n + 1);
  const words = ['meeting', 'report', 'invoice', 'hello', 'thanks', 'project', 'update', 'budget', 'travel', 'lunch'];
  const lines: string[] = [];
  for (let len = 0; len < 3800; ) {
    const line = Array.from({ length: 10 }, () => words[Math.floor(rand() * words.length)]).join(' ');
    lines.push(line);
    len += line.length + 2;
  }
  const head = `From: Load <load@load.test>\r\nTo: ${USER}\r\nSubject: load ${n}\r\nMessage-ID: <load-${n}@load.test>\r\nDate: Sun, 22 Nov 2026 00:00:00 +0000\r\n\r\n`;
  return Buffer.from(head + lines.join('\r\n').replace(/^\./gm, '..') + '\r\n.\r\n');
}

/** One SMTP connection reading replies in order. */
class Conn {
  private buf = '';
  private waiters: (() => void)[] = [];
  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      const w = this.waiters;
      this.waiters = [];
      w.forEach((f) => f());
    });
    socket.on('error', () => {});
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  async reply(): Promise<string> {
    while (true) {
      const m = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.buf);
      if (m) {
        const end = m.index + m[0].length;
        const out = this.buf.slice(0, end);
        this.buf = this.buf.slice(end);
        return out.slice(out.lastIndexOf('\n', out.length - 3) + 1);
      }
      if (this.socket.destroyed) throw new Error(`connection closed; got ${JSON.stringify(this.buf.slice(0, 200))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 1000);
      });
    }
  }
  write(data: string | Buffer): void {
    this.socket.write(data);
  }
  close(): void {
    this.socket.end('QUIT\r\n');
  }
}

async function load(port: number, clients: number, total: number, messages: Buffer[]) {
  let next = 0;
  let accepted = 0;
  const failures: string[] = [];
  const latencies: number[] = [];
  const started = performance.now();
  const worker = async () => {
    const c = await Conn.open(port);
    await c.reply();
    c.write('EHLO load.test\r\n');
    await c.reply();
    while (next < total) {
      const n = next++;
      const t0 = performance.now();
      c.write(`MAIL FROM:<load@load.test>\r\nRCPT TO:<${USER}>\r\nDATA\r\n`); // RFC 2920 pipelining
      const replies = [await c.reply(), await c.reply(), await c.reply()];
      if (!replies[2].startsWith('354')) {
        failures.push(replies.join('').trim());
        c.write('RSET\r\n');
        await c.reply();
        continue;
      }
      c.write(messages[n % messages.length]);
      const r = await c.reply();
      if (r.startsWith('250')) {
        accepted++;
        latencies.push(performance.now() - t0);
      } else failures.push(r.trim());
    }
    c.close();
  };
  await Promise.all(Array.from({ length: clients }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0) * 10) / 10;
  const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  return { accepted, failures: failures.length, firstFailures: failures.slice(0, 3), seconds, started, latencyMs: { mean: Math.round(mean * 10) / 10, p50: pct(0.5), p99: pct(0.99) } };
}

async function waitFor(count: () => Promise<number> | number, want: number, timeoutMs: number): Promise<{ found: number; at: number }> {
  const deadline = performance.now() + timeoutMs;
  let found = await count();
  while (found < want && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    found = await count();
  }
  return { found, at: performance.now() };
}

async function benchMailroom(clients: number, total: number, messages: Buffer[]): Promise<SmtpTargetResult> {
  const { dir } = tempDirs();
  const dnsFile = join(dir, 'dns.json');
  writeFileSync(dnsFile, '{}');
  const s = await startServer({ env: { MAILROOM_SMTP_DNS_FILE: dnsFile, MAILROOM_IMAP: 'off', MAILROOM_IMAPS: 'off', MAILROOM_POP3: 'off', MAILROOM_POP3S: 'off' } });
  try {
    const added = await runCli(['user', 'add', USER, '--password', PASSWORD], { dataDir: s.dataDir });
    if (added.code !== 0) throw new Error(added.stderr.trim());
    const r = await load(s.ports.smtp!, clients, total, messages);
    const store = await openStore({ dataDir: s.dataDir, bus: new LocalChangeBus() });
    try {
      const user = (await store.getUser(USER))!;
      const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
      const delivered = (await store.listMessages(inbox.id, user.id)).length;
      return { server: 'mailroom', ...summary(r), delivered, endToEndPerSecond: round(delivered / r.seconds) };
    } finally {
      await store.close();
    }
  } finally {
    await s.stop();
  }
}

async function benchPostfix(clients: number, total: number, messages: Buffer[]): Promise<SmtpTargetResult> {
  const dovecot = await startDovecot([{ user: USER, password: PASSWORD }], { lmtp: true });
  try {
    const postfix = await startPostfix('bench.test', dovecot.lmtpPort!);
    try {
      const r = await load(postfix.port, clients, total, messages);
      const maildir = join(dovecot.home(USER), 'Maildir');
      const count = () => ['new', 'cur'].reduce((n, sub) => n + safeCount(join(maildir, sub)), 0);
      const { found, at } = await waitFor(count, r.accepted, 180_000);
      const e2e = (at - r.started) / 1000;
      return { server: `postfix ${postfix.version} → dovecot ${dovecot.version} (LMTP)`, ...summary(r), delivered: found, endToEndPerSecond: round(found / e2e) };
    } finally {
      await postfix.stop();
    }
  } finally {
    await dovecot.stop();
  }
}

function safeCount(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

function summary(r: Awaited<ReturnType<typeof load>>) {
  return { accepted: r.accepted, failures: r.failures, firstFailures: r.firstFailures, seconds: round(r.seconds), acceptedPerSecond: round(r.accepted / r.seconds), latencyMs: r.latencyMs };
}

export async function benchSmtp(): Promise<SmtpBenchResult> {
  const clients = Number(process.env.BENCH_SMTP_CLIENTS ?? 8);
  const total = Number(process.env.BENCH_SMTP_MESSAGES ?? 2000);
  // One message per send, each with its own Message-ID: a repeated one would be taken for a re-send and stored once (resend_window_s).
  const messages = Array.from({ length: total }, (_, i) => message(i));
  const messageBytes = Math.round(messages.reduce((a, m) => a + m.length, 0) / messages.length);
  const result: SmtpBenchResult = { clients, messages: total, messageBytes, mailroom: { error: 'not run' }, postfixDovecot: { skipped: 'not run' } };
  try {
    result.mailroom = await benchMailroom(clients, total, messages);
  } catch (err) {
    result.mailroom = { error: (err as Error).message };
  }
  if (!postfixVersion() || !dovecotVersion()) result.postfixDovecot = { skipped: 'postfix or dovecot not installed (apt-get install -y postfix dovecot-lmtpd)' };
  else if (process.getuid?.() !== 0) result.postfixDovecot = { skipped: 'a private Postfix needs root' };
  else {
    try {
      result.postfixDovecot = await benchPostfix(clients, total, messages);
    } catch (err) {
      result.postfixDovecot = { error: (err as Error).message };
    }
  }
  const m = result.mailroom;
  const p = result.postfixDovecot;
  if ('acceptedPerSecond' in m && 'acceptedPerSecond' in p) {
    result.ratioAccepted = Math.round((m.acceptedPerSecond / p.acceptedPerSecond) * 100) / 100;
    result.ratioEndToEnd = Math.round((m.endToEndPerSecond / p.endToEndPerSecond) * 100) / 100;
  }
  return result;
}
