/**
 * Delivery on PostgreSQL against SQLite, and two nodes against one: the same
 * BENCH_LMTP_MESSAGES (default 2000) messages of ~10 KB over BENCH_LMTP_CLIENTS (default
 * 10) LMTP connections, into 10 users (message n to user n mod 10, as an MX serves many
 * mailboxes; one mailbox would serialise every delivery on its UID counter), counted as
 * 250s after DATA (= in the mailbox), after an untimed warm-up of every node
 * (BENCH_LMTP_WARMUP, see lmtp.ts), against:
 * - Mailroom on SQLite (one node, the default store);
 * - Mailroom on PostgreSQL, one `mailroom serve`;
 * - Mailroom on PostgreSQL, two `mailroom serve` nodes sharing the database, the
 *   connections split between them.
 * Each PostgreSQL target gets a fresh database (`mailroom_test_<pid>_<random>` on
 * MAILROOM_TEST_PG or the local postgres://postgres@127.0.0.1:5432), dropped afterwards.
 * BENCH_PG_ROUNDS (default 1) repeats the three targets in turn (A B C A B C) and
 * reports each one's median. BENCH_PG_TARGETS (comma-separated names) runs only some.
 * Beside the rates: CPU milliseconds per message of the Mailroom processes and of the
 * PostgreSQL backends serving the bench database (from /proc), which move far less with
 * the machine's other load than the rates do, so two builds compare on them.
 */
import { adminQuery, freshDatabase, PG_URL } from '../test/harness/pg.js';
import { lmtpMessages, warmUp, warmupMessages, withLmtpNodes } from './lmtp.js';
import { treeCpuSeconds } from './process-cpu.js';
import { load, summary } from './smtp-load.js';

/** The most nodes a target runs: the warm-up is made for that many. */
const maxNodes = 2;

const users = Array.from({ length: 10 }, (_, i) => `user${i}@bench.test`);

interface TargetResult {
  nodes: number;
  accepted: number;
  failures: number;
  firstFailures: string[];
  acceptedPerSecond: number;
  /** Every round's rate; acceptedPerSecond is their median. */
  rounds: number[];
  latencyMs: { mean: number; p50: number; p99: number };
  /** CPU ms per accepted message, median over rounds: Mailroom's processes, PostgreSQL's backends on the bench database. */
  cpuMsPerMessage: { mailroom: number; postgres: number };
  cpuRounds: { mailroom: number; postgres: number }[];
}

/** CPU seconds of each PostgreSQL backend connected to `db` now (LISTEN connections included), by pid. */
async function backendCpu(db: string | undefined): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (!db) return out;
  const r = await adminQuery('SELECT pid FROM pg_stat_activity WHERE datname = $1', [db]);
  for (const { pid } of r.rows as { pid: number }[]) {
    const s = treeCpuSeconds(pid);
    if (s !== undefined) out.set(pid, s);
  }
  return out;
}

async function once(nodes: number, db: { url: string; name: string } | undefined, clients: number, messages: Buffer[], warm: Buffer[]) {
  return withLmtpNodes(nodes, users, db?.url, async (ports, servers) => {
    // Each node gets as many warm-up messages as a lone node (the connections alternate between nodes).
    await warmUp(ports, clients, warm.slice(0, (warm.length / maxNodes) * nodes), (n) => users[n % users.length]);
    const cpu = () => servers.reduce((sum, s) => sum + (treeCpuSeconds(s.pid) ?? 0), 0);
    const [mailroom0, pg0] = [cpu(), await backendCpu(db?.name)];
    const r = await load(ports, clients, messages.length, messages, 'LHLO', (n) => users[n % users.length]);
    // Backends still open (the pools keep them for 30 s idle); one that began during the load counts from 0.
    const [mailroom1, pg1] = [cpu(), await backendCpu(db?.name)];
    let postgres = 0;
    for (const [pid, s] of pg1) postgres += s - (pg0.get(pid) ?? 0);
    const perMessage = (s: number) => Math.round((s * 1000 * 100) / Math.max(1, r.accepted)) / 100;
    return { r, cpu: { mailroom: perMessage(mailroom1 - mailroom0), postgres: perMessage(postgres) } };
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function target(name: string, nodes: number, postgres: boolean, clients: number, messages: Buffer[], warm: Buffer[], acc: Map<string, TargetResult>): Promise<void> {
  process.stderr.write(`  ${name}…\n`);
  const db = postgres ? await freshDatabase() : undefined;
  try {
    const run = await once(nodes, db, clients, messages, warm);
    const r = summary(run.r);
    const prev = acc.get(name);
    const rounds = [...(prev?.rounds ?? []), r.acceptedPerSecond];
    const cpuRounds = [...(prev?.cpuRounds ?? []), run.cpu];
    const cpuMsPerMessage = { mailroom: median(cpuRounds.map((c) => c.mailroom)), postgres: median(cpuRounds.map((c) => c.postgres)) };
    acc.set(name, { nodes, accepted: r.accepted, failures: (prev?.failures ?? 0) + r.failures, firstFailures: [...(prev?.firstFailures ?? []), ...r.firstFailures].slice(0, 3), acceptedPerSecond: median(rounds), rounds, latencyMs: r.latencyMs, cpuMsPerMessage, cpuRounds });
    process.stderr.write(`    ${r.acceptedPerSecond} msg/s, ${r.failures} failures, CPU ms/message: Mailroom ${run.cpu.mailroom}, PostgreSQL ${run.cpu.postgres}\n`);
  } finally {
    await db?.drop();
  }
}

export async function benchPgDelivery(): Promise<object> {
  if (!PG_URL) throw new Error('no PostgreSQL: set MAILROOM_TEST_PG, or run one at 127.0.0.1:5432 (user postgres, trust)');
  const clients = Number(process.env.BENCH_LMTP_CLIENTS ?? 10);
  const total = Number(process.env.BENCH_LMTP_MESSAGES ?? 2000);
  const rounds = Number(process.env.BENCH_PG_ROUNDS ?? 1);
  const messages = lmtpMessages(total);
  const warm = warmupMessages(total, maxNodes);
  const only = process.env.BENCH_PG_TARGETS?.split(',').map((t) => t.trim());
  const targets = [['sqlite', 1, false], ['postgres1Node', 1, true], ['postgres2Nodes', 2, true]] as const;
  const acc = new Map<string, TargetResult>();
  for (let i = 0; i < rounds; i++) {
    for (const [name, nodes, postgres] of targets) if (!only || only.includes(name)) await target(name, nodes, postgres, clients, messages, warm, acc);
  }
  const rate = (k: string) => acc.get(k)?.acceptedPerSecond ?? 0;
  const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : undefined);
  return {
    settings: { clients, messages: total, warmupPerNode: warm.length / maxNodes, users: users.length, rounds },
    ...Object.fromEntries(acc),
    ratioPostgresToSqlite: ratio(rate('postgres1Node'), rate('sqlite')),
    ratioTwoNodesToOne: ratio(rate('postgres2Nodes'), rate('postgres1Node')),
  };
}
