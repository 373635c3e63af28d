/**
 * Store benchmark: the same work on SQLite and on PostgreSQL, and on PostgreSQL with
 * two `mailroom serve` nodes against one, in one run.
 * - deliver: `deliver()` (the path SMTP, LMTP and the CLI use) with 4 concurrent
 *   deliveries into 10 users, in-process, per backend.
 * - imap: BENCH_STORE_CLIENTS raw IMAP clients (default 8) for BENCH_STORE_SECONDS
 *   (default 15), each looping APPEND, UID FETCH (FLAGS BODY.PEEK[HEADER]), UID STORE
 *   +FLAGS, NOOP; spread round-robin over the nodes.
 * PostgreSQL comes from BENCH_PG or MAILROOM_TEST_PG (a fresh database per target).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalChangeBus } from '../src/store/bus.js';
import { openStore } from '../src/store/open.js';
import { createUser } from '../src/mail/accounts.js';
import { deliver } from '../src/mail/delivery.js';
import { freshDatabase } from '../test/harness/pg.js';
import { runCli, startServer, type RunningTestServer } from '../test/harness/server.js';
import { benchMessage, prng } from './corpus.js';
import { benchImapMessage } from './imap.js';
import { RawImapClient } from './imap-raw-client.js';
import { MessageSource } from '../src/mail/message-source.js';

const PG = process.env.BENCH_PG ?? process.env.MAILROOM_TEST_PG ?? '';
const USER = 'bench@store.test';
const PASSWORD = 'bench-password';

async function deliverRate(databaseUrl: string | undefined, count: number): Promise<{ messages: number; messagesPerSecond: number }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mailroom-bench-store-'));
  const store = await openStore({ dataDir, databaseUrl, bus: new LocalChangeBus() });
  try {
    for (let u = 0; u < 10; u++) await createUser(store, `user${u}@bench.test`, 'pw');
    const ctx = { store, ingest: { spoolDir: join(dataDir, 'tmp'), largePartThreshold: 64 * 1024 } };
    const rand = prng(7);
    const raws = Array.from({ length: count }, (_, n) => benchMessage(n, rand));
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < count) {
        const n = next++;
        const [outcome] = await deliver(ctx, MessageSource.fromBuffer(raws[n]), [`user${n % 10}@bench.test`]);
        if (outcome.status !== 'delivered') throw new Error(`message ${n}: ${outcome.status}`);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    return { messages: count, messagesPerSecond: Math.round(count / seconds) };
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function imapRate(ports: number[], clients: number, seconds: number): Promise<{ commandsPerSecond: number; appendsPerSecond: number; failures: number }> {
  const rand = prng(11);
  let commands = 0;
  let appends = 0;
  let failures = 0;
  const until = Date.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, i) => {
    const { client } = await RawImapClient.connect(ports[i % ports.length]);
    await client.ok(`LOGIN ${USER} ${PASSWORD}`);
    await client.ok('SELECT INBOX');
    let n = 0;
    while (Date.now() < until) {
      const raw = benchImapMessage(i * 100_000 + n++, rand);
      const r = await client.command('APPEND INBOX', { literal: raw });
      const uid = /APPENDUID \d+ (\d+)/.exec(r.text)?.[1];
      if (r.status !== 'OK' || !uid) {
        failures++;
        continue;
      }
      appends++;
      for (const cmd of [`UID FETCH ${uid} (FLAGS BODY.PEEK[HEADER])`, `UID STORE ${uid} +FLAGS (\\Seen)`, 'NOOP']) {
        if ((await client.command(cmd)).status !== 'OK') failures++;
      }
      commands += 4;
    }
    await client.close();
  }));
  const elapsed = (performance.now() - started) / 1000;
  return { commandsPerSecond: Math.round(commands / elapsed), appendsPerSecond: Math.round(appends / elapsed), failures };
}

async function withNodes<T>(nodes: number, databaseUrl: string | undefined, fn: (ports: number[]) => Promise<T>): Promise<T> {
  const env: Record<string, string> = { MAILROOM_LOG_LEVEL: 'info' };
  if (databaseUrl) env.MAILROOM_DATABASE_URL = databaseUrl;
  const servers: RunningTestServer[] = [];
  try {
    for (let i = 0; i < nodes; i++) servers.push(await startServer({ env }));
    const added = await runCli(['user', 'add', USER, '--password', PASSWORD], { dataDir: servers[0].dataDir, env: databaseUrl ? { MAILROOM_DATABASE_URL: databaseUrl } : {} });
    if (added.code !== 0) throw new Error(`user add: ${added.stderr.trim()}`);
    return await fn(servers.map((s) => s.ports.imap!));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

export async function benchStore(): Promise<object> {
  if (!PG) throw new Error('set BENCH_PG or MAILROOM_TEST_PG to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test)');
  const count = Number(process.env.BENCH_STORE_MESSAGES ?? 2000);
  const clients = Number(process.env.BENCH_STORE_CLIENTS ?? 8);
  const seconds = Number(process.env.BENCH_STORE_SECONDS ?? 15);
  const result: Record<string, unknown> = { settings: { deliverMessages: count, deliverConcurrency: 4, imapClients: clients, imapSeconds: seconds } };
  const dbs = [];
  try {
    process.stderr.write('  deliver: sqlite\n');
    result.deliverSqlite = await deliverRate(undefined, count);
    dbs.push(await freshDatabase());
    process.stderr.write('  deliver: postgres\n');
    result.deliverPostgres = await deliverRate(dbs[0].url, count);
    process.stderr.write('  imap: sqlite, 1 node\n');
    result.imapSqlite1Node = await withNodes(1, undefined, (ports) => imapRate(ports, clients, seconds));
    dbs.push(await freshDatabase());
    process.stderr.write('  imap: postgres, 1 node\n');
    result.imapPostgres1Node = await withNodes(1, dbs[1].url, (ports) => imapRate(ports, clients, seconds));
    dbs.push(await freshDatabase());
    process.stderr.write('  imap: postgres, 2 nodes\n');
    result.imapPostgres2Nodes = await withNodes(2, dbs[2].url, (ports) => imapRate(ports, clients, seconds));
  } finally {
    for (const d of dbs) await d.drop();
  }
  return result;
}
