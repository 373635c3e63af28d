/**
 * What the storage rules need from blob storage inside a transaction (BlobBackend),
 * and streaming a message across its segments. Each backend plugs in its own: files
 * checked under SQLite's write lock, bytes in a PostgreSQL table, or a shared directory
 * guarded by advisory locks.
 */
import { Readable } from 'node:stream';
import { StoreError } from '../errors.js';
import type { BlobStore, Segment } from '../types.js';
import type { Tx } from './tx.js';

export interface BlobBackend extends BlobStore {
  /** Size of the stored bytes, protected from deletion until the transaction ends; null when absent. */
  lockedSize(tx: Tx, hash: string): Promise<number | null>;
  /** The last reference to the blob went in this transaction (delete now, or add to tx.unlink). */
  dropped(tx: Tx, hash: string): Promise<void>;
  /** Bytes the blob takes at rest, when this backend knows (a compressed file); null: its logical size. */
  storedSizeSync?(hash: string): number | null;
  /** Runs after commit with the transaction's `tx.unlink`; never throws (a file left behind is only garbage). */
  afterCommit(hashes: Set<string>): Promise<void>;
}

/** A content's segments and total size. */
export interface SegmentLayout {
  segments: Segment[];
  size: number;
}

/**
 * Streams bytes [start, end) across segments, one blob range at a time (never the whole
 * message in memory); a segment that carries its bytes (kept inline) is served from them.
 * `relayout`: the layout came from a cache and may name blobs removed since (the content was deleted
 * and delivered again, cut into other segments); when a blob is missing, the current layout is asked
 * for and the stream goes on from where it was (same id, same bytes). Without it, a missing blob fails.
 */
export function streamSegments(blobs: BlobStore, segments: Segment[], size: number, start = 0, end = size, relayout?: () => Promise<SegmentLayout>): Readable {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new StoreError('invalid', `bad byte range [${start}, ${end})`);
  }
  const stop = Math.min(end, size);
  const from = Math.min(start, stop);
  async function* range(segs: Segment[], first: number): AsyncGenerator<Buffer> {
    let offset = 0;
    for (const seg of segs) {
      const segStart = offset;
      offset += seg.size;
      if (offset <= first || seg.size === 0) continue;
      if (segStart >= stop) break;
      const a = Math.max(first - segStart, 0);
      const b = Math.min(stop, offset) - segStart;
      if (seg.bytes) yield Buffer.from(seg.bytes.buffer, seg.bytes.byteOffset + a, b - a); // kept inline: no file to read
      else yield* blobs.read(seg.hash, a, b);
    }
  }
  async function* retrying(): AsyncGenerator<Buffer> {
    let at = from;
    try {
      for await (const chunk of range(segments, from)) {
        at += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'notfound')) throw err;
      yield* range((await relayout!()).segments, at);
    }
  }
  return Readable.from(relayout ? retrying() : range(segments, from), { objectMode: false });
}
