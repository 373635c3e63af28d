/**
 * The PostgreSQL driver (../core/port.ts): the connection pool, the transaction runner
 * every Store method goes through, and the mapping of driver errors to StoreError.
 *
 * Invariants: a transaction that hits a deadlock or serialization failure is retried
 * from the start (it changed nothing); any other failure rolls back and surfaces as a
 * StoreError; lost connections and timeouts are 'unavailable' (a retry may succeed).
 */
import pg from 'pg';
import type { Conn, Driver, TxMode } from '../core/port.js';
import { StoreError } from '../errors.js';
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

/** A pool whose errors never crash the process (an idle client dropped by a restart is just replaced). */
export function createPool(o: PgOptions): Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
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

const RETRYABLE = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure

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

/** Runs `fn` in one transaction on one pooled client; retries deadlocks; releases a broken client. */
export async function inTransaction<T>(pool: Pool, fn: (c: Client) => Promise<T>, mode: TxMode = 'write'): Promise<T> {
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
    try {
      await client.query(mode === 'read' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error; // the connection is gone: do not return it to the pool
      }
      const code = String((err as { code?: unknown }).code ?? '');
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

/** Statements without parameters (migrations: several statements, comments) go as written. */
const pgText = (sql: string, params: unknown[]): string => (params.length === 0 ? sql : toPgPlaceholders(sql));

/** The driver port over one pooled client: `?` placeholders become `$n`. */
export class PgConn implements Conn {
  constructor(readonly client: Client) {}

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query(pgText(sql, params), params)).rows as T[];
  }

  async get<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.client.query(pgText(sql, params), params)).rows[0] as T | undefined;
  }

  async exec(sql: string, params: unknown[] = []): Promise<{ changes: number }> {
    return { changes: (await this.client.query(pgText(sql, params), params)).rowCount ?? 0 };
  }
}

/** The PostgreSQL driver: a pool, READ COMMITTED writes, REPEATABLE READ READ ONLY reads, deadlock retries. */
export class PgDriver implements Driver {
  readonly dialect = postgresDialect;
  constructor(readonly pool: Pool) {}

  transaction<T>(mode: TxMode, fn: (c: Conn) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (client) => fn(new PgConn(client)), mode);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
