/**
 * SEARCH TEXT / BODY in the store (RFC 9051 6.4.4, RFC 3501 6.4.4): a message matches
 * when the term is a case-insensitive substring of its decoded search text (headers and
 * text parts, as src/mime/search-text.ts builds it at delivery), or, for BODY, of the
 * part after the header block.
 *
 * Two steps, so the answer never depends on how a database folds case:
 * - the backend's text index (Dialect.textIndex: a trigram filter per message row,
 *   ./text-filter.ts, tested in the database) narrows the mailbox's rows to candidates. It
 *   is built from the search text lower-cased here, in JavaScript, and probed with the term
 *   lower-cased the same way, so no database's folding decides what matches;
 * - the exact rule (`textHas`) runs on the candidates' stored search text.
 * Terms shorter than the index can narrow (trigrams: 3 code points) are checked on every
 * row of the mailbox, in batches.
 *
 * A row filter is written with each message row (./messages.ts, beside the sort keys) and
 * goes with it.
 */
import { StoreError } from '../errors.js';
import type { Id, Uid } from '../types.js';
import type { ReadTx } from './tx.js';
import { inlineMessage, WITH_INLINE_MESSAGE } from './contents.js';
import { unpackSearchText } from './packed-text.js';
import { filterProbe } from './text-filter.js';

/**
 * Which text a term is looked for in: the whole search text (TEXT) or the body after the
 * headers (BODY); 'candidates': what the index alone says may contain it (a superset of 'text').
 */
export type TextPart = 'text' | 'body' | 'candidates';

/** Contents whose text is read per query while checking candidates: bounds memory for big mailboxes. */
const CHECK_BATCH = 200;

/** What the index holds for a content, and the form a term is looked up in. */
export function indexForm(text: string): string {
  return text.toLowerCase();
}

function bodyOf(searchText: string): string {
  const i = searchText.indexOf('\n\n');
  return i < 0 ? '' : searchText.slice(i + 2);
}

/** The exact rule: is `term` a case-insensitive substring of the search text's `part`? */
export function textHas(searchText: string, part: Exclude<TextPart, 'candidates'>, term: string): boolean {
  const text = part === 'body' ? bodyOf(searchText) : searchText;
  return indexForm(text).includes(indexForm(term));
}

/** UIDs (ascending) of the mailbox's rows whose search text's `part` contains `value`, case-insensitively. */
export async function searchText(tx: ReadTx, mailboxId: Id, part: TextPart, value: string): Promise<Uid[]> {
  if (part !== 'text' && part !== 'body' && part !== 'candidates') throw new StoreError('invalid', 'search part must be text, body or candidates');
  if (typeof value !== 'string') throw new StoreError('invalid', 'search value must be a string');
  if (!(await tx.get('SELECT 1 FROM mailboxes WHERE id = ?', [mailboxId]))) throw new StoreError('notfound', `no mailbox ${mailboxId}`);
  const term = indexForm(value);
  const ix = tx.d.textIndex;
  const narrow = [...term].length >= ix.minTerm && term.length > 0;
  const rows = await filteredRows(tx, mailboxId, narrow ? filterProbe(term) : null);
  // the empty string is in every text; the index's candidates need no stored text read
  if (term === '' || part === 'candidates') return rows.map((r) => r.uid as Uid);
  const hits = await contentsHaving(tx, [...new Set(rows.map((r) => r.content_id))], part, value);
  return rows.filter((r) => hits.has(r.content_id)).map((r) => r.uid as Uid);
}

/** The mailbox's rows (UID order) whose filter may hold the probed term (tested in the database); all rows without a probe. */
async function filteredRows(tx: ReadTx, mailboxId: Id, probe: Uint32Array | null): Promise<{ uid: number; content_id: string }[]> {
  const may = probe ? tx.d.textIndex.condition('text_filter', probe) : { sql: 'true', params: [] as unknown[] };
  return tx.query<{ uid: number; content_id: string }>(`SELECT uid, content_id FROM messages WHERE mailbox_id = ? AND ${may.sql} ORDER BY uid`, [mailboxId, ...may.params]);
}

/** The ids among `ids` whose stored search text passes the exact rule. */
async function contentsHaving(tx: ReadTx, ids: string[], part: Exclude<TextPart, 'candidates'>, value: string): Promise<Set<string>> {
  const hits = new Set<string>();
  for (let i = 0; i < ids.length; i += CHECK_BATCH) {
    const batch = await tx.query<{ id: string; search_text: string | Uint8Array; data: Uint8Array | null }>(
      `SELECT c.id, c.search_text, i.data FROM ${WITH_INLINE_MESSAGE} WHERE c.id ${tx.d.inList('text')}`,
      [tx.d.listParam(ids.slice(i, i + CHECK_BATCH))],
    );
    for (const c of batch) if (textHas(unpackSearchText(c.search_text, c.id, inlineMessage(c.id, c.data)), part, value)) hits.add(c.id);
  }
  return hits;
}
