/**
 * IDLE workload (issue 10): BENCH_IDLE_SESSIONS (default 10,000) connections that log in,
 * SELECT the same INBOX and IDLE; then the server's memory (RSS and PSS of its processes,
 * before and with the sessions) and the time until one delivered message is announced
 * (`* n EXISTS`) on every session. Memory is read twice: 3 s after the last session reached
 * IDLE ("opened": the login burst's garbage still in the heap) and after the sessions have
 * idled BENCH_IDLE_SETTLE_MS (default 30,000) more ("idle": what 10,000 idle connections
 * cost, the figure the target is about; V8's memory reducer returns the burst's heap ~20 s
 * after it, measured 289 → 220 MiB with no thread ending). Dovecot is measured the same way at
 * BENCH_IDLE_DOVECOT_SESSIONS (default 1,000; a process per session), over several users
 * (its per-user limit), with the message written into each user's maildir. TLS off,
 * loopback only, bounded in time; the process raises nothing itself: `ulimit -n` must
 * allow the sessions (two descriptors each when the server runs on this machine).
 */
import { chownSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { runCli, startServer, tempDirs } from '../test/harness/server.js';
import { dovecotVersion, startDovecot } from './dovecot.js';
import { benchMailroomEnv, benchNodeArgs } from './login.js';

const PASSWORD = 'bench-password';
const OPEN_AT_ONCE = 100;

export interface IdleTargetResult {
  server: string;
  sessions: number;
  /** Sessions that reached IDLE. */
  idling: number;
  rssBeforeMiB: number;
  /** 3 s after the last session reached IDLE. */
  rssOpenedMiB: number;
  /** After the sessions idled BENCH_IDLE_SETTLE_MS more. */
  rssWithSessionsMiB: number;
  pssWithSessionsMiB: number;
  /** (RSS with sessions − before) / sessions. */
  rssPerSessionKiB: number;
  pssPerSessionKiB: number;
  /** From the delivery until the first and the last session saw `* n EXISTS`. */
  pushFirstMs: number;
  pushAllMs: number;
  pushed: number;
  /** Of the push time: until the delivery was acknowledged (LMTP 250; Dovecot: files renamed into new/). */
  deliveredMs: number;
}

export interface IdleBenchResult {
  mailroom: IdleTargetResult | { error: string };
  dovecot: IdleTargetResult | { skipped: string } | { error: string };
  /** Dovecot's per-session PSS divided by Mailroom's (above 1: Mailroom uses less); PSS, as Dovecot's processes share pages. */
  ratioPerSession?: number;
}

/** One IDLE client: a raw socket driven by a tiny state machine (no client library: 10,000 of them). */
class IdleClient {
  private buf = '';
  private step = 0;
  existsAt = 0;
  private onIdle!: (ok: boolean) => void;
  readonly idle: Promise<boolean>;
  private socket: net.Socket;

  constructor(port: number, private readonly user: string) {
    this.idle = new Promise((resolve) => (this.onIdle = resolve));
    this.socket = net.connect({ port, host: '127.0.0.1' });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => this.data(d));
    this.socket.on('error', () => this.onIdle(false));
    this.socket.on('close', () => this.onIdle(false));
  }

  private data(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (this.step === 0 && line.startsWith('* OK')) {
      this.step = 1;
      this.socket.write(`a LOGIN ${this.user} ${PASSWORD}\r\n`);
    } else if (this.step === 1 && line.startsWith('a ')) {
      if (!line.startsWith('a OK')) return this.onIdle(false);
      this.step = 2;
      this.socket.write('b SELECT INBOX\r\n');
    } else if (this.step === 2 && line.startsWith('b ')) {
      if (!line.startsWith('b OK')) return this.onIdle(false);
      this.step = 3;
      this.socket.write('c IDLE\r\n');
    } else if (this.step === 3 && line.startsWith('+')) {
      this.step = 4;
      this.onIdle(true);
    } else if (this.step === 4 && / EXISTS\r?$/.test(line) && this.existsAt === 0) {
      this.existsAt = performance.now();
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Sum of RSS and PSS (KiB) over the given processes. */
function memoryOf(pids: number[]): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rss += Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
    } catch {
      // the process ended meanwhile
    }
  }
  return { rss, pss };
}

