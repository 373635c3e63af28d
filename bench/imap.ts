/**
 * IMAP load generator: N concurrent clients (BENCH_IMAP_CLIENTS, default "10,50": one row
 * per count) on one pre-filled mailbox (BENCH_IMAP_MESSAGES, default 1000) for a fixed time
 * (BENCH_IMAP_SECONDS, default 20), each looping the mix a mail client produces:
 * LIST, STATUS, SELECT, FETCH 1:* (FLAGS UID), headers of the last 20, one full body,
 * STORE +FLAGS \Seen, UID SEARCH (UNSEEN / FROM / SUBJECT), APPEND, and EXPUNGE of the
 * message it appended; every fifth loop it logs out and logs in again on a new
 * connection. Raw sockets, one command at a time per client. Every client tracks the
 * message count from EXISTS and EXPUNGE responses, as a client must (another client's
 * EXPUNGE may be announced right after a SELECT's EXISTS).
 *
 * Runs against Mailroom (the built binary, temp data dir) and a private Dovecot on
 * loopback when one is installed, alternating (BENCH_IMAP_ROUNDS, default 3, the median
 * is kept); reports commands/s of both, their ratio, and each server's CPU per command.
 * Loopback only; bounded in time and count.
 */
import { startServer, runCli } from '../test/harness/server.js';
import { prng } from './corpus.js';
import { dovecotVersion, startDovecot } from './dovecot.js';
import { RawImapClient, quoted, type ImapReply } from './imap-raw-client.js';
import { benchMailroomEnv, benchNodeArgs } from './login.js';
import { threadCpuSeconds, treeCpuSeconds } from './process-cpu.js';

const USER = 'bench@bench.test';
const PASSWORD = 'bench-password';

export interface ImapTargetResult {
  server: string;
  clients: number;
  seconds: number;
  commands: number;
  commandsPerSecond: number;
  loops: number;
  /** Commands answered NO or BAD (the mix is valid, so any is a finding). */
  failures: number;
  firstFailures: string[];
  megabytesReceived: number;
  /** Mean and 99th percentile latency per command kind, in ms. */
  latencyMs: Record<string, { count: number; mean: number; p99: number }>;
  prefillSeconds: number;
  /** commands/s of every round, when this is the median of several. */
  rounds?: number[];
  /** CPU seconds the server's processes used during the mix (not the prefill), when measurable. */
  serverCpuSeconds?: number;
  /** Server CPU per command in ms: steadier than commands/s on a machine with other load. */
  serverCpuMsPerCommand?: number;
  /**
   * Share of the run the server's main thread was on a CPU (Mailroom: the event loop that does all
   * protocol work). Near 1 means that one thread is the limit; well below 1 means it is not.
   */
  serverMainThreadBusy?: number;
}

export interface ImapBenchResult {
  clients: number;
  seconds: number;
  messages: number;
  mailroom: ImapTargetResult | { error: string };
  dovecot: ImapTargetResult | { skipped: string } | { error: string };
  /** Mailroom commands/s divided by Dovecot's. */
  ratio?: number;
}

/** A small realistic message: 1–30 KB of text, every fifth with a small attachment. */
export function benchImapMessage(n: number, rand: () => number): Buffer {
  const words = ['meeting', 'report', 'invoice', 'hello', 'thanks', 'project', 'update', 'budget', 'travel', 'lunch'];
  const size = Math.round(1024 * Math.pow(30, rand()));
  const lines: string[] = [];
  for (let len = 0; len < size; ) {
    const line = Array.from({ length: 9 }, () => words[Math.floor(rand() * words.length)]).join(' ');
    lines.push(line);
    len += line.length + 2;
  }
  const head = [
    `From: Sender ${n % 40} <sender${n % 40}@example.net>`,
    `To: ${USER}`,
    `Subject: ${words[n % words.length]} number ${n}`,
    `Date: Mon, 02 Mar 2026 ${String(8 + (n % 10)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00 +0100`,
    `Message-ID: <imap-bench-${n}-${Math.floor(rand() * 1e9)}@example.net>`,
    'MIME-Version: 1.0',
  ];
  if (n % 5 !== 0) return Buffer.from(`${head.join('\r\n')}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${lines.join('\r\n')}\r\n`);
  const attachment = Buffer.alloc(4096, n % 256).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    `${head.join('\r\n')}\r\nContent-Type: multipart/mixed; boundary="b${n}"\r\n\r\n--b${n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n` +
      `${lines.join('\r\n')}\r\n--b${n}\r\nContent-Type: application/pdf; name="doc${n}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${attachment}\r\n--b${n}--\r\n`,
  );
}

