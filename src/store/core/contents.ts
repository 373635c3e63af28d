/**
 * Immutable message contents and their blobs, with reference counts:
 * contents.refcount counts message rows (and queue entries), blobs.refcount counts
 * segment references from contents. A count reaching 0 deletes the row in the same
 * transaction; the bytes go through the BlobBackend (in the transaction, or after
 * commit for files), never before. Rows are touched in sorted key order so concurrent
 * transactions never deadlock on them.
 */
import { StoreError } from '../errors.js';
import { checkHash, sha256Hex } from '../blob/fs-blob-store.js';
import { checkedInline, decodeInline, encodeInline, INLINE_MAX } from '../blob/inline.js';
import { packIndex, packSearchText, unpackIndex, unpackSearchText } from './packed-text.js';
import type { ContentIndex, ContentMeta, ExistingContent, NewContent, Segment, StorageStats } from '../types.js';
import type { MessageIndex } from '../../mime/types.js';
import type { ReadTx, Tx } from './tx.js';

function isExisting(c: NewContent | ExistingContent): c is ExistingContent {
  return (c as ExistingContent).existing === true;
}

function validateNew(c: NewContent): void {
  checkHash(c.id);
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new StoreError('invalid', 'content size must be a non-negative integer');
  if (!Array.isArray(c.segments)) throw new StoreError('invalid', 'content segments must be an array');
  let total = 0;
  for (const seg of c.segments) {
    checkHash(seg.hash);
    if (!Number.isSafeInteger(seg.size) || seg.size < 0) throw new StoreError('invalid', 'segment size must be a non-negative integer');
    total += seg.size;
  }
  if (total !== c.size) throw new StoreError('invalid', `segments add up to ${total} bytes, content says ${c.size}`);
  if (typeof c.index !== 'object' || c.index === null) throw new StoreError('invalid', 'content index missing');
  if (typeof c.searchText !== 'string') throw new StoreError('invalid', 'content searchText must be a string');
}

const byHash = (a: Segment, b: Segment): number => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0);

/**
 * Takes `count` references to the content for new rows, creating the content row (and
 * blob rows) when new. Returns the content's size.
 */
export async function acquireContent(tx: Tx, content: NewContent | ExistingContent, count = 1): Promise<number> {
  if (isExisting(content)) {
    checkHash(content.id);
    const found = await tx.get<{ size: number }>('UPDATE contents SET refcount = refcount + ? WHERE id = ? RETURNING size', [count, content.id]);
    if (!found) throw new StoreError('notfound', `content ${content.id} is no longer stored`);
    return found.size;
  }
  validateNew(content);
  // New content (the ingest found none a moment ago), so the insert comes first: one statement
  // where a refcount UPDATE would miss. The content row is touched before its blobs, the
  // order releaseContents takes them in.
  const { changes } = await tx.exec('INSERT INTO contents (id, size, refcount, segments, idx, search_text) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING', [
    content.id,
    content.size,
    count,
    storedSegments(content.id, content.segments),
    ...packedColumns(tx, content),
  ]);
  if (changes === 0) {
    // Stored meanwhile (another session or node): take references on that row instead.
    const again = await tx.get<{ size: number }>('UPDATE contents SET refcount = refcount + ? WHERE id = ? RETURNING size', [count, content.id]);
    if (!again) throw new StoreError('unavailable', `content ${content.id} vanished during a concurrent release; retry`);
    return again.size;
  }
  // Sorted by hash; a repeated segment takes one reference per use. The one segment of a new
  // single-part content is a new blob but for a rare coincidence, so it skips the UPDATE that
  // would find no row (the upsert after the size check counts a reference either way).
  const single = content.segments.length === 1;
  for (const seg of [...content.segments].sort(byHash)) await addBlobRef(tx, seg, single);
  return content.size;
}

/**
 * contents.segments as stored: '' for the usual layout, one segment that is the whole
 * message (its hash is the content id: nothing to say), else JSON [{hash,size}]. The empty
 * form saves ~90 bytes of a small message's row (schema 23 on; rows before keep JSON).
 */
export function storedSegments(id: string, segments: readonly Segment[]): string {
  if (segments.length === 1 && segments[0].hash === id) return '';
  return JSON.stringify(segments.map((g) => ({ hash: g.hash, size: g.size })));
}

