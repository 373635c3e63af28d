/**
 * LMTP straight in: BENCH_LMTP_MESSAGES (default 2000) messages of ~10 KB over
 * BENCH_LMTP_CLIENTS (default 10) connections, LHLO + pipelined MAIL/RCPT/DATA, one
 * recipient each; counted: 250 after DATA, which both servers give only once the
 * message is in the mailbox. Mailroom's LMTP listener (the built binary, SQLite) against
 * Dovecot's lmtp (private instance, maildir, `mail_fsync = optimized`), same client,
 * same run, BENCH_LMTP_ROUNDS (default 3) times in turn (A B A B); the reported round is
 * the one with the median ratio, and each round's rates and server CPU per message are
 * kept. Also the helpers the `pg-delivery` workload reuses (a server per node).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startServer, type RunningTestServer } from '../test/harness/server.js';
import { dovecotVersion, startDovecot } from './dovecot.js';
import { benchNodeArgs } from './login.js';
import { cpuMsPer, treeCpuSeconds } from './process-cpu.js';
import { load, message, summary, type SmtpTargetResult } from './smtp-load.js';

const USER = 'bench@bench.test';
const PASSWORD = 'bench-password';

export interface LmtpBenchResult {
  clients: number;
  messages: number;
  /** Messages sent to each server before the measured ones, untimed (warmupMessages). */
  warmup: number;
  messageBytes: number;
  /** The round whose ratio is the median (the last round when there is no ratio). */
  mailroom: SmtpTargetResult | { error: string };
  dovecot: SmtpTargetResult | { skipped: string } | { error: string };
  /** Median over rounds of Mailroom accepted/s ÷ Dovecot accepted/s. */
  ratio?: number;
  /** Each round (BENCH_LMTP_ROUNDS, Mailroom then Dovecot in turn: A B A B). */
  rounds: { mailroomPerSecond?: number; dovecotPerSecond?: number; ratio?: number; mailroomCpuMsPerMessage?: number; dovecotCpuMsPerMessage?: number }[];
}

/** Runs the load while counting the CPU of the server tree rooted at `pid`. */
async function measured(pid: number, run: () => Promise<SmtpTargetResult>): Promise<SmtpTargetResult> {
  const before = treeCpuSeconds(pid);
  const r = await run();
  return { ...r, cpuMsPerMessage: cpuMsPer(before, treeCpuSeconds(pid), r.accepted) };
}

/** ~10 KB messages, one per send (each its own Message-ID: a repeated one is a re-send, stored once); `from` offsets the numbering. */
export function lmtpMessages(total: number, from = 0): Buffer[] {
  return Array.from({ length: total }, (_, i) => message(from + i, 10_000));
}

/**
 * BENCH_LMTP_WARMUP (default 2000) messages sent before the measured load, untimed, to
 * every server alike: a server runs for weeks, and the first ~2,000 messages after a start
 * cost Mailroom about half again as much CPU each as later ones (V8 compiling hot code;
 * with 500, PostgreSQL one node measured 1.4-1.67 ms a message, with 1,500 1.04-1.19),
 * which would weigh on every node of a multi-node run once per node. Numbered after the
 * measured ones, so none is taken for a re-send of another; `servers` times as many for
 * a load split over that many nodes.
 */
export function warmupMessages(measured: number, servers = 1): Buffer[] {
  return lmtpMessages(Math.max(0, Number(process.env.BENCH_LMTP_WARMUP ?? 2000)) * servers, measured);
}

/** Sends the warm-up over `clients` connections; throws if the server refused any of it. */
export async function warmUp(port: number | number[], clients: number, messages: Buffer[], rcpt: (n: number) => string): Promise<void> {
  if (messages.length === 0) return;
  const r = await load(port, clients, messages.length, messages, 'LHLO', rcpt);
  if (r.accepted !== messages.length) throw new Error(`warm-up: ${messages.length - r.accepted} of ${messages.length} refused (${r.firstFailures[0] ?? ''})`);
}

/**
 * `nodes` Mailroom servers on one store (SQLite: one node; PostgreSQL: `databaseUrl`
 * shared), only LMTP listening, with `users` created; `fn` gets the LMTP ports.
 */
