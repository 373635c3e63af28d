/**
 * Delivery on PostgreSQL against SQLite, and two nodes against one: the same
 * BENCH_LMTP_MESSAGES (default 2000) messages of ~10 KB over BENCH_LMTP_CLIENTS (default
 * 10) LMTP connections, into 10 users (message n to user n mod 10, as an MX serves many
 * mailboxes; one mailbox would serialise every delivery on its UID counter), counted as
 * 250s after DATA (= in the mailbox), against:
 * - Mailroom on SQLite (one node, the default store);
 * - Mailroom on PostgreSQL, one `mailroom serve`;
 * - Mailroom on PostgreSQL, two `mailroom serve` nodes sharing the database, the
 *   connections split between them.
 * Each PostgreSQL target gets a fresh database (`mailroom_test_<pid>_<random>` on
 * MAILROOM_TEST_PG or the local postgres://postgres@127.0.0.1:5432), dropped afterwards.
 * BENCH_PG_ROUNDS (default 1) repeats the three targets in turn (A B C A B C) and
 * reports each one's median.
 */
import { freshDatabase, PG_URL } from '../test/harness/pg.js';
import { lmtpMessages, withLmtpNodes } from './lmtp.js';
import { load, summary } from './smtp-load.js';

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
}

async function once(nodes: number, databaseUrl: string | undefined, clients: number, messages: Buffer[]) {
  return withLmtpNodes(nodes, users, databaseUrl, (ports) => load(ports, clients, messages.length, messages, 'LHLO', (n) => users[n % users.length]));
}

async function target(name: string, nodes: number, postgres: boolean, clients: number, messages: Buffer[], acc: Map<string, TargetResult>): Promise<void> {
  process.stderr.write(`  ${name}…\n`);
  const db = postgres ? await freshDatabase() : undefined;
  try {
    const r = summary(await once(nodes, db?.url, clients, messages));
    const prev = acc.get(name);
    const rounds = [...(prev?.rounds ?? []), r.acceptedPerSecond];
    const sorted = [...rounds].sort((a, b) => a - b);
    acc.set(name, { nodes, accepted: r.accepted, failures: (prev?.failures ?? 0) + r.failures, firstFailures: [...(prev?.firstFailures ?? []), ...r.firstFailures].slice(0, 3), acceptedPerSecond: sorted[Math.floor(sorted.length / 2)], rounds, latencyMs: r.latencyMs });
    process.stderr.write(`    ${r.acceptedPerSecond} msg/s, ${r.failures} failures\n`);
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
  const acc = new Map<string, TargetResult>();
  for (let i = 0; i < rounds; i++) {
    await target('sqlite', 1, false, clients, messages, acc);
    await target('postgres1Node', 1, true, clients, messages, acc);
    await target('postgres2Nodes', 2, true, clients, messages, acc);
  }
  const rate = (k: string) => acc.get(k)?.acceptedPerSecond ?? 0;
  const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : undefined);
  return {
    settings: { clients, messages: total, users: users.length, rounds },
    ...Object.fromEntries(acc),
    ratioPostgresToSqlite: ratio(rate('postgres1Node'), rate('sqlite')),
    ratioTwoNodesToOne: ratio(rate('postgres2Nodes'), rate('postgres1Node')),
  };
}
