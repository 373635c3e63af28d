/**
 * PostgreSQL for tests: `MAILROOM_TEST_PG` names a server (any database on it); each
 * call of `freshDatabase` creates `mailroom_test_<pid>_<random>` there and drops it at
 * the end, so parallel runs never collide. Without the variable the PG tests skip with
 * a clear message; with `MAILROOM_TEST_PG_REQUIRED=1` (CI) an unreachable server fails.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.MAILROOM_TEST_PG?.trim() ?? '';
export const PG_REQUIRED = process.env.MAILROOM_TEST_PG_REQUIRED === '1';

/** For `describe(name, { skip: pgSkip }, …)`: false when PG tests run, else the reason shown by the runner. */
export const pgSkip: string | false = PG_URL === ''
  ? PG_REQUIRED
    ? false // required but unset: the tests run and fail on the missing URL
    : 'PostgreSQL tests skipped: set MAILROOM_TEST_PG=postgres://user@host:port/db to run them'
  : false;

/** `url` with another database name. */
export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the MAILROOM_TEST_PG server. */
export async function freshDatabase(): Promise<FreshDatabase> {
  if (PG_URL === '') throw new Error('MAILROOM_TEST_PG is not set but MAILROOM_TEST_PG_REQUIRED=1');
  const name = `mailroom_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(PG_URL, name),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Runs one statement on the MAILROOM_TEST_PG server (e.g. pg_terminate_backend). */
export async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}