/** The process and all its descendants (Dovecot: master, login and imap processes). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(server: string, port: number, users: string[], sessions: number, pids: () => number[], deliver: () => Promise<void>): Promise<IdleTargetResult> {
  await sleep(1000);
  const before = memoryOf(pids());
  const clients: IdleClient[] = [];
  let idling = 0;
  const deadline = Date.now() + 300_000;
  // One session alone first: its login fills the server's credential cache, as a client
  // reconnecting would; then waves (100 first logins at once would be 100 password hashes).
  for (let i = 0; i < sessions && Date.now() < deadline; i += i === 0 ? 1 : OPEN_AT_ONCE) {
    const wave = Array.from({ length: i === 0 ? 1 : Math.min(OPEN_AT_ONCE, sessions - i) }, (_, k) => new IdleClient(port, users[(i + k) % users.length]));
    const ok = await Promise.all(wave.map((c) => c.idle));
    wave.forEach((c, k) => (ok[k] ? clients.push(c) : c.close()));
    idling += ok.filter(Boolean).length;
    if ((i / OPEN_AT_ONCE) % 20 === 0) process.stderr.write(`  ${server}: ${idling}/${i + wave.length} idling\n`);
  }
  await sleep(3000); // the last replies written
  const opened = memoryOf(pids());
  await sleep(Math.max(0, Number(process.env.BENCH_IDLE_SETTLE_MS ?? 30_000)));
  const withSessions = memoryOf(pids());
  const t0 = performance.now();
  await deliver();
  const deliveredMs = performance.now() - t0;
  const until = Date.now() + 30_000;
  while (Date.now() < until && clients.some((c) => c.existsAt === 0)) await sleep(20);
  const seen = clients.filter((c) => c.existsAt > 0).map((c) => c.existsAt - t0);
  for (const c of clients) c.close();
  const kib = (n: number) => Math.round(n / Math.max(1, idling));
  const result: IdleTargetResult = {
    server,
    sessions,
    idling,
    rssBeforeMiB: Math.round(before.rss / 1024),
    rssOpenedMiB: Math.round(opened.rss / 1024),
    rssWithSessionsMiB: Math.round(withSessions.rss / 1024),
    pssWithSessionsMiB: Math.round(withSessions.pss / 1024),
    rssPerSessionKiB: kib(withSessions.rss - before.rss),
    pssPerSessionKiB: kib(withSessions.pss - before.pss),
    pushFirstMs: seen.length ? Math.round(Math.min(...seen)) : -1,
    pushAllMs: seen.length === clients.length ? Math.round(Math.max(...seen)) : -1,
    pushed: seen.length,
    deliveredMs: Math.round(deliveredMs),
  };
  process.stderr.write(`  ${server}: ${JSON.stringify(result)}\n`);
  return result;
}

function message(): string {
  return `From: a@example.net\r\nTo: idle@bench.test\r\nSubject: wake up\r\nMessage-ID: <idle-${Date.now()}@example.net>\r\n\r\nnew mail\r\n`;
}

/** One LMTP transaction to `rcpt` (the push trigger; its time counts in the push figure). */
async function lmtpDeliver(port: number, rcpt: string): Promise<void> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.setEncoding('latin1');
  let buf = '';
  const replies: string[] = [];
  let wake: (() => void) | undefined;
  socket.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (/^\d{3} /.test(line)) replies.push(line);
    }
    wake?.();
  });
  const reply = async () => {
    while (replies.length === 0) await new Promise<void>((r) => (wake = r));
    const r = replies.shift()!;
    if (!/^[23]/.test(r)) throw new Error(`LMTP: ${r}`);
  };
  await reply();
  for (const cmd of ['LHLO bench', 'MAIL FROM:<a@example.net>', `RCPT TO:<${rcpt}>`, 'DATA']) {
    socket.write(`${cmd}\r\n`);
    await reply();
  }
  socket.write(`${message()}.\r\n`);
  await reply();
  socket.end('QUIT\r\n');
}

