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
  // because a WITHOUT ROWID table has no rowid to point at. What is indexed is the text's
  // distinct words (indexedWords), and a term is asked as the AND of its trigrams within
  // words: every text containing the term contains those.
  packsText: true,
  writableCte: false,
  textIndex: {
    minTerm: 3,
    add: (contentId, text) => [
      { sql: 'INSERT INTO content_search (content_id) VALUES (?)', params: [contentId] },
      { sql: 'INSERT INTO content_fts (rowid, text) SELECT doc, ? FROM content_search WHERE content_id = ?', params: [indexedWords(text), contentId] },
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

/** What separates the words of an indexed text; a trigram with one of these is never asked for. */
const GAPS = /[\t\n\r ]+/;
const GAP = /[\t\n\r ]/;

/**
 * The text the trigram index gets: each distinct word (run between GAPS) once, in order of
 * first appearance. Every trigram inside a word of the text is inside a word of this, which
 * is all a query asks for (trigramQuery), so nothing is missed; with detail=none a repeated
 * trigram adds nothing anyway, and the tokenizer's work follows the text's length: mail
 * repeats its words, so FTS5 reads about half as much (~0.4 ms less per 10 KB message on the
 * single writer thread) and keeps ~30 % fewer entries (trigrams across word boundaries
 * exist only for the pairs this order makes). Rows indexed whole, before, hold a superset.
 */
export function indexedWords(text: string): string {
  return [...new Set(text.split(GAPS))].join(' ');
}

/**
 * `"abc" AND "bcd" AND …`: distinct trigrams (of code points) of the term that lie within a
 * word (no GAP), at most MAX_TRIGRAMS of them; undefined when it has none (a term of short
 * words: the index cannot narrow it).
 */
export function trigramQuery(term: string): string | undefined {
  const cps = [...term];
  const all = [...new Set(cps.slice(0, -2).map((_, i) => cps.slice(i, i + 3).join('')))].filter((t) => !GAP.test(t));
  if (all.length === 0) return undefined;
  const step = Math.max(1, all.length / MAX_TRIGRAMS);
  const picked: string[] = [];
  for (let i = 0; i < all.length && picked.length < MAX_TRIGRAMS; i += step) picked.push(all[Math.floor(i)]);
  return picked.map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');
}
