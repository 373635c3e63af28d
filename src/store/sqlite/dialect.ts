/** SQLite's spelling of the few things SQL does not say one way (see ../core/port.ts). */
import type { Dialect } from '../core/port.js';

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  // BEGIN IMMEDIATE takes the one write lock of the file: no other writer runs meanwhile.
  rowLocks: false,
  lock: () => '',
  skipLocked: '',
  byteOrder: '', // BINARY, the default collation, compares bytes
  inList: () => 'IN (SELECT value FROM json_each(?))',
  list: () => 'json_each(?) AS lst',
  listParam: (values) => JSON.stringify(values),
  nowMs: `CAST(unixepoch('subsec') * 1000 AS INTEGER)`,
  position: (expr) => `instr(${expr}, ?)`,
  // FTS5 with the trigram tokenizer (migration 6), contentless (the text is already in
  // contents.search_text) and without positions (detail=none), keyed by content_search.doc
  // because a WITHOUT ROWID table has no rowid to point at. A term is asked as the AND of its
  // trigrams: every text containing the term contains them all.
  packsText: true,
  writableCte: false,
  textIndex: {
    minTerm: 3,
    add: (contentId, text) => [
      { sql: 'INSERT INTO content_search (content_id) VALUES (?)', params: [contentId] },
      { sql: 'INSERT INTO content_fts (rowid, text) SELECT doc, ? FROM content_search WHERE content_id = ?', params: [text, contentId] },
    ],
    remove: (contentId) => [
      { sql: 'DELETE FROM content_fts WHERE rowid IN (SELECT doc FROM content_search WHERE content_id = ?)', params: [contentId] },
      { sql: 'DELETE FROM content_search WHERE content_id = ?', params: [contentId] },
    ],
    candidates: 'IN (SELECT s.content_id FROM content_fts JOIN content_search s ON s.doc = content_fts.rowid WHERE content_fts MATCH ?)',
    candidateParam: (term) => trigramQuery(term),
  },
};

/** At most this many of a long term's trigrams are asked for: any subset still finds every match. */
const MAX_TRIGRAMS = 24;

/** `"abc" AND "bcd" AND …`: the distinct trigrams (of code points) of a term of three or more. */
export function trigramQuery(term: string): string {
  const cps = [...term];
  const all = [...new Set(cps.slice(0, -2).map((_, i) => cps.slice(i, i + 3).join('')))];
  const step = Math.max(1, all.length / MAX_TRIGRAMS);
  const picked: string[] = [];
  for (let i = 0; i < all.length && picked.length < MAX_TRIGRAMS; i += step) picked.push(all[Math.floor(i)]);
  return picked.map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');
}
