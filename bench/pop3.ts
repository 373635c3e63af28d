/**
 * POP3 load generator: K concurrent clients (BENCH_POP3_CLIENTS, default 10, as issue 10 asks), each
 * with its own account (one POP3 session per maildrop at a time), looping for a
 * fixed time (BENCH_POP3_SECONDS, default 20) over whole sessions: connect, USER/PASS,
 * UIDL, RETR of every message (BENCH_POP3_MESSAGES, default 100), QUIT. Raw sockets,
 * one command at a time, no DELE (leave-on-server, so every session sees the same 100).
 *
 * Every account holds the same realistic messages (bench/corpus.ts: 1 KB to 2 MB,
 * a third with one shared attachment). Mailroom gets them through `deliver()` into
 * the data directory before it starts; Dovecot gets them as maildir files. Runs against
 * Mailroom (the built binary) and then, in the same run, Dovecot's POP3 when installed;
 * reports sessions/s, MB/s, server CPU per session and the Mailroom/Dovecot ratio.
 * BENCH_POP3_ROUNDS (default 3) alternates the two (A B A B); BENCH_POP3_DOVECOT=0 measures Mailroom only.
 *
 * Logins: Dovecot's passdb here is scheme=PLAIN (no hash); Mailroom verifies scrypt once per
 * account, then its verified-credential cache answers. Each account first has one untimed
 * session (BENCH_POP3_WARMUP=0 times it too), so the timed logins are the cheap kind on both;
 * the cold login is `npm run bench login`'s figure. Loopback only, bounded.
 */
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalChangeBus } from '../src/store/bus.js';
import { openStore } from '../src/store/open.js';
import { createUser } from '../src/mail/accounts.js';
import { deliver } from '../src/mail/delivery.js';
import { startServer, tempDirs } from '../test/harness/server.js';
import { benchMessage, prng } from './corpus.js';
import { dovecotVersion, startDovecot } from './dovecot.js';
import { RawPop3Client } from './pop3-raw-client.js';
import { benchMailroomEnv, benchNodeArgs } from './login.js';
import { MessageSource } from '../src/mail/message-source.js';
import { threadCpuSeconds, treeCpuSeconds } from './process-cpu.js';

const PASSWORD = 'bench-password';
const userOf = (i: number) => `pop${i}@bench.test`;

export interface Pop3TargetResult {
  server: string;
  clients: number;
  seconds: number;
  /** Complete sessions (login … QUIT with every RETR answered +OK). */
  sessions: number;
  sessionsPerSecond: number;
  messagesRetrieved: number;
  megabytesReceived: number;
  megabytesPerSecond: number;
  /** Commands answered -ERR or sessions that broke (the workload is valid, so any is a finding). */
  failures: number;
  firstFailures: string[];
  /** Median, mean and 99th percentile per phase, in ms. */
  latencyMs: Record<string, { count: number; median: number; mean: number; p99: number }>;
  prefillSeconds: number;
  /** CPU seconds of the server's process tree during the run, and per complete session (steadier than sessions/s on a shared machine). */
  serverCpuSeconds?: number;
  serverCpuMsPerSession?: number;
  /** Share of the run the server's main thread was on a CPU (Mailroom: the protocol loop). */
  serverMainThreadBusy?: number;
}

export interface Pop3BenchResult {
  clients: number;
  seconds: number;
  messagesPerMailbox: number;
  mailboxMegabytes: number;
  mailroom: Pop3TargetResult | { error: string };
  dovecot: Pop3TargetResult | { skipped: string } | { error: string };
  /** Mailroom MB/s divided by Dovecot's: every session moves the same bytes, so this is the sessions ratio without the rounding of a few long sessions. */
  ratio?: number;
  /** Each round's sessions/s and ratio (BENCH_POP3_ROUNDS); `ratio` is the median of theirs. */
  rounds?: { mailroomSessionsPerSecond: number; dovecotSessionsPerSecond: number; ratio: number; mailroomCpuMsPerSession?: number; dovecotCpuMsPerSession?: number }[];
}