/** Connects and logs in; STARTTLS first when the server refuses plaintext login. */
export async function loginClient(port: number): Promise<RawImapClient> {
  const { client, greeting } = await RawImapClient.connect(port);
  if (!greeting.startsWith('* OK')) throw new Error(`greeting: ${greeting}`);
  const caps = (await client.ok('CAPABILITY')).untagged.join(' ');
  if (/\bLOGINDISABLED\b/i.test(caps)) await client.startTls();
  await client.ok(`LOGIN ${quoted(USER)} ${quoted(PASSWORD)}`);
  return client;
}

async function prefill(port: number, count: number): Promise<number> {
  const started = Date.now();
  const rand = prng(7);
  const clients = await Promise.all([0, 1, 2, 3].map(() => loginClient(port)));
  let next = 0;
  await Promise.all(
    clients.map(async (c) => {
      while (next < count) {
        const n = next++;
        await c.ok(`APPEND INBOX${n % 3 === 0 ? ' (\\Seen)' : ''}`, { literal: benchImapMessage(n, rand) });
      }
      await c.close();
    }),
  );
  return (Date.now() - started) / 1000;
}

interface Stats {
  commands: number;
  loops: number;
  failures: number;
  firstFailures: string[];
  bytes: number;
  latencies: Map<string, number[]>;
}

async function timed(stats: Stats, kind: string, c: RawImapClient, command: string, literal?: Buffer) {
  const t0 = performance.now();
  const reply = await c.command(command, { literal });
  const ms = performance.now() - t0;
  stats.commands++;
  stats.bytes += reply.bytes;
  let list = stats.latencies.get(kind);
  if (!list) stats.latencies.set(kind, (list = []));
  list.push(ms);
  if (reply.status !== 'OK') {
    stats.failures++;
    if (stats.firstFailures.length < 10) stats.firstFailures.push(`${command.slice(0, 60)} → ${reply.text.slice(0, 120)}`);
  }
  return reply;
}

/**
 * The number of messages the client knows after a reply: the last EXISTS, minus one per
 * EXPUNGE after it. A server may announce an EXPUNGE right after the EXISTS of a SELECT
 * (another session expunged meanwhile, RFC 9051 7.5.1), so the first EXISTS alone is not it.
 */
export function messageCount(before: number, reply: ImapReply): number {
  let n = before;
  for (const line of reply.untagged) {
    const m = /^\* (\d+) (EXISTS|EXPUNGE)\b/i.exec(line);
    if (m) n = m[2].toUpperCase() === 'EXISTS' ? Number(m[1]) : n - 1;
  }
  return n;
}

/** LOGOUT, then a new connection and LOGIN, both timed (a client closing and coming back). */
async function relogin(stats: Stats, port: number, c: RawImapClient): Promise<RawImapClient> {
  await timed(stats, 'LOGOUT', c, 'LOGOUT');
  c.destroy();
  const { client, greeting } = await RawImapClient.connect(port);
  if (!greeting.startsWith('* OK')) throw new Error(`greeting: ${greeting}`);
  await timed(stats, 'LOGIN', client, `LOGIN ${quoted(USER)} ${quoted(PASSWORD)}`);
  return client;
}