/** The segments of a content from its stored `segments`, id and size (see storedSegments). */
export function segmentsOf(stored: string, id: string, size: number | string): Segment[] {
  return stored === '' ? [{ hash: id, size: Number(size) }] : (JSON.parse(stored) as Segment[]);
}

/** idx and search_text as this backend stores them (./packed-text.ts). */
function packedColumns(tx: Tx, c: NewContent): [string | Buffer, string | Buffer] {
  const json = JSON.stringify(c.index);
  if (!tx.d.packsText) return [json, c.searchText];
  // The whole message in one inline blob: the search text is packed against it.
  const whole = c.segments.length === 1 && c.segments[0].hash === c.id ? c.segments[0].bytes : undefined;
  return [packIndex(json), packSearchText(c.searchText, whole)];
}

/** The message bytes of a one-blob content kept inline, from a joined `blob_inline.data`. */
export function inlineMessage(id: string, data: Uint8Array | null | undefined): () => Buffer | undefined {
  return () => (data ? decodeInline(data, id) : undefined);
}

async function addBlobRef(tx: Tx, seg: Segment, likelyNew = false): Promise<void> {
  if (seg.bytes) return addInlineBlob(tx, seg, seg.bytes, likelyNew);
  if (!likelyNew && (await tx.exec('UPDATE blobs SET refcount = refcount + 1 WHERE hash = ?', [seg.hash])).changes > 0) return;
  // A new blob row: the ingest wrote the bytes before calling, but a concurrent release may
  // have removed them since. Checked under a lock; 'notfound' makes the caller rewrite and retry.
  const size = await tx.blobs.lockedSize(tx, seg.hash);
  if (size === null) throw new StoreError('notfound', `blob ${seg.hash} is not in the blob store; write it and retry`);
  if (size !== seg.size) throw new StoreError('invalid', `blob ${seg.hash} has ${size} bytes, segment says ${seg.size}`);
  const stored = tx.blobs.storedSizeSync?.(seg.hash) ?? null;
  await tx.exec('INSERT INTO blobs (hash, size, refcount, stored_size) VALUES (?, ?, 1, ?) ON CONFLICT (hash) DO UPDATE SET refcount = blobs.refcount + 1', [seg.hash, seg.size, stored === seg.size ? null : stored]);
  tx.unlink.delete(seg.hash); // released earlier in this transaction and taken again: keep the bytes
}

/**
 * A reference to a blob kept in the database (blob/inline.ts), whose bytes the caller
 * gives: a new blob's bytes go into a `blob_inline` row that its `blobs` row points at, in
 * this transaction, so they are durable exactly when the content is. They are checked
 * against the name here, as a file's are on put.
 */
/** The bytes' blob_inline row, then the blobs row naming it (or a reference more on the row that exists). */
async function insertInlineBlob(tx: Tx, seg: Segment, data: Buffer | Uint8Array): Promise<{ made: { id: number | string }; row: { inline_id: number | string | null } }> {
  const UPSERT = 'ON CONFLICT (hash) DO UPDATE SET refcount = blobs.refcount + 1 RETURNING inline_id';
  if (tx.d.writableCte) {
    // Both in one statement (a round trip fewer per delivery).
    const r = (await tx.get<{ inline_id: number | string | null; made_id: number | string }>(
      `WITH made AS (INSERT INTO blob_inline (data) VALUES (?) RETURNING id)
        INSERT INTO blobs (hash, size, refcount, stored_size, inline_id) SELECT ?, ?, 1, ?, made.id FROM made ${UPSERT}, (SELECT id FROM made) AS made_id`,
      [data, seg.hash, seg.size, data.length],
    ))!;
    return { made: { id: r.made_id }, row: { inline_id: r.inline_id } };
  }
  const made = (await tx.get<{ id: number | string }>('INSERT INTO blob_inline (data) VALUES (?) RETURNING id', [data]))!;
  const row = (await tx.get<{ inline_id: number | string | null }>(
    `INSERT INTO blobs (hash, size, refcount, stored_size, inline_id) VALUES (?, ?, 1, ?, ?) ${UPSERT}`,
    [seg.hash, seg.size, data.length, made.id],
  ))!;
  return { made, row };
}

