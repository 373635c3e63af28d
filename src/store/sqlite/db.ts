/**
 * The SQLite connection: pragmas for durability and multi-process use, a prepared
 * statement cache, and the transaction runner every Store method goes through.
 */
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';

export type Db = Database.Database;
export type Stmt = Database.Statement;

/** Opens `file` with WAL, synchronous=FULL (a resolved promise means on disk), foreign keys and a busy timeout. */
export function openDatabase(file: string, busyTimeoutMs = 10_000): Db {
  const db = new Database(file);
  db.pragma(`busy_timeout = ${Math.floor(busyTimeoutMs)}`); // first, so the pragmas below wait for a busy peer
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL'); // WAL + FULL: each commit fsyncs the WAL, so an acknowledged write survives a crash
  db.pragma('foreign_keys = ON');
  return db;
}

/** Caches prepared statements by SQL text: each is compiled once per connection. */
export class Statements {
  private readonly cache = new Map<string, Stmt>();
  constructor(readonly db: Db) {}

  get(sql: string): Stmt {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }
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