async function benchMailroom(sessions: number): Promise<IdleTargetResult> {
  const user = 'idle@bench.test';
  const { dataDir } = tempDirs();
  const added = await runCli(['user', 'add', user, '--password', PASSWORD], { dataDir });
  if (added.code !== 0) throw new Error(`user add: ${added.stderr.trim()}`);
  const s = await startServer({
    dataDir,
    env: { MAILROOM_LIMITS_CONNECTIONS_PER_IP: String(sessions + 100), ...benchMailroomEnv() },
    timeoutMs: 60_000,
    nodeArgs: benchNodeArgs(),
  });
  try {
    return await measure('mailroom', s.ports.imap!, [user], sessions, () => [s.pid], () => lmtpDeliver(s.ports.lmtp!, user));
  } finally {
    await s.stop();
  }
}

async function benchDovecot(sessions: number): Promise<IdleTargetResult> {
  const perUser = 50; // under the bench Dovecot's mail_max_userip_connections (100)
  const users = Array.from({ length: Math.ceil(sessions / perUser) }, (_, i) => `idle${i}@bench.test`);
  const d = await startDovecot(users.map((user) => ({ user, password: PASSWORD })), { processLimit: sessions + 100 });
  try {
    const { uid, gid } = d.mailOwner;
    for (const user of users) {
      for (const sub of ['', 'cur', 'new', 'tmp']) {
        const dir = join(d.home(user), 'Maildir', sub);
        mkdirSync(dir, { recursive: true });
        chownSync(dir, uid, gid);
      }
    }
    // Each user's own copy, written to tmp/ and renamed into new/ as an MDA does.
    const deliver = async () => {
      users.forEach((user, i) => {
        const tmp = join(d.home(user), 'Maildir', 'tmp', `${Date.now()}.M${i}P1.idle`);
        writeFileSync(tmp, message());
        chownSync(tmp, uid, gid);
        renameSync(tmp, join(d.home(user), 'Maildir', 'new', `${Date.now()}.M${i}P1.idle`));
      });
    };
    return await measure(`dovecot ${d.version}`, d.port, users, sessions, () => processTree(d.pid), deliver);
  } finally {
    await d.stop();
  }
}

export async function benchIdle(): Promise<IdleBenchResult> {
  const sessions = Math.min(50_000, Number(process.env.BENCH_IDLE_SESSIONS ?? 10_000));
  const dovecotSessions = Math.min(2_000, Number(process.env.BENCH_IDLE_DOVECOT_SESSIONS ?? 1_000));
  const result: IdleBenchResult = { mailroom: { error: 'not run' }, dovecot: { skipped: 'not run' } };
  try {
    result.mailroom = await benchMailroom(sessions);
  } catch (err) {
    result.mailroom = { error: (err as Error).message };
    process.stderr.write(`  mailroom: ${(err as Error).message}\n`);
  }
  if (!dovecotVersion()) result.dovecot = { skipped: 'dovecot is not installed here' };
  else if (dovecotSessions === 0) result.dovecot = { skipped: 'BENCH_IDLE_DOVECOT_SESSIONS=0' };
  else {
    try {
      result.dovecot = await benchDovecot(dovecotSessions);
    } catch (err) {
      result.dovecot = { error: (err as Error).message };
      process.stderr.write(`  dovecot: ${(err as Error).message}\n`);
    }
  }
  if ('pssPerSessionKiB' in result.mailroom && 'pssPerSessionKiB' in result.dovecot && result.mailroom.pssPerSessionKiB > 0) {
    result.ratioPerSession = Math.round((result.dovecot.pssPerSessionKiB / result.mailroom.pssPerSessionKiB) * 100) / 100;
  }
  return result;
}
