/**
 * The keys SORT and THREAD order by, kept per content (contents.sent_date and
 * contents.thread_keys, schema 22) so that the first SORT (DATE) or THREAD REFERENCES
 * of a big mailbox is one query over its rows instead of a MIME-index (and header) read
 * per message. Per content, not per message row: they are facts of the immutable bytes,
 * so COPY, a delivery to many recipients and a restore from Recently Deleted share them
 * and need no work; the rows reach them through the content id they already hold.
 *
 * - sent_date: the Date: header, ms UTC, as the MIME index parsed it; NULL when missing or
 *   unparseable (RFC 5256: such a message sorts and threads by its INTERNALDATE).
 * - thread_keys: `<msg-id> <parent> <parent>…\n<Subject>` (store/thread-ids.ts; the Subject undecoded):
 *   msg-ids never hold white space or angle brackets, so one space separates them and an
 *   empty first token is "no Message-ID"; the subject comes last and may hold anything.
 *   Exact strings, not hashes: THREAD's answer must not depend on a collision. NULL: not
 *   keyed (a row written by a build before schema 22 that the migration has not seen),
 *   answered from the content's index and text instead.
 * - SQLite reads both through a covering index (contents_sort_keys), see migration 22.
 *
 * Never imports: protocol code, src/mail, SQL drivers.
 */
import { threadIdsOfContent, type ThreadIds } from '../thread-ids.js';
import type { MessageIndex } from '../../mime/types.js';
import type { Id, SortKeyRows, Uid } from '../types.js';
import { StoreError } from '../errors.js';
import { getContent } from './contents.js';
import { requireMailbox } from './mailboxes.js';
import type { ReadTx } from './tx.js';

/** The two columns of a content, from its index and search text (both at hand at delivery and in a backfill). */
export function sortKeyColumns(index: MessageIndex, searchText: string): [number | null, string] {
  return [index.sentDate ?? null, encodeThreadKeys(threadIdsOfContent(index, searchText))];
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
  thread_keys?: string | null;
  unkeyed: number | boolean;
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
 * no per-row driver object and cross a worker boundary as a few strings. Rows of a content
 * without keys (none after migration 22) take the row-by-row read below.
 */
export async function sortKeys(tx: ReadTx, mailboxId: Id, fromUid: Uid, thread: boolean): Promise<SortKeyRows> {
  const box = await requireMailbox(tx, mailboxId);
  const pg = tx.d.name === 'postgres';
  // PostgreSQL needs the order spelled; SQLite aggregates in the order it visits the rows (UID order here, checked below).
  const order = pg ? ' ORDER BY m.uid' : '';
  const keys = !thread ? '' : pg ? `, json_agg(c.thread_keys${order}) AS keys` : ', json_group_array(c.thread_keys) AS keys';
  const agg = await tx.get<Aggregate>(
    `SELECT count(*) AS n, sum(CASE WHEN c.thread_keys IS NULL THEN 1 ELSE 0 END) AS unkeyed,
            string_agg(CAST(m.uid AS TEXT), ','${order}) AS uids, string_agg(CAST(m.internal_date AS TEXT), ','${order}) AS dates,
            string_agg(CAST(m.size AS TEXT), ','${order}) AS sizes, string_agg(coalesce(CAST(c.sent_date AS TEXT), ''), ','${order}) AS sent${keys}
       FROM messages m JOIN contents c${indexHint(tx)} ON c.id = m.content_id
      WHERE m.mailbox_id = ? AND m.uid >= ?`,
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

/** SQLite: through the covering index of schema 22 (the planner would take the table's own key, whose rows hold these columns last, often behind overflow pages). PostgreSQL keeps large values out of line (TOAST), so its table rows are small. */
function indexHint(tx: ReadTx): string {
  return tx.d.name === 'sqlite' ? ' INDEXED BY contents_sort_keys' : '';
}

/** `1,,3` (the database wrote it) as numbers; an empty entry is NaN (no sent date). */
function numbers(text: string | null | undefined, n: number): number[] {
  if (n === 0) return [];
  const list = (text ?? '').split(',');
  if (list.length !== n) throw new StoreError('invalid', `sort keys: ${list.length} values for ${n} rows`);
  return list.map((v) => (v === '' ? NaN : Number(v)));
}

/** Row by row, ascending UID, keys computed for the contents without them. */
async function sortKeysByRow(tx: ReadTx, mailboxId: Id, fromUid: Uid, thread: boolean): Promise<SortKeyRows> {
  const rows = await tx.query<KeyRow>(
    `SELECT m.uid, m.internal_date, m.size, c.sent_date, m.content_id, c.thread_keys IS NULL AS unkeyed${thread ? ', c.thread_keys' : ''}
       FROM messages m JOIN contents c${indexHint(tx)} ON c.id = m.content_id
      WHERE m.mailbox_id = ? AND m.uid >= ? ORDER BY m.uid`,
    [mailboxId, fromUid],
  );
  const n = rows.length;
  const out: SortKeyRows = { uids: new Uint32Array(n), internalDates: new Float64Array(n), sentDates: new Float64Array(n), sizes: new Float64Array(n) };
  const threads: ThreadIds[] | undefined = thread ? new Array<ThreadIds>(n) : undefined;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    out.uids[i] = Number(r.uid);
    out.internalDates[i] = Number(r.internal_date);
    out.sizes[i] = Number(r.size);
    out.sentDates[i] = r.sent_date === null ? NaN : Number(r.sent_date);
    if (r.unkeyed) {
      const t = await unkeyed(tx, r, out, i);
      if (threads) threads[i] = t;
    } else if (threads) threads[i] = decodeThreadKeys(r.thread_keys!);
  }
  if (threads) out.thread = threads;
  return out;
}

/** A content without keys: computed from its stored index and text, as delivery would have (its sent date too). */
async function unkeyed(tx: ReadTx, r: KeyRow, out: SortKeyRows, i: number): Promise<ThreadIds> {
  const c = await getContent(tx, r.content_id);
  if (!c) return { subject: '', messageId: null, parents: [] };
  out.sentDates[i] = c.index.sentDate ?? NaN;
  return threadIdsOfContent(c.index, c.searchText);
}