async function clientLoop(port: number, id: number, until: number, stats: Stats): Promise<void> {
  let c = await loginClient(port);
  const rand = prng(1000 + id);
  const senders = ['sender3@example.net', 'sender17', 'Sender 25', 'nobody@nowhere.test'];
  const subjects = ['invoice', 'number 42', 'budget', 'no such subject'];
  let n = 0;
  try {
    while (Date.now() < until) {
      if (n > 0 && n % 5 === 0) c = await relogin(stats, port, c);
      await timed(stats, 'LIST', c, 'LIST "" "*"');
      await timed(stats, 'STATUS', c, 'STATUS INBOX (MESSAGES UNSEEN UIDNEXT)');
      let exists = messageCount(0, await timed(stats, 'SELECT', c, 'SELECT INBOX'));
      exists = messageCount(exists, await timed(stats, 'FETCH flags', c, 'FETCH 1:* (FLAGS UID)'));
      if (exists > 0) {
        await timed(stats, 'FETCH headers', c, `FETCH ${Math.max(1, exists - 19)}:${exists} (UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])`);
        const seq = 1 + Math.floor(rand() * exists);
        await timed(stats, 'FETCH body', c, `FETCH ${seq} (UID BODY[])`);
        await timed(stats, 'STORE', c, `STORE ${seq} +FLAGS (\\Seen)`);
      }
      await timed(stats, 'SEARCH', c, 'UID SEARCH UNSEEN');
      await timed(stats, 'SEARCH', c, `UID SEARCH FROM ${quoted(senders[n % senders.length])}`);
      await timed(stats, 'SEARCH', c, `UID SEARCH SUBJECT ${quoted(subjects[n % subjects.length])}`);
      const appended = await timed(stats, 'APPEND', c, 'APPEND INBOX', benchImapMessage(100_000 + id * 10_000 + n, rand));
      const uid = /APPENDUID \d+ (\d+)/i.exec(appended.text)?.[1];
      if (uid) {
        await timed(stats, 'STORE', c, `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
        await timed(stats, 'EXPUNGE', c, 'EXPUNGE');
      }
      stats.loops++;
      n++;
    }
  } finally {
    await c.close();
  }
}

function summarize(server: string, stats: Stats, clients: number, seconds: number, prefillSeconds: number): ImapTargetResult {
  const latencyMs: ImapTargetResult['latencyMs'] = {};
  for (const [kind, list] of stats.latencies) {
    list.sort((a, b) => a - b);
    const mean = list.reduce((a, b) => a + b, 0) / list.length;
    latencyMs[kind] = { count: list.length, mean: round(mean), p99: round(list[Math.min(list.length - 1, Math.floor(list.length * 0.99))]) };
  }
  return {
    server,
    clients,
    seconds: round(seconds),
    commands: stats.commands,
    commandsPerSecond: round(stats.commands / seconds),
    loops: stats.loops,
    failures: stats.failures,
    firstFailures: stats.firstFailures,
    megabytesReceived: round(stats.bytes / 1024 / 1024),
    latencyMs,
    prefillSeconds: round(prefillSeconds),
  };
}

/** Prefills the mailbox, then runs the mix; `pid` is the server's root process, for its CPU time. */
export async function measure(server: string, port: number, clients: number, seconds: number, messages: number, pid?: number): Promise<ImapTargetResult> {
  process.stderr.write(`  ${server}: appending ${messages} messages…\n`);
  const prefillSeconds = await prefill(port, messages);
  process.stderr.write(`  ${server}: ${clients} clients for ${seconds} s…\n`);
  const stats: Stats = { commands: 0, loops: 0, failures: 0, firstFailures: [], bytes: 0, latencies: new Map() };
  const cpuBefore = pid === undefined ? undefined : treeCpuSeconds(pid);
  const mainBefore = pid === undefined ? undefined : threadCpuSeconds(pid)?.get(pid);
  const started = performance.now();
  const until = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, (_, id) => clientLoop(port, id, until, stats)));
  const result = summarize(server, stats, clients, (performance.now() - started) / 1000, prefillSeconds);
  const cpuAfter = pid === undefined ? undefined : treeCpuSeconds(pid);
  const mainAfter = pid === undefined ? undefined : threadCpuSeconds(pid)?.get(pid);
  if (mainBefore !== undefined && mainAfter !== undefined) result.serverMainThreadBusy = round((mainAfter - mainBefore) / result.seconds);
  if (cpuBefore !== undefined && cpuAfter !== undefined && stats.commands > 0) {
    result.serverCpuSeconds = round(cpuAfter - cpuBefore);
    result.serverCpuMsPerCommand = round(((cpuAfter - cpuBefore) * 1000) / stats.commands);
  }
  return result;
}

async function benchMailroom(clients: number, seconds: number, messages: number): Promise<ImapTargetResult> {
  // Clients reconnect every fifth loop, so old connections may still count for a moment; the
  // Dovecot instance allows 100 per user and address (dovecot.ts), this the same headroom.
  const limit = String(Math.max(100, clients * 2));
  const s = await startServer({ env: { MAILROOM_LIMITS_CONNECTIONS_PER_IP: limit, ...benchMailroomEnv() }, nodeArgs: benchNodeArgs() });
  try {
    const added = await runCli(['user', 'add', USER, '--password', PASSWORD], { dataDir: s.dataDir });
    if (added.code !== 0) throw new Error(`user add: ${added.stderr.trim()}`);
    return await measure('mailroom', s.ports.imap!, clients, seconds, messages, s.pid);
  } finally {
    await s.stop();
  }
}

async function benchDovecot(clients: number, seconds: number, messages: number): Promise<ImapTargetResult> {
  const d = await startDovecot([{ user: USER, password: PASSWORD }]);
  try {
    return { ...(await measure(`dovecot ${d.version}`, d.port, clients, seconds, messages, d.pid)) };
  } finally {
    await d.stop();
  }
}

/** One client count: the median round of each server and their ratio. */
async function benchImapClients(clients: number, seconds: number, messages: number, rounds: number): Promise<ImapBenchResult> {
  const result: ImapBenchResult = { clients, seconds, messages, mailroom: { error: 'not run' }, dovecot: { skipped: 'not run' } };
  const ours: ImapTargetResult[] = [];
  const theirs: ImapTargetResult[] = [];
  // BENCH_IMAP_DOVECOT=0: Mailroom only, for A B runs of two Mailroom builds
  const dovecot = process.env.BENCH_IMAP_DOVECOT === '0' ? undefined : dovecotVersion();
  if (!dovecot) result.dovecot = { skipped: process.env.BENCH_IMAP_DOVECOT === '0' ? 'BENCH_IMAP_DOVECOT=0' : 'dovecot is not installed here (apt-get install -y dovecot-imapd); measured Mailroom only' };
  // A B A B: load from elsewhere on a shared machine then weighs on both alike
  for (let round = 0; round < rounds; round++) {
    try {
      ours.push(await benchMailroom(clients, seconds, messages));
    } catch (err) {
      result.mailroom = { error: (err as Error).message };
      process.stderr.write(`  mailroom: ${(err as Error).message}\n`);
    }
    if (!dovecot) continue;
    try {
      theirs.push(await benchDovecot(clients, seconds, messages));
    } catch (err) {
      result.dovecot = { error: (err as Error).message };
      process.stderr.write(`  dovecot: ${(err as Error).message}\n`);
    }
  }
  if (ours.length) result.mailroom = median(ours);
  if (theirs.length) result.dovecot = median(theirs);
  if ('commandsPerSecond' in result.mailroom && 'commandsPerSecond' in result.dovecot) {
    result.ratio = round(result.mailroom.commandsPerSecond / result.dovecot.commandsPerSecond);
    process.stderr.write(`  ${clients} clients: mailroom ${result.mailroom.commandsPerSecond} commands/s, dovecot ${result.dovecot.commandsPerSecond} commands/s, ratio ${result.ratio}\n`);
  }
  return result;
}

/** The run with the median commands/s (the lower middle one of an even count). */
function median(runs: ImapTargetResult[]): ImapTargetResult {
  const sorted = [...runs].sort((a, b) => a.commandsPerSecond - b.commandsPerSecond);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], rounds: runs.map((r) => r.commandsPerSecond) };
}

/**
 * Runs the workload for each client count of BENCH_IMAP_CLIENTS (default "10,50"), each
 * BENCH_IMAP_ROUNDS times (default 3: the figures are medians of alternated runs) alternating Mailroom and Dovecot (when installed).
 * The top-level fields are the first client count's, `runs` has every count.
 */
export async function benchImap(): Promise<ImapBenchResult & { runs: ImapBenchResult[] }> {
  const counts = (process.env.BENCH_IMAP_CLIENTS ?? '10,50').split(',').map(Number).filter((n) => n > 0);
  const seconds = Math.min(600, Number(process.env.BENCH_IMAP_SECONDS ?? 20));
  const messages = Math.min(20_000, Number(process.env.BENCH_IMAP_MESSAGES ?? 1000));
  const rounds = Math.max(1, Math.min(9, Number(process.env.BENCH_IMAP_ROUNDS ?? 3)));
  const runs: ImapBenchResult[] = [];
  for (const clients of counts) runs.push(await benchImapClients(clients, seconds, messages, rounds));
  return { ...runs[0], runs };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
