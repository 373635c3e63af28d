/**
 * PostgreSQL for tests: `MAILROOM_TEST_PG` names a server (any database on it); when it
 * is unset, a local server at 127.0.0.1:5432 (user postgres, no password) is used if it
 * answers within a second (DESIGN.md: "a reachable local PostgreSQL"). Each call of
 * `freshDatabase` creates `mailroom_test_<pid>_<random>` there and drops it at the end,
 * so parallel runs never collide. With neither, the PG tests skip with one clear reason;
 * with `MAILROOM_TEST_PG_REQUIRED=1` (CI) an unreachable server fails instead.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server probed when MAILROOM_TEST_PG is unset. */
export const LOCAL_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const PG_REQUIRED = process.env.MAILROOM_TEST_PG_REQUIRED === '1';

/** Null when `url` accepts a connection and a query within `timeoutMs`, else why not. */
export async function probe(url: string, timeoutMs = 1_000): Promise<string | null> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  c.on('error', () => {}); // a late socket error after a failed connect must not crash the test process
  try {
    await c.connect();
    await c.query('SELECT 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || err.name : String(err);
  } finally {
    await c.end().catch(() => {});
  }
}

async function detect(): Promise<{ url: string; skip: string | false }> {
  const explicit = process.env.MAILROOM_TEST_PG?.trim() ?? '';
  if (explicit !== '') return { url: explicit, skip: false }; // named on purpose: never skip, a bad URL fails loudly
  const why = await probe(LOCAL_PG_URL);
  if (why === null) return { url: LOCAL_PG_URL, skip: false };
  // Required but unreachable: the tests run and fail on the connection, not skip silently.
  if (PG_REQUIRED) return { url: LOCAL_PG_URL, skip: false };
  return {
    url: '',
    skip: `PostgreSQL tests skipped: MAILROOM_TEST_PG is unset and no local server answered at 127.0.0.1:5432 as postgres (${why}); set MAILROOM_TEST_PG=postgres://user@host:port/db to run them`,
  };
}

const detected = await detect();

/** The server the PG tests use ('' when they are skipped). */
export const PG_URL = detected.url;

/** For `describe(name, { skip: pgSkip }, …)`: false when PG tests run, else the reason shown by the runner. */
export const pgSkip: string | false = detected.skip;
if (pgSkip !== false) {
  process.stderr.write(`${pgSkip}\n`); // once per test file, also when the runner's reporter hides skip reasons
}

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

/** Creates an empty database on the test server (MAILROOM_TEST_PG or the local one). */
export async function freshDatabase(): Promise<FreshDatabase> {
  if (PG_URL === '') throw new Error(String(pgSkip));
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

/** Runs one statement on the test server (e.g. pg_terminate_backend). */
export async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}