/** The same messages for every account and both servers. */
function corpus(count: number): Buffer[] {
  const rand = prng(4242);
  return Array.from({ length: count }, (_, n) => benchMessage(n, rand));
}

interface Stats {
  sessions: number;
  retrieved: number;
  bytes: number;
  failures: number;
  firstFailures: string[];
  latencies: Map<string, number[]>;
}

function fail(stats: Stats, what: string): void {
  stats.failures++;
  if (stats.firstFailures.length < 10) stats.firstFailures.push(what.slice(0, 160));
}

async function timed<T>(stats: Stats, kind: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await f();
  let list = stats.latencies.get(kind);
  if (!list) stats.latencies.set(kind, (list = []));
  list.push(performance.now() - t0);
  return out;
}

/** One whole POP3 session; true when every step succeeded. */
async function session(port: number, user: string, stats: Stats): Promise<boolean> {
  const c = await timed(stats, 'connect', () => RawPop3Client.connect(port));
  try {
    const login = await timed(stats, 'login', async () => {
      const u = await c.command(`USER ${user}`);
      return u.ok ? c.command(`PASS ${PASSWORD}`) : u;
    });
    if (!login.ok) return void fail(stats, `${user} login: ${login.status}`), false;
    const uidl = await timed(stats, 'UIDL', () => c.command('UIDL', { multiline: true, keepBody: true }));
    stats.bytes += uidl.bytes;
    if (!uidl.ok) return void fail(stats, `UIDL: ${uidl.status}`), false;
    const count = uidl.body.toString('latin1').split('\r\n').filter((l) => /^\d+ /.test(l)).length;
    for (let n = 1; n <= count; n++) {
      const r = await timed(stats, 'RETR', () => c.command(`RETR ${n}`, { multiline: true }));
      stats.bytes += r.bytes;
      if (!r.ok) return void fail(stats, `RETR ${n}: ${r.status}`), false;
      stats.retrieved++;
    }
    const quit = await timed(stats, 'QUIT', () => c.command('QUIT'));
    if (!quit.ok) return void fail(stats, `QUIT: ${quit.status}`), false;
    return true;
  } finally {
    c.close();
  }
}

