/**
 * Opens the configured store: SQLite under the data directory (default), or PostgreSQL
 * when the database URL is `postgres://` / `postgresql://`. `openBackend` also gives the
 * server what a backend needs around it: the change bus (LISTEN/NOTIFY across nodes on
 * PostgreSQL) and the brute-force throttle (shared through the database on PostgreSQL).
 *
 * For `mailroom serve` on SQLite the store runs in a worker thread (worker/proxy.ts), so
 * no commit fsync stalls the event loop, and one change poller per process rings the bus
 * when another process committed. CLI commands keep the in-process store: they are
 * short-lived and have no sessions to keep responsive.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AuthThrottle } from '../auth/throttle.js';
import { LocalChangeBus, RECHECK, type ChangeBus } from './bus.js';
import { StoreError } from './errors.js';
import type { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { RetentionSettings, Store } from './types.js';

/** PostgreSQL tuning (config section `database`). */
export interface DatabaseTuning {
  pool_size?: number;
  statement_timeout_ms?: number;
  connect_timeout_ms?: number;
  /** Empty: blobs in the database. */
  blob_dir?: string;
  /** SQLite, `mailroom serve`: run the store in a worker thread (default true; false for debugging). */
  sqlite_worker?: boolean;
  /** SQLite, `mailroom serve`: period of the one change poller per process (default 250). */
  change_poll_ms?: number;
}

export interface OpenStoreOptions {
  /** `<dataDir>/mailroom.db` and `<dataDir>/blobs/` */
  dataDir: string;
  /** MAILROOM_DATABASE_URL; empty or absent selects SQLite. */
  databaseUrl?: string;
  bus: ChangeBus;
  database?: DatabaseTuning;
  /** What expunge does with removed mail (Store.setRetention); the store's default (nothing kept) when absent. */
  retention?: RetentionSettings;
}

/** 'sqlite' or 'postgres' for a database URL; StoreError 'invalid' for anything else. */
export function backendOf(databaseUrl: string | undefined): 'sqlite' | 'postgres' {
  const url = databaseUrl?.trim() ?? '';
  if (url === '') return 'sqlite';
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
  throw new StoreError('invalid', `unsupported database URL scheme ${JSON.stringify(scheme ?? url.slice(0, 40))} in MAILROOM_DATABASE_URL`);
}

/** Opens and migrates the store. Throws StoreError 'invalid' for an unsupported database URL. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  let store: Store;
  if (backendOf(opts.databaseUrl) === 'postgres') {
    const d = opts.database ?? {};
    // Loaded only for PostgreSQL: the driver is a good part of a CLI command's start-up time.
    const { PostgresStore } = await import('./postgres/postgres-store.js');
    store = new PostgresStore({
      url: opts.databaseUrl!.trim(),
      bus: opts.bus,
      poolSize: d.pool_size,
      statementTimeoutMs: d.statement_timeout_ms,
      connectTimeoutMs: d.connect_timeout_ms,
      blobDir: d.blob_dir?.trim() || undefined,
    });
  } else {
    fs.mkdirSync(opts.dataDir, { recursive: true });
    store = new SqliteStore({ file: path.join(opts.dataDir, 'mailroom.db'), blobDir: path.join(opts.dataDir, 'blobs'), bus: opts.bus });
  }
  try {
    await store.migrate();
    if (opts.retention) await store.setRetention(opts.retention);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

export interface Backend {
  store: Store;
  bus: ChangeBus;
  throttle: AuthThrottle;
  close(): Promise<void>;
}

/**
 * The store with its bus and throttle, for `mailroom serve`. On PostgreSQL the bus
 * LISTENs for other nodes' changes and login failures are counted in the database.
 */
export async function openBackend(opts: Omit<OpenStoreOptions, 'bus'> & { onBusState?: (state: 'listening' | 'lost', err?: Error) => void }): Promise<Backend> {
  if (backendOf(opts.databaseUrl) === 'sqlite') return openSqliteBackend(opts);
  const [{ PostgresChangeBus }, { PgThrottle }] = await Promise.all([import('./postgres/change-bus.js'), import('./postgres/throttle.js')]);
  let lost = false;
  const bus = new PostgresChangeBus(opts.databaseUrl!.trim(), (state, err) => {
    // Events NOTIFYed while LISTEN was down are gone: everyone re-checks once.
    if (state === 'lost') lost = true;
    else if (lost) {
      lost = false;
      bus.publish(RECHECK);
    }
    opts.onBusState?.(state, err);
  });
  const store = (await openStore({ ...opts, bus })) as PostgresStore;
  await bus.start();
  return {
    store,
    bus,
    throttle: new PgThrottle(store.pool),
    async close() {
      await bus.close();
      await store.close();
    },
  };
}

/**
 * SQLite for `mailroom serve`: the store in a worker thread (its change poller runs
 * there), or in process with the poller on this thread when `sqlite_worker` is off.
 */
async function openSqliteBackend(opts: Omit<OpenStoreOptions, 'bus'>): Promise<Backend> {
  // Loaded here, not at the top: a CLI command (openStore only) needs neither (node:net among them).
  const [{ MemoryThrottle }, { startChangePoller }] = await Promise.all([import('../auth/throttle.js'), import('./worker/poller.js')]);
  const bus = new LocalChangeBus();
  const pollMs = opts.database?.change_poll_ms ?? 250;
  if (opts.database?.sqlite_worker === false) {
    const store = (await openStore({ ...opts, bus })) as SqliteStore;
    const poller = startChangePoller(() => store.database.pragma('data_version', { simple: true }) as number, () => bus.publish(RECHECK), pollMs);
    return {
      store,
      bus,
      throttle: new MemoryThrottle(),
      close: () => {
        poller.stop();
        return store.close();
      },
    };
  }
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const { WorkerStore } = await import('./worker/proxy.js');
  const store = await WorkerStore.open({ file: path.join(opts.dataDir, 'mailroom.db'), blobDir: path.join(opts.dataDir, 'blobs'), bus, changePollMs: pollMs });
  try {
    await store.migrate();
    if (opts.retention) await store.setRetention(opts.retention);
  } catch (err) {
    await store.close();
    throw err;
  }
  return { store, bus, throttle: new MemoryThrottle(), close: () => store.close() };
}
