/**
 * The PostgreSQL driver (../core/port.ts): the connection pool, the transaction runner
 * every Store method goes through, and the mapping of driver errors to StoreError.
 *
 * Invariants: a transaction that hits a deadlock or serialization failure is retried
 * from the start (it changed nothing); any other failure rolls back and surfaces as a
 * StoreError; lost connections and timeouts are 'unavailable' (a retry may succeed).
 *
 * Round trips are the cost on a busy machine (each wakes the backend and the client in
 * turn), so: a one-statement read ('one') runs without BEGIN/COMMIT (a statement is its
 * own snapshot); a transaction's BEGIN (and an 'ephemeral' write's `SET LOCAL
 * synchronous_commit`) goes in the message of its first statement (./begin-with.ts);
 * statements with parameters are prepared once per connection under a name derived from
 * their text (no parse and plan per execution). No NOTIFY goes inside a transaction
 * (./notifier.ts says why).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Conn, Driver, TxMode } from '../core/port.js';
import { StoreError } from '../errors.js';
import { canJoinBegin, queryAfterBegin } from './begin-with.js';
import { postgresDialect, toPgPlaceholders } from './dialect.js';

export type Pool = pg.Pool;
export type Client = pg.PoolClient;

/** Connection tuning; every field has a config key (database_pool_size …). */
export interface PgOptions {
  url: string;
  poolSize?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

// BIGINT (20) and NUMERIC sums (1700) as JS numbers: sizes, dates (ms) and modseqs stay
// far below 2^53, and the contract speaks numbers.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** A pool whose errors never crash the process (an idle client dropped by a restart is just replaced). `options`: server settings for its sessions. */
export function createPool(o: PgOptions, options?: string): Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
    ...(options ? { options } : {}),
    max: o.poolSize ?? 10,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5_000,
    statement_timeout: o.statementTimeoutMs ?? 30_000,
    idleTimeoutMillis: 30_000,
    types,
  });
  pool.on('error', () => {
    // An idle client lost its server (restart, pg_terminate_backend): the pool drops it.
  });
  return pool;
}

/**
 * A small pool whose commits do not wait for the WAL flush (`synchronous_commit=off`), for blob
 * bytes stored before the transaction that references them (a delivery's blob, then its append).
 * That transaction's durable commit flushes the log up to its own record, and the log is one
 * sequence, so the blob's insert is on disk before anything can reference it; a crash in between
 * loses only bytes nothing references. It spares a delivery its second WAL flush.
 */
export function createBlobWritePool(o: PgOptions): Pool {
  return createPool({ ...o, poolSize: Math.min(4, o.poolSize ?? 10) }, '-c synchronous_commit=off');
}

const RETRYABLE = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure

/**
 * How each transaction mode starts: parameterless statements, sent with the transaction's
 * first statement in one message (./begin-with.ts), or alone when none follows.
 */
const BEGIN: Record<TxMode, readonly string[]> = {
  read: ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'],
  one: ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'], // not used by PgDriver (no transaction)
  write: ['BEGIN'],
  // Leases and login times: a lost commit only ends sessions a crash ended anyway; later durable commits flush it too.
  ephemeral: ['BEGIN', 'SET LOCAL synchronous_commit TO off'],
};

/** Statement texts that get a prepared-statement name; bounded, so generated SQL cannot grow every connection's cache without end. */
const statementNames = new Map<string, string>();
const MAX_NAMED = 1000;