async function clientLoop(port: number, user: string, until: number, stats: Stats): Promise<void> {
  while (Date.now() < until) {
    try {
      if (await session(port, user, stats)) stats.sessions++;
    } catch (err) {
      fail(stats, `${user}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200)); // a broken server must not spin the loop
    }
  }
}

async function measure(server: string, port: number, clients: number, seconds: number, prefillSeconds: number, pid: number): Promise<Pop3TargetResult> {
  const stats: Stats = { sessions: 0, retrieved: 0, bytes: 0, failures: 0, firstFailures: [], latencies: new Map() };
  if (process.env.BENCH_POP3_WARMUP !== '0') {
    // One untimed session per account first, on both servers alike: each server's once-per-account
    // work (Mailroom: the scrypt hash before its verified-credential cache answers, and \Seen for
    // every message; Dovecot: indexing the maildir) stays out of the timed polling sessions.
    process.stderr.write(`  ${server}: one warm-up session per account…\n`);
    const warm: Stats = { sessions: 0, retrieved: 0, bytes: 0, failures: 0, firstFailures: [], latencies: new Map() };
    await Promise.all(Array.from({ length: clients }, (_, i) => session(port, userOf(i), warm)));
    if (warm.failures > 0) throw new Error(`warm-up: ${warm.firstFailures.join('; ')}`);
  }
  process.stderr.write(`  ${server}: ${clients} clients for ${seconds} s…\n`);
  const cpuBefore = treeCpuSeconds(pid);
  const mainBefore = threadCpuSeconds(pid)?.get(pid);
  const started = performance.now();
  const until = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, (_, i) => clientLoop(port, userOf(i), until, stats)));
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = treeCpuSeconds(pid);
  const mainAfter = threadCpuSeconds(pid)?.get(pid);
  const latencyMs: Pop3TargetResult['latencyMs'] = {};
  for (const [kind, list] of stats.latencies) {
    list.sort((a, b) => a - b);
    const mean = list.reduce((a, b) => a + b, 0) / list.length;
    latencyMs[kind] = { count: list.length, median: round(list[Math.floor(list.length / 2)]), mean: round(mean), p99: round(list[Math.min(list.length - 1, Math.floor(list.length * 0.99))]) };
  }
  const mb = stats.bytes / 1024 / 1024;
  return {
    server,
    clients,
    seconds: round(elapsed),
    sessions: stats.sessions,
    sessionsPerSecond: round(stats.sessions / elapsed),
    messagesRetrieved: stats.retrieved,
    megabytesReceived: round(mb),
    megabytesPerSecond: round(mb / elapsed),
    failures: stats.failures,
    firstFailures: stats.firstFailures,
    latencyMs,
    prefillSeconds: round(prefillSeconds),
    ...(cpuBefore !== undefined && cpuAfter !== undefined
      ? { serverCpuSeconds: round(cpuAfter - cpuBefore), serverCpuMsPerSession: stats.sessions > 0 ? round(((cpuAfter - cpuBefore) * 1000) / stats.sessions) : undefined }
      : {}),
    ...(mainBefore !== undefined && mainAfter !== undefined ? { serverMainThreadBusy: round((mainAfter - mainBefore) / elapsed) } : {}),
  };
}

async function benchMailroom(clients: number, seconds: number, messages: Buffer[]): Promise<Pop3TargetResult> {
  const { dataDir } = tempDirs();
  const t0 = performance.now();
  const store = await openStore({ dataDir, bus: new LocalChangeBus() });
  try {
    const users = Array.from({ length: clients }, (_, i) => userOf(i));
    for (const u of users) await createUser(store, u, PASSWORD);
    const ctx = { store, ingest: { spoolDir: join(dataDir, 'tmp'), largePartThreshold: 64 * 1024 } };
    for (const raw of messages) {
      for (const outcome of await deliver(ctx, MessageSource.fromBuffer(raw), users)) {
        if (outcome.status !== 'delivered') throw new Error(`prefill: ${outcome.status} ${outcome.reason ?? ''}`);
      }
    }
  } finally {
    await store.close();
  }
  const prefill = (performance.now() - t0) / 1000;
  const s = await startServer({ dataDir, env: benchMailroomEnv(), nodeArgs: benchNodeArgs() }); // BENCH_MAILROOM_ENV, e.g. MAILROOM_AUTH_CACHE_SIZE=0
  try {
    return await measure('mailroom', s.ports.pop3!, clients, seconds, prefill, s.pid);
  } finally {
    await s.stop();
  }
}

async function benchDovecot(clients: number, seconds: number, messages: Buffer[]): Promise<Pop3TargetResult> {
  const users = Array.from({ length: clients }, (_, i) => ({ user: userOf(i), password: PASSWORD }));
  const d = await startDovecot(users, { pop3: true });
  try {
    const t0 = performance.now();
    const { uid, gid } = d.mailOwner;
    for (const { user } of users) {
      const maildir = join(d.home(user), 'Maildir');
      for (const sub of ['', 'cur', 'new', 'tmp']) {
        mkdirSync(join(maildir, sub), { recursive: true });
        chownSync(join(maildir, sub), uid, gid);
      }
      // Delivered-but-unseen maildir files, as an MDA leaves them; Dovecot indexes them at first login.
      messages.forEach((raw, n) => {
        const file = join(maildir, 'new', `${1_700_000_000 + n}.M${n}P1.bench`);
        writeFileSync(file, raw);
        chownSync(file, uid, gid);
      });
    }
    return await measure(`dovecot ${d.version}`, d.pop3Port!, clients, seconds, (performance.now() - t0) / 1000, d.pid);
  } finally {
    await d.stop();
  }
}

/**
 * Runs the workload against Mailroom, then Dovecot (when installed), BENCH_POP3_ROUNDS
 * times in turn (A B A B: other load on a shared machine hits both alike). Each round's
 * ratio is kept; `ratio` is their median, and `mailroom`/`dovecot` are the figures of the
 * round with that ratio (the last round's when no ratio was measured).
 */
export async function benchPop3(): Promise<Pop3BenchResult> {
  const clients = Math.min(64, Number(process.env.BENCH_POP3_CLIENTS ?? 10));
  const seconds = Math.min(600, Number(process.env.BENCH_POP3_SECONDS ?? 20));
  const count = Math.min(1000, Number(process.env.BENCH_POP3_MESSAGES ?? 100));
  const rounds = Math.max(1, Math.min(10, Number(process.env.BENCH_POP3_ROUNDS ?? 3)));
  const messages = corpus(count);
  const mailboxMegabytes = round(messages.reduce((a, m) => a + m.length, 0) / 1024 / 1024);
  const result: Pop3BenchResult = { clients, seconds, messagesPerMailbox: count, mailboxMegabytes, mailroom: { error: 'not run' }, dovecot: { skipped: 'not run' }, rounds: [] };
  const measured: { mailroom: Pop3BenchResult['mailroom']; dovecot: Pop3BenchResult['dovecot']; ratio: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    try {
      result.mailroom = await benchMailroom(clients, seconds, messages);
    } catch (err) {
      result.mailroom = { error: (err as Error).message };
      process.stderr.write(`  mailroom: ${(err as Error).message}\n`);
    }
    if (process.env.BENCH_POP3_DOVECOT === '0') {
      result.dovecot = { skipped: 'BENCH_POP3_DOVECOT=0: Mailroom only (A B runs of two builds)' };
    } else if (!dovecotVersion()) {
      result.dovecot = { skipped: 'dovecot is not installed here (apt-get install -y dovecot-pop3d); measured Mailroom only' };
      process.stderr.write(`  ${result.dovecot.skipped}\n`);
    } else {
      try {
        result.dovecot = await benchDovecot(clients, seconds, messages);
      } catch (err) {
        result.dovecot = { error: (err as Error).message };
        process.stderr.write(`  dovecot: ${(err as Error).message}\n`);
      }
    }
    if ('sessionsPerSecond' in result.mailroom && 'sessionsPerSecond' in result.dovecot && result.dovecot.megabytesPerSecond > 0) {
      // MB/s rather than the rounded sessions/s: few, large sessions make sessions/s coarse.
      const ratio = round(result.mailroom.megabytesPerSecond / result.dovecot.megabytesPerSecond);
      result.rounds!.push({
        mailroomSessionsPerSecond: result.mailroom.sessionsPerSecond,
        dovecotSessionsPerSecond: result.dovecot.sessionsPerSecond,
        ratio,
        mailroomCpuMsPerSession: result.mailroom.serverCpuMsPerSession,
        dovecotCpuMsPerSession: result.dovecot.serverCpuMsPerSession,
      });
      measured.push({ mailroom: result.mailroom, dovecot: result.dovecot, ratio });
      process.stderr.write(
        `  round ${r + 1}: mailroom ${result.mailroom.sessionsPerSecond} sessions/s ${result.mailroom.megabytesPerSecond} MB/s ${result.mailroom.serverCpuMsPerSession} ms CPU/session, ` +
          `dovecot ${result.dovecot.sessionsPerSecond} sessions/s ${result.dovecot.megabytesPerSecond} MB/s ${result.dovecot.serverCpuMsPerSession} ms CPU/session, ratio ${ratio}\n`,
      );
    } else if ('sessionsPerSecond' in result.mailroom) {
      process.stderr.write(`  round ${r + 1}: mailroom ${result.mailroom.sessionsPerSecond} sessions/s ${result.mailroom.megabytesPerSecond} MB/s ${result.mailroom.serverCpuMsPerSession} ms CPU/session, main thread busy ${result.mailroom.serverMainThreadBusy}\n`);
    }
  }
  if (measured.length > 0) {
    const chosen = [...measured].sort((a, b) => a.ratio - b.ratio)[Math.floor((measured.length - 1) / 2)];
    Object.assign(result, { ratio: chosen.ratio, mailroom: chosen.mailroom, dovecot: chosen.dovecot });
  }
  return result;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
