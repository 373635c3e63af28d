/** PostgreSQL's spelling of the few things SQL does not say one way (see ../core/port.ts). */
import type { Dialect, QueryTextIndex, RowLock } from '../core/port.js';

const LOCKS: Record<RowLock, string> = { update: ' FOR UPDATE', share: ' FOR SHARE', keyshare: ' FOR KEY SHARE' };

export const postgresDialect: Dialect & { readonly textIndex: QueryTextIndex } = {
  name: 'postgres',
  // READ COMMITTED with several writers (and nodes): rows that decide a write are locked explicitly.
  rowLocks: true,
  lock: (kind) => LOCKS[kind],
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  byteOrder: ' COLLATE "C"', // as SQLite's BINARY, whatever the database's locale
  inList: (kind) => `= ANY(CAST(? AS ${kind === 'int' ? 'bigint' : 'text'}[]))`,
  list: (kind) => `unnest(CAST(? AS ${kind === 'int' ? 'bigint' : 'text'}[])) AS lst(value)`,
  listParam: (values) => values,
  nowMs: '(extract(epoch FROM clock_timestamp()) * 1000)::bigint',
  position: (expr) => `strpos(${expr}, ?)`,
  // A lower-cased copy of the search text with a pg_trgm GIN index (migration 6): LIKE is
  // exact on it and uses the index from three characters on; shorter terms still narrow
  // (a scan inside the database is cheaper than shipping every text to the checker).
  packsText: false,
  writableCte: true,
  textIndex: {
    kind: 'query',
    minTerm: 1,
    add: (contentId, text) => [{ sql: 'INSERT INTO content_search (content_id, text) VALUES (?, ?)', params: [contentId, text] }],
    addWith: (insert, text) => ({ sql: `WITH c AS (${insert.sql} RETURNING id) INSERT INTO content_search (content_id, text) SELECT id, ? FROM c`, params: [...insert.params, text] }),
    remove: (contentId) => [{ sql: 'DELETE FROM content_search WHERE content_id = ?', params: [contentId] }],
    candidates: 'IN (SELECT content_id FROM content_search WHERE text LIKE ?)',
    candidateParam: (term) => `%${term.replace(/[\\%_]/g, '\\$&')}%`,
  },
};

/** `?` placeholders → `$1, $2, …` (outside quoted strings and identifiers), cached per SQL text. */
const rewritten = new Map<string, string>();
export function toPgPlaceholders(sql: string): string {
  let out = rewritten.get(sql);
  if (out !== undefined) return out;
  let n = 0;
  let quote: string | null = null;
  out = '';
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else {
      out += ch === '?' ? `$${++n}` : ch;
    }
  }
  if (rewritten.size < 10_000) rewritten.set(sql, out);
  return out;
}