async function addInlineBlob(tx: Tx, seg: Segment, bytes: Uint8Array, likelyNew: boolean): Promise<void> {
  if (bytes.byteLength !== seg.size || seg.size > INLINE_MAX) throw new StoreError('invalid', `inline blob ${seg.hash}: ${bytes.byteLength} bytes, segment says ${seg.size} (at most ${INLINE_MAX})`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (sha256Hex(view) !== seg.hash) throw new StoreError('invalid', `blob bytes do not hash to ${seg.hash}`);
  if (!likelyNew) {
    const had = await tx.get<{ inline_id: number | string | null }>('UPDATE blobs SET refcount = refcount + 1 WHERE hash = ? RETURNING inline_id', [seg.hash]);
    if (had && had.inline_id !== null) return;
    if (had) return moveIntoDatabase(tx, seg.hash, encoded(seg, view));
  }
  const data = encoded(seg, view);
  const { made, row } = await insertInlineBlob(tx, seg, data);
  if (row.inline_id === null) {
    await tx.exec('DELETE FROM blob_inline WHERE id = ?', [made.id]);
    await moveIntoDatabase(tx, seg.hash, data);
  } else if (String(row.inline_id) !== String(made.id)) {
    await tx.exec('DELETE FROM blob_inline WHERE id = ?', [made.id]); // made inline meanwhile (a concurrent transaction): one copy
  }
  // No tx.unlink.delete: a file released earlier in this transaction is not needed any more.
}

/**
 * A blob stored as a file (before schema 20) taken again with its bytes becomes inline:
 * a reader of the new content's packed search text needs them in the database, and
 * the file goes after commit (BlobBackend.dropped; the backends keep files of inline rows no more).
 */
/** The `data` column of an inline segment: the ingest's, checked, or made here. */
function encoded(seg: Segment, view: Buffer): Buffer {
  return seg.encoded ? checkedInline(seg.encoded, view, seg.hash) : encodeInline(view);
}

async function moveIntoDatabase(tx: Tx, hash: string, data: Buffer): Promise<void> {
  const made = (await tx.get<{ id: number | string }>('INSERT INTO blob_inline (data) VALUES (?) RETURNING id', [data]))!;
  await tx.exec('UPDATE blobs SET inline_id = ?, stored_size = ? WHERE hash = ?', [made.id, data.length, hash]);
  await tx.blobs.dropped(tx, hash);
}

async function releaseBlobs(tx: Tx, segments: Segment[]): Promise<void> {
  for (const seg of [...segments].sort(byHash)) {
    const b = await tx.get<{ refcount: number; inline_id: number | string | null }>('UPDATE blobs SET refcount = refcount - 1 WHERE hash = ? RETURNING refcount, inline_id', [seg.hash]);
    if (b && b.refcount <= 0) {
      await tx.exec('DELETE FROM blobs WHERE hash = ?', [seg.hash]);
      // An inline blob's bytes go in this transaction; a file (or blob_data row) through the backend.
      if (b.inline_id !== null) await tx.exec('DELETE FROM blob_inline WHERE id = ?', [b.inline_id]);
      else await tx.blobs.dropped(tx, seg.hash);
    }
  }
}

/** Adds references for copies of rows that already point at the content. */
export async function addContentRefs(tx: Tx, counts: Map<string, number>): Promise<void> {
  for (const id of [...counts.keys()].sort()) await tx.exec('UPDATE contents SET refcount = refcount + ? WHERE id = ?', [counts.get(id), id]);
}

/** Drops references of removed rows; deletes contents and blobs that reach 0. */
export async function releaseContents(tx: Tx, counts: Map<string, number>): Promise<void> {
  for (const id of [...counts.keys()].sort()) {
    const r = await tx.get<{ refcount: number; segments: string; size: number }>('UPDATE contents SET refcount = refcount - ? WHERE id = ? RETURNING refcount, segments, size', [counts.get(id), id]);
    if (!r || r.refcount > 0) continue;
    await tx.exec('DELETE FROM contents WHERE id = ?', [id]);
    tx.goneContents.add(id);
    await releaseBlobs(tx, segmentsOf(r.segments, id, r.size));
  }
}

/** Counts per content id of the given rows. */
export function countContents(rows: { content_id: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.content_id, (counts.get(r.content_id) ?? 0) + 1);
  return counts;
}

/** SELECT list and joins that give a content row with the bytes of its one inline blob, if any (`data`). */
export const WITH_INLINE_MESSAGE = 'contents c LEFT JOIN blobs b ON b.hash = c.id LEFT JOIN blob_inline i ON i.id = b.inline_id';

export async function getContent(tx: ReadTx, id: string): Promise<ContentMeta | null> {
  const r = await tx.get<{ id: string; size: number; idx: string | Uint8Array; search_text: string | Uint8Array; data: Uint8Array | null }>(
    `SELECT c.id, c.size, c.idx, c.search_text, i.data FROM ${WITH_INLINE_MESSAGE} WHERE c.id = ?`,
    [id],
  );
  if (!r) return null;
  return { id: r.id, size: r.size, index: JSON.parse(unpackIndex(r.idx, r.id)) as MessageIndex, searchText: unpackSearchText(r.search_text, r.id, inlineMessage(r.id, r.data)) };
}

/** Ids per query of getIndexes: bounds one statement's parameter and result. */
const INDEX_BATCH = 500;

/** Indexes of many contents, a batch of ids per query; the search text is never read. */
export async function getIndexes(tx: ReadTx, ids: string[]): Promise<Map<string, ContentIndex>> {
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw new StoreError('invalid', 'content ids must be strings');
  const out = new Map<string, ContentIndex>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += INDEX_BATCH) {
    const rows = await tx.query<{ id: string; size: number; idx: string | Uint8Array }>(
      `SELECT id, size, idx FROM contents WHERE id ${tx.d.inList('text')}`,
      [tx.d.listParam(unique.slice(i, i + INDEX_BATCH))],
    );
    for (const r of rows) out.set(r.id, { id: r.id, size: r.size, index: JSON.parse(unpackIndex(r.idx, r.id)) as MessageIndex });
  }
  return out;
}

