/**
 * Immutable message contents and their blobs on PostgreSQL, with the reference counts
 * of ../sqlite/contents.ts: contents.refcount counts message rows, blobs.refcount
 * counts segment references from contents; a count reaching 0 deletes the row (and,
 * through the blob backend, the bytes) in the same transaction.
 * Rows are touched in sorted key order so concurrent transactions never deadlock on them.
 */
import { StoreError } from '../errors.js';
import { checkHash } from '../blob/fs-blob-store.js';
import type { ContentMeta, ExistingContent, NewContent, Segment, StorageStats } from '../types.js';
import type { MessageIndex } from '../../mime/types.js';
import type { PgBlobBackend } from './blobs.js';
import type { PgTx } from './tx.js';

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

/** Takes `count` references for new message rows, creating the content (and blob) rows when new; returns its size. */
export async function acquireContent(tx: PgTx, blobs: PgBlobBackend, content: NewContent | ExistingContent, count = 1): Promise<number> {
  if (!isExisting(content)) validateNew(content);
  else checkHash(content.id);
  const found = await tx.one<{ size: number }>('UPDATE contents SET refcount = refcount + $1 WHERE id = $2 RETURNING size', [count, content.id]);
  if (found) return found.size;
  if (isExisting(content)) throw new StoreError('notfound', `content ${content.id} is no longer stored`);
  // Distinct hashes in sorted order; a repeated segment takes one reference per use, as on SQLite.
  for (const seg of [...content.segments].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))) await addBlobRef(tx, blobs, seg);
  const inserted = await tx.run(
    `INSERT INTO contents (id, size, refcount, segments, idx, search_text) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
    [content.id, content.size, count, JSON.stringify(content.segments.map((g) => ({ hash: g.hash, size: g.size }))), JSON.stringify(content.index), content.searchText],
  );
  if (inserted === 0) {
    // Another node stored the same content meanwhile: take references on its row instead,
    // and give back the blob references taken above.
    await releaseBlobs(tx, blobs, content.segments);
    const again = await tx.one<{ size: number }>('UPDATE contents SET refcount = refcount + $1 WHERE id = $2 RETURNING size', [count, content.id]);
    if (!again) throw new StoreError('unavailable', `content ${content.id} vanished during a concurrent release; retry`);
    return again.size;
  }
  return content.size;
}

async function addBlobRef(tx: PgTx, blobs: PgBlobBackend, seg: Segment): Promise<void> {
  if ((await tx.run('UPDATE blobs SET refcount = refcount + 1 WHERE hash = $1', [seg.hash])) > 0) return;
  const size = await blobs.lockedSize(tx, seg.hash);
  if (size === null) throw new StoreError('notfound', `blob ${seg.hash} is not in the blob store; write it and retry`);
  if (size !== seg.size) throw new StoreError('invalid', `blob ${seg.hash} has ${size} bytes, segment says ${seg.size}`);
  await tx.run('INSERT INTO blobs (hash, size, refcount) VALUES ($1, $2, 1) ON CONFLICT (hash) DO UPDATE SET refcount = blobs.refcount + 1', [seg.hash, seg.size]);
  tx.unlink.delete(seg.hash);
}

async function releaseBlobs(tx: PgTx, blobs: PgBlobBackend, segments: Segment[]): Promise<void> {
  for (const seg of [...segments].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))) {
    const b = await tx.one<{ refcount: number }>('UPDATE blobs SET refcount = refcount - 1 WHERE hash = $1 RETURNING refcount', [seg.hash]);
    if (b && b.refcount <= 0) {
      await tx.run('DELETE FROM blobs WHERE hash = $1', [seg.hash]);
      await blobs.dropped(tx, seg.hash);
    }
  }
}

/** Adds references for copies of rows that already point at the content. */
export async function addContentRefs(tx: PgTx, counts: Map<string, number>): Promise<void> {
  for (const id of [...counts.keys()].sort()) await tx.run('UPDATE contents SET refcount = refcount + $1 WHERE id = $2', [counts.get(id), id]);
}

/** Drops references of removed message rows; deletes contents and blobs that reach 0. */
export async function releaseContents(tx: PgTx, blobs: PgBlobBackend, counts: Map<string, number>): Promise<void> {
  for (const id of [...counts.keys()].sort()) {
    const r = await tx.one<{ refcount: number; segments: string }>('UPDATE contents SET refcount = refcount - $1 WHERE id = $2 RETURNING refcount, segments', [counts.get(id), id]);
    if (!r || r.refcount > 0) continue;
    await tx.run('DELETE FROM contents WHERE id = $1', [id]);
    await releaseBlobs(tx, blobs, JSON.parse(r.segments) as Segment[]);
  }
}

export function countContents(rows: { content_id: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.content_id, (counts.get(r.content_id) ?? 0) + 1);
  return counts;
}

export async function getContent(tx: PgTx, id: string): Promise<ContentMeta | null> {
  const r = await tx.one<{ id: string; size: number; idx: string; search_text: string }>('SELECT id, size, idx, search_text FROM contents WHERE id = $1', [id]);
  if (!r) return null;
  return { id: r.id, size: r.size, index: JSON.parse(r.idx) as MessageIndex, searchText: r.search_text };
}

export async function hasContent(tx: PgTx, id: string): Promise<boolean> {
  return (await tx.one('SELECT 1 FROM contents WHERE id = $1', [id])) !== undefined;
}

export async function contentSegments(tx: PgTx, id: string): Promise<{ size: number; segments: Segment[] }> {
  const r = await tx.one<{ size: number; segments: string }>('SELECT size, segments FROM contents WHERE id = $1', [id]);
  if (!r) throw new StoreError('notfound', `no content ${id}`);
  return { size: r.size, segments: JSON.parse(r.segments) as Segment[] };
}

export async function stats(tx: PgTx): Promise<StorageStats> {
  const m = (await tx.one<{ n: number; bytes: number }>('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM messages'))!;
  const c = (await tx.one<{ n: number }>('SELECT count(*) AS n FROM contents'))!;
  const b = (await tx.one<{ n: number; bytes: number }>('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM blobs'))!;
  return { logicalBytes: m.bytes, blobBytes: b.bytes, contents: c.n, blobs: b.n, messages: m.n };
}
