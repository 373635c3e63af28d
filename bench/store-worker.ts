/**
 * SQLite in a worker thread against SQLite on the main thread (database.sqlite_worker),
 * run A B A B (BENCH_SW_ROUNDS rounds, default 2) so machine noise hits both alike:
 * - deliver: `deliver()` with 4 concurrent deliveries into 10 users through
 *   openBackend (what `serve` opens), BENCH_SW_MESSAGES (default 1000); also the event
 *   loop delay meanwhile (p99 and max, ms): what every other session waits.
 * - imap: the mix of bench/store.ts (APPEND, UID FETCH, UID STORE, NOOP) with
 *   BENCH_SW_CLIENTS clients (default 8) for BENCH_SW_SECONDS (default 10) on `serve`,
 *   with the server process's CPU time per command (from /proc).
 * - lock: another process holds the SQLite write lock for 1.5 s (as a CLI command in a
 *   long transaction can); meanwhile one client APPENDs (it must wait) and another
 *   asks CAPABILITY (needs no store): CAPABILITY's latency is the server's stall.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { openBackend } from '../src/store/open.js';
import { createUser } from '../src/mail/accounts.js';
import { deliver } from '../src/mail/delivery.js';
import { runCli, startServer } from '../test/harness/server.js';
import { benchMessage, prng } from './corpus.js';
import { benchImapMessage } from './imap.js';
import { RawImapClient } from './imap-raw-client.js';
import { imapRate } from './store.js';
import { MessageSource } from '../src/mail/message-source.js';

const USER = 'bench@store.test';
const PASSWORD = 'bench-password';

type Mode = 'worker' | 'main';

async function deliverRate(mode: Mode, count: number): Promise<{ messagesPerSecond: number; cpuMsPerMessage: number; loopDelayP99Ms: number; loopDelayMaxMs: number }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mailroom-bench-sw-'));
  const backend = await openBackend({ dataDir, database: { sqlite_worker: mode === 'worker' } });
  const { store } = backend;
  try {
    for (let u = 0; u < 10; u++) await createUser(store, `user${u}@bench.test`, 'pw');
    const ctx = { store, ingest: { spoolDir: join(dataDir, 'tmp'), largePartThreshold: 64 * 1024 } };
    const rand = prng(7);
    const raws = Array.from({ length: count }, (_, n) => benchMessage(n, rand));
    let next = 0;
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < count) {
        const n = next++;
        const [outcome] = await deliver(ctx, MessageSource.fromBuffer(raws[n]), [`user${n % 10}@bench.test`]);
        if (outcome.status !== 'delivered') throw new Error(`message ${n}: ${outcome.status}`);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    delay.disable();
    return { messagesPerSecond: Math.round(count / seconds), cpuMsPerMessage: ms((used.user + used.system) / 1000 / count), loopDelayP99Ms: nsToMs(delay.percentile(99)), loopDelayMaxMs: nsToMs(delay.max) };
  } finally {
    await backend.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function withServer<T>(mode: Mode, fn: (port: number, dataDir: string, pid: number) => Promise<T>): Promise<T> {
  const server = await startServer({ env: { MAILROOM_LOG_LEVEL: 'info', MAILROOM_DATABASE_SQLITE_WORKER: String(mode === 'worker') } });
  try {
    const added = await runCli(['user', 'add', USER, '--password', PASSWORD], { dataDir: server.dataDir });
    if (added.code !== 0) throw new Error(`user add: ${added.stderr.trim()}`);
    return await fn(server.ports.imap!, server.dataDir, server.pid);
  } finally {
    await server.stop();
  }
}

/** CAPABILITY latency while another connection holds the write lock and an APPEND waits for it. */
async function lockStall(port: number, dataDir: string): Promise<{ capabilityMs: number; appendMs: number }> {
  const { client: writer } = await RawImapClient.connect(port);
  const { client: other } = await RawImapClient.connect(port);
  await writer.ok(`LOGIN ${USER} ${PASSWORD}`);
  await other.ok(`LOGIN ${USER} ${PASSWORD}`);
  const db = new Database(join(dataDir, 'mailroom.db'));
  db.exec('BEGIN IMMEDIATE');
  const t0 = performance.now();
  const append = writer.command('APPEND INBOX', { literal: benchImapMessage(1, prng(3)), timeoutMs: 30_000 }).then(() => performance.now() - t0);
  await new Promise((r) => setTimeout(r, 200)); // the APPEND is now waiting for the lock
  const t1 = performance.now();
  // The lock is held 1.5 s in all (this bench process is not the server, so its timer is not stalled).
  const release = new Promise<void>((resolve) => setTimeout(() => {
    db.exec('COMMIT');
    resolve();
  }, 1300));
  await other.ok('CAPABILITY', { timeoutMs: 30_000 });
  const capabilityMs = performance.now() - t1;
  await release;
  const appendMs = await append;
  db.close();
  await writer.close();
  await other.close();
  return { capabilityMs: ms(capabilityMs), appendMs: ms(appendMs) };
}

export async function benchStoreWorker(): Promise<object> {
  const rounds = Number(process.env.BENCH_SW_ROUNDS ?? 2);
  const count = Number(process.env.BENCH_SW_MESSAGES ?? 1000);
  const clients = Number(process.env.BENCH_SW_CLIENTS ?? 8);
  const seconds = Number(process.env.BENCH_SW_SECONDS ?? 10);
  const runs: Record<string, unknown>[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const mode of ['main', 'worker'] as const) {
      process.stderr.write(`  round ${r + 1}, ${mode}: deliver, imap, lock\n`);
      const deliverResult = await deliverRate(mode, count);
      const imap = await withServer(mode, async (port, _dir, pid) => {
        const before = cpuMs(pid);
        const rate = await imapRate([port], clients, seconds);
        return { ...rate, serverCpuMsPerCommand: ms((cpuMs(pid) - before) / (rate.commandsPerSecond * seconds)) };
      });
      const lock = await withServer(mode, lockStall);
      runs.push({ round: r + 1, mode, deliver: deliverResult, imap, lock });
    }
  }
  return { settings: { rounds, deliverMessages: count, deliverConcurrency: 4, imapClients: clients, imapSeconds: seconds }, runs };
}

/** user + system CPU time of a process, all threads, in ms (Linux /proc; clock ticks are 1/100 s). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Milliseconds with two decimals. */
function ms(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The loop-delay histogram counts nanoseconds. */
function nsToMs(n: number): number {
  return ms(n / 1e6);
}