export async function withLmtpNodes<T>(nodes: number, users: string[], databaseUrl: string | undefined, fn: (ports: number[], servers: RunningTestServer[]) => Promise<T>): Promise<T> {
  const env: Record<string, string> = { MAILROOM_IMAP: 'off', MAILROOM_IMAPS: 'off', MAILROOM_POP3: 'off', MAILROOM_POP3S: 'off', MAILROOM_SMTP: 'off', MAILROOM_SUBMISSION: 'off', MAILROOM_SUBMISSIONS: 'off', MAILROOM_HTTP: 'off' };
  if (databaseUrl) env.MAILROOM_DATABASE_URL = databaseUrl;
  const servers: RunningTestServer[] = [];
  try {
    for (let i = 0; i < nodes; i++) servers.push(await startServer({ env, nodeArgs: benchNodeArgs() }));
    for (const u of users) {
      const added = await runCli(['user', 'add', u, '--password', PASSWORD], { dataDir: servers[0].dataDir, env: databaseUrl ? { MAILROOM_DATABASE_URL: databaseUrl } : {} });
      if (added.code !== 0) throw new Error(`user add: ${added.stderr.trim()}`);
    }
    return await fn(servers.map((s) => s.ports.lmtp!), servers);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

async function benchMailroom(clients: number, messages: Buffer[], warm: Buffer[]): Promise<SmtpTargetResult> {
  return withLmtpNodes(1, [USER], undefined, async ([port], [server]) => {
    await warmUp(port, clients, warm, () => USER);
    return measured(server.pid, async () => {
      const r = await load(port, clients, messages.length, messages, 'LHLO', () => USER);
      return { server: 'mailroom', ...summary(r), delivered: r.accepted, endToEndPerSecond: summary(r).acceptedPerSecond };
    });
  });
}

async function benchDovecot(clients: number, messages: Buffer[], warm: Buffer[]): Promise<SmtpTargetResult> {
  const d = await startDovecot([{ user: USER, password: PASSWORD }], { lmtp: true });
  try {
    await warmUp(d.lmtpPort!, clients, warm, () => USER);
    const r = await measured(d.pid, async () => ({ server: `dovecot ${d.version} lmtp`, ...summary(await load(d.lmtpPort!, clients, messages.length, messages, 'LHLO', () => USER)), delivered: 0, endToEndPerSecond: 0 }));
    const maildir = join(d.home(USER), 'Maildir');
    const delivered = ['new', 'cur'].reduce((n, sub) => n + safeCount(join(maildir, sub)), 0) - warm.length;
    return { ...r, delivered, endToEndPerSecond: r.acceptedPerSecond };
  } finally {
    await d.stop();
  }
}

function safeCount(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

export async function benchLmtp(): Promise<LmtpBenchResult> {
  const clients = Number(process.env.BENCH_LMTP_CLIENTS ?? 10);
  const total = Number(process.env.BENCH_LMTP_MESSAGES ?? 2000);
  const rounds = Math.max(1, Math.min(10, Number(process.env.BENCH_LMTP_ROUNDS ?? 3)));
  const messages = lmtpMessages(total);
  const warm = warmupMessages(total);
  const messageBytes = Math.round(messages.reduce((a, m) => a + m.length, 0) / messages.length);
  const result: LmtpBenchResult = { clients, messages: total, warmup: warm.length, messageBytes, mailroom: { error: 'not run' }, dovecot: { skipped: 'not run' }, rounds: [] };
  const kept: { mailroom: LmtpBenchResult['mailroom']; dovecot: LmtpBenchResult['dovecot']; ratio?: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    process.stderr.write(`  lmtp round ${i + 1}/${rounds}: mailroom, ${total} × ${messageBytes} B over ${clients} connections…\n`);
    let mailroom: LmtpBenchResult['mailroom'];
    let dovecot: LmtpBenchResult['dovecot'];
    try {
      mailroom = await benchMailroom(clients, messages, warm);
    } catch (err) {
      mailroom = { error: (err as Error).message };
    }
    if (!dovecotVersion()) dovecot = { skipped: 'dovecot is not installed (apt-get install -y dovecot-lmtpd)' };
    else {
      process.stderr.write('  lmtp: dovecot…\n');
      try {
        dovecot = await benchDovecot(clients, messages, warm);
      } catch (err) {
        dovecot = { error: (err as Error).message };
      }
    }
    const ours = 'acceptedPerSecond' in mailroom ? mailroom : undefined;
    const peer = 'acceptedPerSecond' in dovecot ? dovecot : undefined;
    const ratio = ours && peer && peer.acceptedPerSecond > 0 ? Math.round((ours.acceptedPerSecond / peer.acceptedPerSecond) * 100) / 100 : undefined;
    kept.push({ mailroom, dovecot, ratio });
    result.rounds.push({ mailroomPerSecond: ours?.acceptedPerSecond, dovecotPerSecond: peer?.acceptedPerSecond, ratio, mailroomCpuMsPerMessage: ours?.cpuMsPerMessage, dovecotCpuMsPerMessage: peer?.cpuMsPerMessage });
    process.stderr.write(`  lmtp round ${i + 1}: mailroom ${ours?.acceptedPerSecond} msg/s (${ours?.cpuMsPerMessage} ms CPU/msg), dovecot ${peer?.acceptedPerSecond} msg/s (${peer?.cpuMsPerMessage} ms CPU/msg), ratio ${ratio}\n`);
  }
  // The reported figures are one real round's (the median ratio's), not a mix of rounds.
  const withRatio = kept.filter((k) => k.ratio !== undefined).sort((a, b) => a.ratio! - b.ratio!);
  const chosen = withRatio.length > 0 ? withRatio[Math.floor((withRatio.length - 1) / 2)] : kept[kept.length - 1];
  result.mailroom = chosen.mailroom;
  result.dovecot = chosen.dovecot;
  result.ratio = chosen.ratio;
  return result;
}
