/**
 * The keys SORT and THREAD order by, kept per message row (messages.sent_date and
 * messages.thread_keys, schema 22) so that the first SORT (DATE) or THREAD REFERENCES of
 * a big mailbox is one query over its rows instead of a MIME-index (and header) read per
 * message. Computed once per content (they are facts of its immutable bytes) and written
 * into each row that points at it: at APPEND/delivery from the new content's index and
 * text, from a row of the same content otherwise, and copied by COPY (MOVE and Recently
 * Deleted move rows, which keep them). Per row rather than per content: the read is then
 * the mailbox's own rows, no join, and nothing repeats the 64-character content id (a
 * covering index on contents cost ~125 more bytes a message; issue 13 counts them).
 *
 * - sent_date: the Date: header, ms UTC, as the MIME index parsed it; NULL when missing or
 *   unparseable (RFC 5256: such a message sorts and threads by its INTERNALDATE).
 * - thread_keys: `<msg-id> <parent> <parent>…\n<Subject>` (store/thread-ids.ts; the Subject
 *   undecoded): msg-ids never hold white space or angle brackets, so one space separates
 *   them and an empty first token is "no Message-ID"; the subject comes last and may hold
 *   anything. Exact strings, not hashes: THREAD's answer must not depend on a collision.
 *   NULL: not keyed (none after migration 22), answered from the content instead.
 *
 * Never imports: protocol code, src/mail, SQL drivers.
 */
import { StoreError } from '../errors.js';
import { threadIdsOfContent, type ThreadIds } from '../thread-ids.js';
import type { MessageIndex } from '../../mime/types.js';
import type { ExistingContent, Id, NewContent, SortKeyRows, Uid } from '../types.js';
import { getContent } from './contents.js';
import { requireMailbox } from './mailboxes.js';
import type { ReadTx } from './tx.js';
import { indexForm } from './text-search.js';
import { textFilter } from './text-filter.js';

type Columns = [number | null, string];
/**
 * The derived columns of a message row, in INSERT order: sent_date, thread_keys and the text
 * filter (./text-filter.ts). Derived from the content like the sort keys, so they travel the
 * same way.
 */
export type RowKeys = [number | null, string, Uint8Array | null];

function rowKeysOf(index: MessageIndex, searchText: string): RowKeys {
  return [...sortKeyColumns(index, searchText), textFilter(indexForm(searchText))];
}

function storedKeys(r: { sent_date: number | string | null; thread_keys: string; text_filter: Uint8Array | null }): RowKeys {
  return [r.sent_date === null ? null : Number(r.sent_date), r.thread_keys, r.text_filter];
}

/** The two columns of a content, from its index and search text (both at hand at delivery and in a backfill). */
export function sortKeyColumns(index: MessageIndex, searchText: string): Columns {
  return [index.sentDate ?? null, encodeThreadKeys(threadIdsOfContent(index, searchText))];
}

/** The columns of a new row of `content`: computed when new, else those of a row that holds it, else from the stored content. */
export async function sortKeysFor(tx: ReadTx, content: NewContent | ExistingContent): Promise<RowKeys> {
  if (!(content as ExistingContent).existing) return rowKeysOf((content as NewContent).index, (content as NewContent).searchText);
  const row = await tx.get<{ sent_date: number | string | null; thread_keys: string; text_filter: Uint8Array | null }>(
    'SELECT sent_date, thread_keys, text_filter FROM messages WHERE content_id = ? AND thread_keys IS NOT NULL AND text_filter IS NOT NULL LIMIT 1',
    [content.id],
  );
  if (row) return storedKeys(row);
  const c = await getContent(tx, content.id); // held only by the queue (a Sent copy), or by rows not keyed
  if (c) return rowKeysOf(c.index, c.searchText);
  return [null, encodeThreadKeys({ subject: '', messageId: null, parents: [] }), null];
}

/** The columns of rows being copied, in their order (rows not keyed are keyed from their content). */
export async function sortKeysOfRows(tx: ReadTx, mailboxId: Id, rows: readonly { uid: number; content_id: string }[]): Promise<RowKeys[]> {
  const got = await tx.query<{ uid: number | string; sent_date: number | string | null; thread_keys: string | null; text_filter: Uint8Array | null }>(
    `SELECT uid, sent_date, thread_keys, text_filter FROM messages WHERE mailbox_id = ? AND uid ${tx.d.inList('int')}`,
    [mailboxId, tx.d.listParam(rows.map((r) => r.uid))],
  );
  const byUid = new Map(got.map((r) => [Number(r.uid), r]));
  const out: RowKeys[] = [];
  for (const r of rows) {
    const k = byUid.get(Number(r.uid));
    const keyed = k && k.thread_keys !== null && k.text_filter;
    out.push(keyed ? storedKeys(k as { sent_date: number | string | null; thread_keys: string; text_filter: Uint8Array }) : await sortKeysFor(tx, { existing: true, id: r.content_id }));
  }
  return out;
}

export function encodeThreadKeys(t: ThreadIds): string {
  return `${[t.messageId ?? '', ...t.parents].join(' ')}\n${t.subject}`;
}

