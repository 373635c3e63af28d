/**
 * Immutable message contents and their blobs, with reference counts:
 * contents.refcount counts message rows, blobs.refcount counts segment references from
 * contents. A count reaching 0 deletes the row in the same transaction; blob files are
 * unlinked after commit (see SqliteStore.afterCommit), never before.
 */
import { Readable } from 'node:stream';
import { StoreError } from '../errors.js';
import { checkHash, type FsBlobStore } from '../blob/fs-blob-store.js';
import type { ContentMeta, ExistingContent, NewContent, Segment, StorageStats } from '../types.js';
import type { MessageIndex } from '../../mime/types.js';
import type { Statements } from './db.js';
import type { Tx } from './tx.js';

interface ContentRecord {
  id: string;
  size: number;
  refcount: number;
  segments: string;
  idx: string;
  search_text: string;
}

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

/**
 * Takes `count` references to the content for new message rows, creating the content
 * row (and blob rows) when new. Returns the content's size.
 */
export function acquireContent(tx: Tx, content: NewContent | ExistingContent, count = 1): number {
  if (!isExisting(content)) validateNew(content);
  else checkHash(content.id);
  const found = tx.s.get('UPDATE contents SET refcount = refcount + ? WHERE id = ? RETURNING size').get(count, content.id) as { size: number } | undefined;
  if (found) return found.size;
  if (isExisting(content)) throw new StoreError('notfound', `content ${content.id} is no longer stored`);
  for (const seg of content.segments) addBlobRef(tx, seg);
  tx.s
    .get('INSERT INTO contents (id, size, refcount, segments, idx, search_text) VALUES (?, ?, ?, ?, ?, ?)')
    .run(content.id, content.size, count, JSON.stringify(content.segments.map((g) => ({ hash: g.hash, size: g.size }))), JSON.stringify(content.index), content.searchText);
  return content.size;
}

function addBlobRef(tx: Tx, seg: Segment): void {
  if (tx.s.get('UPDATE blobs SET refcount = refcount + 1 WHERE hash = ?').run(seg.hash).changes > 0) return;
  // A new blob row: the ingest wrote the file before calling, but a concurrent release may
  // have unlinked it since. Checked under the write lock; 'notfound' makes the caller rewrite and retry.
  const size = tx.blobs.sizeSync(seg.hash);
  if (size === null) throw new StoreError('notfound', `blob ${seg.hash} is not in the blob store; write it and retry`);
  if (size !== seg.size) throw new StoreError('invalid', `blob ${seg.hash} has ${size} bytes, segment says ${seg.size}`);
  tx.s.get('INSERT INTO blobs (hash, size, refcount) VALUES (?, ?, 1)').run(seg.hash, seg.size);
  tx.unlink.delete(seg.hash); // released earlier in this transaction and taken again: keep the file
}

/** Adds references for copies of rows that already point at the content. */
export function addContentRefs(tx: Tx, counts: Map<string, number>): void {
  const stmt = tx.s.get('UPDATE contents SET refcount = refcount + ? WHERE id = ?');
  for (const [id, n] of counts) stmt.run(n, id);
}

/** Drops references of removed message rows; deletes contents and blobs that reach 0. */
export function releaseContents(tx: Tx, counts: Map<string, number>): void {
  const dec = tx.s.get('UPDATE contents SET refcount = refcount - ? WHERE id = ? RETURNING refcount, segments');
  const decBlob = tx.s.get('UPDATE blobs SET refcount = refcount - 1 WHERE hash = ? RETURNING refcount');
  for (const [id, n] of counts) {
    const r = dec.get(n, id) as { refcount: number; segments: string } | undefined;
    if (!r || r.refcount > 0) continue;
    tx.s.get('DELETE FROM contents WHERE id = ?').run(id);
    for (const seg of JSON.parse(r.segments) as Segment[]) {
      const b = decBlob.get(seg.hash) as { refcount: number } | undefined;
      if (b && b.refcount <= 0) {
        tx.s.get('DELETE FROM blobs WHERE hash = ?').run(seg.hash);
        tx.unlink.add(seg.hash);
      }
    }
  }
}

/** Counts per content id of the given message rows. */
export function countContents(rows: { content_id: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.content_id, (counts.get(r.content_id) ?? 0) + 1);
  return counts;
}

export function getContent(s: Statements, id: string): ContentMeta | null {
  const r = s.get('SELECT * FROM contents WHERE id = ?').get(id) as ContentRecord | undefined;
  if (!r) return null;
  return { id: r.id, size: r.size, index: JSON.parse(r.idx) as MessageIndex, searchText: r.search_text };
}

export function hasContent(s: Statements, id: string): boolean {
  return s.get('SELECT 1 FROM contents WHERE id = ?').get(id) !== undefined;
}

/** The segments of a content, for streaming; 'notfound' when it is not stored. */
export function contentSegments(s: Statements, id: string): { size: number; segments: Segment[] } {
  const r = s.get('SELECT size, segments FROM contents WHERE id = ?').get(id) as { size: number; segments: string } | undefined;
  if (!r) throw new StoreError('notfound', `no content ${id}`);
  return { size: r.size, segments: JSON.parse(r.segments) as Segment[] };
}

/** Streams bytes [start, end) across segments, one blob range at a time (never the whole message in memory). */
export function streamSegments(blobs: FsBlobStore, segments: Segment[], size: number, start = 0, end = size): Readable {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new StoreError('invalid', `bad byte range [${start}, ${end})`);
  }
  const stop = Math.min(end, size);
  const from = Math.min(start, stop);
  async function* chunks(): AsyncGenerator<Buffer> {
    let offset = 0;
    for (const seg of segments) {
      const segStart = offset;
      offset += seg.size;
      if (offset <= from || seg.size === 0) continue;
      if (segStart >= stop) break;
      yield* blobs.read(seg.hash, Math.max(from - segStart, 0), Math.min(stop, offset) - segStart);
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

export function stats(s: Statements): StorageStats {
  const m = s.get('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM messages').get() as { n: number; bytes: number };
  const c = s.get('SELECT count(*) AS n FROM contents').get() as { n: number };
  const b = s.get('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM blobs').get() as { n: number; bytes: number };
  return { logicalBytes: m.bytes, blobBytes: b.bytes, contents: c.n, blobs: b.n, messages: m.n };
}
