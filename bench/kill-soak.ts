/**
 * `npm run bench -- kill-soak`: the SIGKILL soak (test/security/kill-soak.ts) for
 * BENCH_SOAK_ROUNDS rounds on SQLite (default 100) and BENCH_SOAK_PG_ROUNDS on
 * PostgreSQL (default 20; skipped when no server answers, see test/harness/pg.ts).
 */
import { killSoak, type SoakResult } from '../test/security/kill-soak.js';
import { freshDatabase, PG_URL } from '../test/harness/pg.js';

export async function benchKillSoak(): Promise<object> {
  const log = (l: string) => process.stderr.write(`  ${l}\n`);
  const started = Date.now();
  const sqlite = await killSoak({ rounds: Number(process.env.BENCH_SOAK_ROUNDS ?? 100), seed: Date.now() % 2 ** 31, log });
  const sqliteSeconds = (Date.now() - started) / 1000;
  let postgres: (SoakResult & { seconds: number }) | string = 'skipped: no PostgreSQL';
  if (PG_URL !== '') {
    const db = await freshDatabase();
    try {
      const t = Date.now();
      postgres = { ...(await killSoak({ rounds: Number(process.env.BENCH_SOAK_PG_ROUNDS ?? 20), databaseUrl: db.url, seed: Date.now() % 2 ** 31, log })), seconds: (Date.now() - t) / 1000 };
    } finally {
      await db.drop();
    }
  }
  return { sqlite: { ...sqlite, seconds: sqliteSeconds }, postgres };
}