/** A query config: named (prepared once per connection) while the name cache has room. */
function queryOf(sql: string, params: unknown[]): pg.QueryConfig {
  if (params.length === 0) return { text: sql }; // migrations: several statements, simple protocol
  const text = toPgPlaceholders(sql);
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_NAMED) {
    name = `mr_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name === undefined ? { text, values: params } : { name, text, values: params };
}

/** Driver error → StoreError (the only error a store throws). */
export function toStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const code = String((err as { code?: unknown }).code ?? '');
  const message = err instanceof Error ? err.message : String(err);
  if (code === '23505') return new StoreError('exists', message, { cause: err });
  if (code.startsWith('23')) return new StoreError('conflict', message, { cause: err });
  if (code.startsWith('22')) return new StoreError('invalid', message, { cause: err });
  // 08 connection, 57P0x shutdown/terminated, 57014 statement timeout, 53 resources, socket errors.
  return new StoreError('unavailable', `PostgreSQL: ${message}`, { cause: err });
}

/** The connection itself is gone (server shutdown/terminate, socket closed), not the statement. */
function connectionLost(err: unknown): boolean {
  const code = String((err as { code?: unknown }).code ?? '');
  const message = err instanceof Error ? err.message : '';
  return code.startsWith('57P0') || code.startsWith('08') || code === 'ECONNRESET' || code === 'EPIPE' || /Connection terminated/i.test(message);
}

/**
 * Runs `fn` in one transaction on one pooled client; retries deadlocks; releases a broken
 * client. The BEGIN travels with the first statement `fn` sends (a transaction that sends
 * none costs no round trip at all).
 */
export async function inTransaction<T>(pool: Pool, fn: (c: PgConn) => Promise<T>, mode: TxMode = 'write'): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: Client;
    try {
      client = await pool.connect();
    } catch (err) {
      throw toStoreError(err);
    }
    let broken: Error | undefined;
    // A connection killed between two statements emits 'error' on the client; without a
    // listener that would be an uncaught exception, i.e. a crashed server.
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    const conn = new PgConn(client, BEGIN[mode]);
    try {
      const result = await fn(conn);
      if (conn.opened) await client.query('COMMIT');
      return result;
    } catch (err) {
      if (conn.opened) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr as Error; // the connection is gone: do not return it to the pool
        }
      }
      const code = String((err as { code?: unknown }).code ?? '');
      // A pooled connection killed while idle fails at its first message, before anything ran:
      // another connection is safe to try, for writes too (the pool drops the dead one on release).
      if (!conn.begun && connectionLost(err) && attempt < 3) {
        broken ??= err as Error;
        continue;
      }
      if (RETRYABLE.has(code) && attempt < 8) {
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
        continue;
      }
      throw toStoreError(err);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}

/** The driver port over one pooled client (or the pool, for one statement): `?` placeholders become `$n`. */
export class PgConn implements Conn {
  /** The BEGIN went out (with or before the first statement): the transaction needs its COMMIT or ROLLBACK. */
  opened = false;
  /** The first statement came back: the connection worked. */
  begun = false;

  constructor(
    readonly client: Client | Pool,
    /** A transaction's BEGIN, not sent yet: it goes with the first statement. */
    private begin?: readonly string[],
  ) {}

  protected async run(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    const config = queryOf(sql, params);
    const begin = this.begin;
    if (!begin) return this.client.query(config);
    this.begin = undefined;
    this.opened = true;
    const client = this.client as Client;
    let result: pg.QueryResult;
    if (canJoinBegin(client, config)) result = await queryAfterBegin(client, begin, config);
    else {
      await client.query(begin.join('; '));
      result = await client.query(config);
    }
    this.begun = true;
    return result;
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.run(sql, params)).rows as T[];
  }

  async get<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.run(sql, params)).rows[0] as T | undefined;
  }

  async exec(sql: string, params: unknown[] = []): Promise<{ changes: number }> {
    return { changes: (await this.run(sql, params)).rowCount ?? 0 };
  }
}

/** One statement on whichever pooled connection is free, outside a transaction ('one'). */
class OneStatementConn extends PgConn {
  private used = false;

  protected override run(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    if (this.used) throw new StoreError('invalid', "a 'one' read issued a second statement (a bug: it needs a 'read' transaction)");
    this.used = true;
    return super.run(sql, params);
  }
}

/** The PostgreSQL driver: a pool, READ COMMITTED writes, REPEATABLE READ READ ONLY reads, deadlock retries. */
export class PgDriver implements Driver {
  readonly dialect = postgresDialect;
  constructor(readonly pool: Pool) {}

  async transaction<T>(mode: TxMode, fn: (c: Conn) => Promise<T>): Promise<T> {
    if (mode !== 'one') return inTransaction(this.pool, fn, mode);
    try {
      return await fn(new OneStatementConn(this.pool));
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
