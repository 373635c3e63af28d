/**
 * Figures read from the store when Prometheus scrapes: the outbound queue (entries,
 * pending recipients, age of the oldest entry) and storage (logical bytes of all
 * messages, bytes of distinct blobs, database files on disk). Storage figures scan
 * tables, so they are refreshed at most once per `storageMaxAgeMs`; a failed read keeps
 * the last values (a scrape never fails because the store is briefly down).
 *
 * Never imports: protocols, SQL.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Gauge } from 'prom-client';
import type { Store } from '../store/types.js';
import { registry } from './registry.js';

export interface StoreGaugeSource {
  store: Pick<Store, 'stats' | 'listQueueEntries'>;
  /** SQLite data directory (mailroom.db and its WAL are counted on disk); undefined for PostgreSQL. */
  sqliteDir?: string;
  storageMaxAgeMs?: number;
}

let source: StoreGaugeSource | undefined;
let storage = { at: 0, logical: 0, blobs: 0, database: 0 };

/** Makes `src` the store the gauges read; returns the function that detaches it again. */
export function watchStore(src: StoreGaugeSource): () => void {
  source = src;
  storage = { at: 0, logical: 0, blobs: 0, database: 0 };
  queueRead = undefined;
  return () => {
    if (source === src) source = undefined;
  };
}

/** The queue's size and oldest entry, read once per scrape (both gauges ask within the same second). */
let queueRead: { at: number; figures: Promise<{ entries: number; oldestMs: number } | null> } | undefined;
function queueFigures(): Promise<{ entries: number; oldestMs: number } | null> {
  const src = source;
  if (!src) return Promise.resolve({ entries: 0, oldestMs: Date.now() });
  if (!queueRead || Date.now() - queueRead.at > 1000) {
    const figures = src.store.listQueueEntries().then(
      (entries) => ({ entries: entries.length, oldestMs: entries.reduce((min, e) => Math.min(min, e.createdAt.getTime()), Date.now()) }),
      () => null, // store briefly down: keep the last values
    );
    queueRead = { at: Date.now(), figures };
  }
  return queueRead.figures;
}

new Gauge({
  name: 'mailroom_queue_entries',
  help: 'Messages in the outbound queue',
  registers: [registry],
  async collect() {
    const q = await queueFigures();
    if (q) this.set(q.entries);
  },
});

new Gauge({
  name: 'mailroom_queue_oldest_age_seconds',
  help: 'Age of the oldest message in the outbound queue (0 when empty)',
  registers: [registry],
  async collect() {
    const q = await queueFigures();
    if (q) this.set(Math.max(0, Date.now() - q.oldestMs) / 1000);
  },
});

async function fileSize(path: string): Promise<number> {
  return stat(path).then((s) => s.size, () => 0);
}

async function refreshStorage(): Promise<void> {
  const src = source;
  if (!src || Date.now() - storage.at < (src.storageMaxAgeMs ?? 30_000)) return;
  try {
    const st = await src.store.stats();
    const dir = src.sqliteDir;
    const database = dir ? (await Promise.all(['mailroom.db', 'mailroom.db-wal'].map((f) => fileSize(join(dir, f))))).reduce((a, b) => a + b, 0) : 0;
    storage = { at: Date.now(), logical: st.logicalBytes, blobs: st.blobBytes, database };
  } catch {
    // keep the last figures
  }
}

new Gauge({
  name: 'mailroom_storage_bytes',
  help: 'Storage: logical (sum of message sizes, what quotas count), blobs (distinct message bytes stored), database (SQLite files on disk; 0 on PostgreSQL)',
  labelNames: ['kind'] as const,
  registers: [registry],
  async collect() {
    await refreshStorage();
    this.set({ kind: 'logical' }, storage.logical);
    this.set({ kind: 'blobs' }, storage.blobs);
    this.set({ kind: 'database' }, storage.database);
  },
});
