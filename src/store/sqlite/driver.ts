/**
 * The SQLite driver: two connections to one WAL file and the transaction runner of
 * the driver port (../core/port.ts).
 *
 * - Writes go through one queue on the write connection (one writer, as SQLite has).
 *   Group commit: the write transactions queued while one batch runs form the next
 *   batch, executed under one BEGIN IMMEDIATE … COMMIT (one fsync for all), each in its
 *   own SAVEPOINT so a failing one rolls back only itself. Every caller's promise
 *   settles only after the shared COMMIT: resolved means durable (synchronous=FULL).
 *   A batch of nothing but 'ephemeral' jobs (leases, login times) commits with
 *   synchronous=NORMAL: no fsync of its own; the next durable COMMIT syncs the WAL
 *   including it (WAL frames are in order), and a crash can lose only that state.
 * - Reads run on a second, read-only connection in deferred transactions (a snapshot),
 *   so a read never waits behind a write batch, and never sees uncommitted rows.
 *
 * Invariants: no statement runs on the write connection outside a queued job; a batch
 * whose transaction SQLite aborted as a whole (I/O error, disk full) fails every job in
 * it that had not been committed, never silently.
 */
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { Conn, Driver, TxMode } from '../core/port.js';
import { sqliteDialect } from './dialect.js';

export type Db = Database.Database;
type Stmt = Database.Statement;

/** Most transactions one COMMIT covers: bounds the latency a long queue adds to its first job. */
const MAX_BATCH = 64;

/** Opens `file` with WAL, synchronous=FULL (a resolved promise means on disk), foreign keys and a busy timeout. */
export function openDatabase(file: string, busyTimeoutMs = 10_000, readonly = false): Db {
  const db = new Database(file, { readonly });
  db.pragma(`busy_timeout = ${Math.floor(busyTimeoutMs)}`); // first, so the pragmas below wait for a busy peer
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL'); // WAL + FULL: each commit fsyncs the WAL, so an acknowledged write survives a crash
    // Every job of a group commit runs in its own SAVEPOINT, whose sub-journal is a temp-file
    // object by default: in memory a savepoint plus a one-row UPDATE costs 7.5 µs, not 32
    // (measured on this schema). Temp tables and sorts of a statement live there too; none of
    // ours is big (the largest, a migration's index build, sorts one column of one table).
    db.pragma('temp_store = MEMORY');
  }
  db.pragma('foreign_keys = ON');
  return db;
}

/** Turns driver errors into StoreError (the only error a store throws). */
export function toStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT_UNIQUE')) return new StoreError('exists', message, { cause: err });
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) return new StoreError('conflict', message, { cause: err });
  return new StoreError('unavailable', `SQLite: ${message}`, { cause: err });
}

/** Statements on one connection, each prepared once (cached by SQL text). */
class SqliteConn implements Conn {
  private readonly cache = new Map<string, Stmt>();
  constructor(readonly db: Db) {}

  stmt(sql: string): Stmt {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.stmt(sql).all(...params) as T[];
  }

  async get<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    // A write with RETURNING makes all its changes in the first step, so get() is enough.
    return this.stmt(sql).get(...params) as T | undefined;
  }

  async exec(sql: string, params: unknown[] = []): Promise<{ changes: number; lastId?: number }> {
    const s = this.stmt(sql);
    if (s.reader) return { changes: s.all(...params).length }; // a write with RETURNING, or a SELECT
    const r = s.run(...params);
    return { changes: r.changes, lastId: Number(r.lastInsertRowid) };
  }
}