export function decodeThreadKeys(s: string): ThreadIds {
  const cut = s.indexOf('\n');
  const ids = s.slice(0, cut).split(' ');
  return { messageId: ids[0] === '' ? null : ids[0], parents: ids.slice(1), subject: s.slice(cut + 1) };
}

interface KeyRow {
  uid: number | string;
  internal_date: number | string;
  size: number | string;
  sent_date: number | string | null;
  thread_keys: string | null;
  content_id: string;
}

interface Aggregate {
  n: number | string;
  unkeyed: number | string | null;
  uids: string | null;
  dates: string | null;
  sizes: string | null;
  sent: string | null;
  keys?: string | string[] | null;
}

/**
 * The keys of a mailbox's messages with a UID of at least `fromUid`, ascending (a caller
 * that remembers older UIDs asks only for the new ones); the thread keys only when
 * `thread` is set. 'notfound' for an unknown mailbox.
 *
 * One row aggregated in the database, as mailboxSnapshot does: the numbers as decimal
 * lists, the thread keys as one JSON array (exact for any subject), so 100,000 rows cost
 * no per-row driver object and cross a worker boundary as a few strings. Rows not keyed
 * (none after migration 22) take the row-by-row read below.
 */
export async function sortKeys(tx: ReadTx, mailboxId: Id, fromUid: Uid, thread: boolean): Promise<SortKeyRows> {
  const box = await requireMailbox(tx, mailboxId);
  const pg = tx.d.name === 'postgres';
  // PostgreSQL needs the order spelled; SQLite aggregates in the order it visits the rows (UID order here, checked below).
  const order = pg ? ' ORDER BY uid' : '';
  const keys = !thread ? '' : pg ? `, json_agg(thread_keys${order}) AS keys` : ', json_group_array(thread_keys) AS keys';
  const agg = await tx.get<Aggregate>(
    `SELECT count(*) AS n, sum(CASE WHEN thread_keys IS NULL THEN 1 ELSE 0 END) AS unkeyed,
            string_agg(CAST(uid AS TEXT), ','${order}) AS uids, string_agg(CAST(internal_date AS TEXT), ','${order}) AS dates,
            string_agg(CAST(size AS TEXT), ','${order}) AS sizes, string_agg(coalesce(CAST(sent_date AS TEXT), ''), ','${order}) AS sent${keys}
       FROM messages WHERE mailbox_id = ? AND uid >= ?`,
    [box.id, fromUid],
  );
  const n = Number(agg?.n ?? 0);
  if (Number(agg?.unkeyed ?? 0) > 0) return sortKeysByRow(tx, box.id, fromUid, thread);
  const out: SortKeyRows = {
    uids: Uint32Array.from(numbers(agg?.uids, n)),
    internalDates: Float64Array.from(numbers(agg?.dates, n)),
    sentDates: Float64Array.from(numbers(agg?.sent, n)),
    sizes: Float64Array.from(numbers(agg?.sizes, n)),
  };
  if (thread) {
    const list = (typeof agg?.keys === 'string' ? JSON.parse(agg.keys) : (agg?.keys ?? [])) as string[];
    out.thread = n === 0 ? [] : list.map(decodeThreadKeys);
  }
  for (let i = 1; i < n; i++) {
    if (out.uids[i - 1] >= out.uids[i]) return sortKeysByRow(tx, box.id, fromUid, thread); // a plan that did not visit in UID order
  }
  return out;
}

/** `1,,3` (the database wrote it) as numbers; an empty entry is NaN (no sent date). */
function numbers(text: string | null | undefined, n: number): number[] {
  if (n === 0) return [];
  const list = (text ?? '').split(',');
  if (list.length !== n) throw new StoreError('invalid', `sort keys: ${list.length} values for ${n} rows`);
  return list.map((v) => (v === '' ? NaN : Number(v)));
}

/** Row by row, ascending UID, keys computed for the rows without them. */
async function sortKeysByRow(tx: ReadTx, mailboxId: Id, fromUid: Uid, thread: boolean): Promise<SortKeyRows> {
  const rows = await tx.query<KeyRow>(
    'SELECT uid, internal_date, size, sent_date, thread_keys, content_id FROM messages WHERE mailbox_id = ? AND uid >= ? ORDER BY uid',
    [mailboxId, fromUid],
  );
  const n = rows.length;
  const out: SortKeyRows = { uids: new Uint32Array(n), internalDates: new Float64Array(n), sentDates: new Float64Array(n), sizes: new Float64Array(n) };
  const threads: ThreadIds[] | undefined = thread ? new Array<ThreadIds>(n) : undefined;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    const [sent, keys] = r.thread_keys === null ? await sortKeysFor(tx, { existing: true, id: r.content_id }) : [r.sent_date === null ? null : Number(r.sent_date), r.thread_keys];
    out.uids[i] = Number(r.uid);
    out.internalDates[i] = Number(r.internal_date);
    out.sizes[i] = Number(r.size);
    out.sentDates[i] = sent ?? NaN;
    if (threads) threads[i] = decodeThreadKeys(keys);
  }
  if (threads) out.thread = threads;
  return out;
}