export async function hasContent(tx: ReadTx, id: string): Promise<boolean> {
  return (await tx.get('SELECT 1 FROM contents WHERE id = ?', [id])) !== undefined;
}

/**
 * The segments of a content, for streaming; 'notfound' when it is not stored. One
 * statement: the bytes of a one-segment content kept inline (the segment is the whole
 * message, so its hash is the content id) come with it; `inlineSegments` fills in those
 * of the other segments.
 */
export async function contentSegments(tx: ReadTx, id: string): Promise<{ size: number; segments: Segment[] }> {
  const r = await tx.get<{ size: number; segments: string; data: Uint8Array | null }>(
    `SELECT c.size, c.segments, i.data FROM ${WITH_INLINE_MESSAGE} WHERE c.id = ?`,
    [id],
  );
  if (!r) throw new StoreError('notfound', `no content ${id}`);
  const segments = segmentsOf(r.segments, id, r.size);
  if (r.data && segments.length === 1 && segments[0].hash === id) segments[0].bytes = decodeInline(r.data, id);
  return { size: r.size, segments };
}

/** Whether some segment of a layout may be kept inline without its bytes given yet. */
export function mayHaveInlineSegments(segments: Segment[]): boolean {
  return segments.length > 1 && segments.some((s) => !s.bytes && s.size <= INLINE_MAX);
}

/** Gives the segments kept inline their bytes (one statement); segments kept as files stay as they are. */
export async function inlineSegments(tx: ReadTx, segments: Segment[]): Promise<void> {
  const wanted = [...new Set(segments.filter((s) => !s.bytes && s.size <= INLINE_MAX).map((s) => s.hash))];
  if (wanted.length === 0) return;
  const rows = await tx.query<{ hash: string; data: Uint8Array }>(`SELECT b.hash, i.data FROM blobs b JOIN blob_inline i ON i.id = b.inline_id WHERE b.hash ${tx.d.inList('text')}`, [tx.d.listParam(wanted)]);
  const bytes = new Map(rows.map((r) => [r.hash, decodeInline(r.data, r.hash)]));
  for (const s of segments) if (!s.bytes && bytes.has(s.hash)) s.bytes = bytes.get(s.hash);
}

export async function stats(tx: ReadTx): Promise<StorageStats> {
  const m = (await tx.get<{ n: number; bytes: number }>('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM messages'))!;
  const c = (await tx.get<{ n: number }>('SELECT count(*) AS n FROM contents'))!;
  const b = (await tx.get<{ n: number; bytes: number }>('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM blobs'))!;
  return { logicalBytes: m.bytes, blobBytes: b.bytes, contents: c.n, blobs: b.n, messages: m.n };
}