interface Job {
  fn: (c: Conn) => Promise<unknown>;
  /** False for 'ephemeral' jobs: their loss in a crash is harmless. */
  durable?: boolean;
  /** The queued job this one stands in for while its outcome is held back (see batch). */
  original?: Job;
  /** Set for `exclusive` jobs: run alone, outside any transaction. */
  raw?: (db: Db) => unknown;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export class SqliteDriver implements Driver {
  readonly dialect = sqliteDialect;
  readonly writer: Db;
  private readonly reader: Db;
  private readonly w: SqliteConn;
  private readonly r: SqliteConn;
  private readonly queue: Job[] = [];
  private writing = false;
  private reads: Promise<unknown> = Promise.resolve();
  /** COMMITs issued so far (group commit makes this fewer than write transactions). */
  commits = 0;

  constructor(file: string, busyTimeoutMs?: number) {
    this.writer = openDatabase(file, busyTimeoutMs);
    try {
      this.reader = openDatabase(file, busyTimeoutMs, true);
    } catch (err) {
      this.writer.close();
      throw err;
    }
    this.w = new SqliteConn(this.writer);
    this.r = new SqliteConn(this.reader);
  }

  transaction<T>(mode: TxMode, fn: (c: Conn) => Promise<T>): Promise<T> {
    if (mode === 'read' || mode === 'one') return this.readTx(fn);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, durable: mode === 'write', resolve: resolve as (v: unknown) => void, reject });
      if (!this.writing) void this.drain();
    });
  }

  /**
   * Runs `fn` alone on the write connection with no transaction open (migrations, which
   * manage their own), after every queued write.
   */
  exclusive<T>(fn: (db: Db) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn: async () => undefined, raw: fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.writing) void this.drain();
    });
  }

  /** Reads one after another on the read connection: each is one deferred transaction (a snapshot). */
  private readTx<T>(fn: (c: Conn) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      try {
        this.reader.exec('BEGIN');
        try {
          return await fn(this.r);
        } finally {
          if (this.reader.inTransaction) this.reader.exec('COMMIT');
        }
      } catch (err) {
        throw toStoreError(err);
      }
    };
    const p = this.reads.then(run, run);
    this.reads = p.catch(() => undefined);
    return p;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        // One turn of the event loop first: I/O that finished meanwhile (other deliveries'
        // blob writes, sockets) runs its callbacks and queues its transactions, which then
        // join this batch. COMMIT blocks the thread while it fsyncs, so without this turn
        // transactions would almost never meet in the queue.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const raw = this.queue[0].raw;
        if (raw) {
          const job = this.queue.shift()!;
          try {
            job.resolve(raw(this.writer));
          } catch (err) {
            job.reject(toStoreError(err));
          }
          continue;
        }
        const n = this.queue.findIndex((j) => j.raw !== undefined);
        await this.batch(this.queue.splice(0, Math.min(n < 0 ? MAX_BATCH : n, MAX_BATCH)));
      }
    } finally {
      this.writing = false;
    }
  }

  /** One BEGIN IMMEDIATE … COMMIT around every job of the batch, each in its own SAVEPOINT. */
  private async batch(jobs: Job[]): Promise<void> {
    if (!jobs.every((j) => j.durable === false)) return this.batchOf(jobs);
    // Callers hear the outcome only once FULL is back, so nothing they do next runs relaxed.
    const settle: (() => void)[] = [];
    const deferred = jobs.map((j): Job => ({ ...j, original: j, resolve: (v) => settle.push(() => j.resolve(v)), reject: (e) => settle.push(() => j.reject(e)) }));
    this.writer.pragma('synchronous = NORMAL');
    try {
      await this.batchOf(deferred);
    } finally {
      this.writer.pragma('synchronous = FULL');
      for (const f of settle) f();
    }
  }

  private async batchOf(jobs: Job[]): Promise<void> {
    const db = this.writer;
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      for (const j of jobs) j.reject(toStoreError(err));
      return;
    }
    const done: { job: Job; value: unknown }[] = [];
    for (const [i, job] of jobs.entries()) {
      try {
        db.exec('SAVEPOINT job');
        const value = await job.fn(this.w);
        db.exec('RELEASE job');
        done.push({ job, value });
      } catch (err) {
        if (db.inTransaction) {
          try {
            db.exec('ROLLBACK TO job');
            db.exec('RELEASE job');
          } catch {
            // falls through to the inTransaction check below
          }
        }
        if (!db.inTransaction) {
          // SQLite rolled back the whole transaction: the jobs before this one are lost too.
          job.reject(toStoreError(err));
          const lost = new StoreError('unavailable', `SQLite: the transaction was rolled back by an error in another one: ${(err as Error).message}`);
          for (const d of done) d.job.reject(lost);
          this.queue.unshift(...jobs.slice(i + 1).map((j) => j.original ?? j));
          return;
        }
        job.reject(toStoreError(err));
      }
    }
    try {
      db.exec('COMMIT');
      this.commits++;
    } catch (err) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        // the connection is broken: every job below fails anyway
      }
      for (const d of done) d.job.reject(toStoreError(err));
      return;
    }
    for (const d of done) d.job.resolve(d.value);
  }

  /** Closes both connections after every queued write and read. */
  async close(): Promise<void> {
    await this.exclusive(() => undefined).catch(() => undefined);
    await this.reads;
    this.reader.close();
    this.writer.close();
  }
}
