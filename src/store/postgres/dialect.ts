/** PostgreSQL's spelling of the few things SQL does not say one way (see ../core/port.ts). */
import type { Dialect, RowLock } from '../core/port.js';
import { pgFilterCondition } from '../core/text-filter.js';

const LOCKS: Record<RowLock, string> = { update: ' FOR UPDATE', share: ' FOR SHARE', keyshare: ' FOR KEY SHARE' };

export const postgresDialect: Dialect = {
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
  packsText: false,
  writableCte: true,
  // A trigram filter in each message row, as on SQLite (schema 24, ../core/port.ts
  // TextIndexDialect says why): the bits are set in JavaScript, nothing for the database to
  // extract or index at delivery.
  textIndex: { minTerm: 3, condition: pgFilterCondition },
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
