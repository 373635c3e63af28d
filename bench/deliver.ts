/**
 * Delivery benchmark: N realistic messages (default 10,000) into a fresh SQLite
 * store through the same `deliver()` that SMTP, LMTP and the CLI use.
 * Reports messages/s, MB/s and bytes on disk against logical bytes (dedup).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { LocalChangeBus } from '../src/store/bus.js';
import { openStore } from '../src/store/open.js';
import { createUser } from '../src/mail/accounts.js';
import { deliver } from '../src/mail/delivery.js';
import { benchMessage, prng } from './corpus.js';
import { MessageSource } from '../src/mail/message-source.js';

export interface DeliverResult {
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  logicalBytes: number;
  diskBytes: number;
  blobBytes: number;
  dedupRatio: number;
  megabytesPerSecond: number;
}

export async function benchDeliver(count: number): Promise<DeliverResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mailroom-bench-'));
  const store = await openStore({ dataDir, bus: new LocalChangeBus() });
  try {
    for (let u = 0; u < 10; u++) await createUser(store, `user${u}@bench.test`, 'bench-password');
    const ctx = { store, ingest: { spoolDir: join(dataDir, 'tmp'), largePartThreshold: 64 * 1024 } };
    const rand = prng(42);
    let bytes = 0;
    const started = process.hrtime.bigint();
    for (let n = 0; n < count; n++) {
      const raw = benchMessage(n, rand);
      bytes += raw.length;
      const [outcome] = await deliver(ctx, MessageSource.fromBuffer(raw), [`user${n % 10}@bench.test`]);
      if (outcome.status !== 'delivered') throw new Error(`message ${n}: ${outcome.status} ${outcome.reason}`);
      if (n > 0 && n % 1000 === 0) process.stderr.write(`  delivered ${n}/${count}\n`);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const stats = await store.stats();
    await store.close();
    const diskBytes = Number(execFileSync('du', ['-sb', dataDir]).toString().split('\t')[0]);
    return {
      messages: count,
      seconds: round(seconds),
      messagesPerSecond: round(count / seconds),
      megabytesPerSecond: round(bytes / 1024 / 1024 / seconds),
      logicalBytes: stats.logicalBytes,
      blobBytes: stats.blobBytes,
      diskBytes,
      dedupRatio: round(diskBytes / stats.logicalBytes),
    };
  } finally {
    await store.close().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
