/**
 * The client side of the SMTP and LMTP benchmarks: connections that pipeline
 * MAIL/RCPT/DATA and count the 250s after DATA, and the messages they send.
 */
import net from 'node:net';
import { prng } from './corpus.js';

const USER = 'bench@bench.test';

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
  /** The server's CPU per message (its process trees, from /proc): steadier than the rate on a shared machine. */
  cpuMsPerMessage?: number;
}

/** A plain-text message of about `size` bytes (default ~4 KB), different for each n. */
export function message(n: number, size = 3800): Buffer {
  const rand = prng(n + 1);
  const words = ['meeting', 'report', 'invoice', 'hello', 'thanks', 'project', 'update', 'budget', 'travel', 'lunch'];
  const lines: string[] = [];
  for (let len = 0; len < size; ) {
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

/** `clients` connections send `total` messages (PIPELINING), greeting with EHLO (SMTP) or LHLO (LMTP); one recipient each. */
export async function load(port: number | number[], clients: number, total: number, messages: Buffer[], greeting: 'EHLO' | 'LHLO' = 'EHLO', rcpt: (n: number) => string = () => USER) {
  let next = 0;
  let accepted = 0;
  const failures: string[] = [];
  const latencies: number[] = [];
  const started = performance.now();
  const ports = Array.isArray(port) ? port : [port];
  const worker = async (_: unknown, i: number) => {
    const c = await Conn.open(ports[i % ports.length]); // several nodes: connections split round-robin
    await c.reply();
    c.write(`${greeting} load.test\r\n`);
    await c.reply();
    while (next < total) {
      const n = next++;
      const t0 = performance.now();
      c.write(`MAIL FROM:<load@load.test>\r\nRCPT TO:<${rcpt(n)}>\r\nDATA\r\n`); // RFC 2920 pipelining
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

export const round = (x: number) => Math.round(x * 10) / 10;

export function summary(r: Awaited<ReturnType<typeof load>>) {
  return { accepted: r.accepted, failures: r.failures, firstFailures: r.firstFailures, seconds: round(r.seconds), acceptedPerSecond: round(r.accepted / r.seconds), latencyMs: r.latencyMs };
}

