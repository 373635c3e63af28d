/**
 * The one path from bytes to storable content (SMTP DATA, LMTP, IMAP APPEND, CLI
 * deliver, the outbound queue, Sent copies). The bytes arrive as a `MessageSource`
 * (src/mail/message-source.ts), spooled once at the network edge while hashed; content
 * the store already has (same sha256) is not read again, unless it is small enough to be
 * stored inline (then asking would cost more than indexing it again). Otherwise the MIME index is
 * built once here, the message is cut into segments (large leaf bodies on their own, so
 * identical attachments are stored once; and at the edges of a whole spool file, which
 * the blob store can then link instead of copy), and each segment is handed to the blob
 * store as a file range or a stream of the source.
 *
 * Invariant: concatenating the segments gives back the exact bytes of the source.
 * The caller owns the source (and disposes it); ingest never copies it to a file.
 * Never imports: protocol code.
 */
import { createHash } from 'node:crypto';
import type { ExistingContent, NewContent, Segment, Store } from './store/types.js';
import type { MessageIndex } from './mime/types.js';
import type { MessageSource } from './mail/message-source.js';
import { indexMessage } from './mime/index-message.js';
import { searchText } from './mime/search-text.js';
import { encodeInline, isInlineSize } from './store/blob/inline.js';

export interface IngestOptions {
  /** Where spool files go (created if missing); use a directory on the data volume, next to the blobs, so a spool can become a blob by a link. */
  spoolDir: string;
  /** Leaf bodies at least this large become their own blob. */
  largePartThreshold: number;
  /** Reject (IngestError 'too-large') past this many bytes; 0 = no limit. */
  maxSize?: number;
}

export interface Ingested {
  content: NewContent | ExistingContent;
  index: MessageIndex;
  size: number;
  /**
   * Rebuilds the content with every blob rewritten. Needed only when an append of
   * ExistingContent fails with 'notfound' because the last copy was expunged meanwhile.
   */
  fresh(): Promise<Ingested>;
}

export class IngestError extends Error {
  constructor(
    readonly code: 'too-large',
    message: string,
  ) {
    super(message);
    this.name = 'IngestError';
  }
}

/** Turns a message source into content ready for `store.appendMessage`. The source stays the caller's to dispose. */
export async function ingest(store: Store, source: MessageSource, opts: IngestOptions): Promise<Ingested> {
  if (opts.maxSize && source.size > opts.maxSize) throw new IngestError('too-large', `message exceeds the size limit of ${opts.maxSize} bytes`);
  const fresh = async (): Promise<Ingested> => build(store, source, await source.all(), opts, fresh);
  let raw: Buffer | undefined;
  if (!source.knownHash) {
    // A view (trace fields in front): its hash needs a read anyway, and so does the index; read once for both.
    raw = await source.all();
    source.noteHash(sha256(raw));
  }
  const hash = await source.sha256();
  // A message small enough to be one inline blob does not ask first: nothing of it is written
  // before the append (no blob file), indexing it costs less than the question's round trip,
  // and the append takes a reference on a content row it finds instead of inserting one.
  if (!isInlineSize(source.size) && (await store.hasContent(hash))) {
    const meta = await store.getContent(hash);
    if (meta) return { content: { id: hash, existing: true }, index: meta.index, size: meta.size, fresh };
  }
  return build(store, source, raw ?? (await source.all()), opts, fresh);
}

/**
 * Index, segments and blobs. `raw` (the whole message in one buffer, external memory,
 * not the JS heap) feeds the MIME index and the segment hashes; the blob bytes come
 * from the source, so a spooled range is linked or copied file to file.
 */
async function build(store: Store, source: MessageSource, raw: Buffer, opts: IngestOptions, fresh: () => Promise<Ingested>): Promise<Ingested> {
  const hash = await source.sha256();
  const index = indexMessage(raw, { largeBodyThreshold: opts.largePartThreshold });
  const cuts = source.wholeFiles().flatMap((f) => [f.start, f.end]);
  const ranges = segmentRanges(raw.length, index.largeBodies, cuts);
  // A message without large bodies is one segment: its hash is the content id, already computed.
  const segments: Segment[] = ranges.map(([start, end]) => ({ hash: start === 0 && end === raw.length ? hash : sha256(raw.subarray(start, end)), size: end - start }));
  // Small blobs go into the database with the content (store/blob/inline.ts): a copy, so
  // the message's buffer is not kept alive by a segment.
  for (const [i, seg] of segments.entries()) if (isInlineSize(seg.size)) seg.bytes = Buffer.from(raw.subarray(ranges[i][0], ranges[i][1]));
  // Compressed here, synchronously, unless the store does it on its own thread (Store.inlineEncoding):
  // at most INLINE_MAX bytes (~0.1 ms for 10 KB), and zlib's async call costs the process
  // about five times the CPU of the sync one (stream set-up, a pool hop), for no gain where
  // the loop is not the limit.
  if (store.inlineEncoding !== 'store') for (const seg of segments) if (seg.bytes) seg.encoded = encodeInline(seg.bytes);
  await putAll(store, source, segments, ranges);
  const content: NewContent = { id: hash, size: raw.length, segments, index, searchText: searchText(raw, index) };
  return { content, index, size: raw.length, fresh };
}

/** Blob writes in flight at once for one message: each waits on its own fsyncs, so they overlap. */
const PUT_CONCURRENCY = 4;

/** Writes the blob file of every segment not kept inline (durable when this resolves), a few at a time. */
async function putAll(store: Store, source: MessageSource, segments: Segment[], ranges: [number, number][]): Promise<void> {
  const files = segments.flatMap((seg, i) => (seg.bytes ? [] : [i]));
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = files[next++];
      await store.blobs.put(segments[i].hash, source.blobBytes(ranges[i][0], ranges[i][1]));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUT_CONCURRENCY, files.length) }, worker));
}

/**
 * Cuts [0, size) at the large bodies: gaps become segments of their own; empty ranges
 * are dropped. Then every range is cut again at each of `cuts` strictly inside it (the
 * edges of a whole spool file).
 */
export function segmentRanges(size: number, large: { start: number; end: number }[], cuts: number[] = []): [number, number][] {
  const ranges = largeBodyRanges(size, large);
  if (cuts.length === 0) return ranges;
  const sorted = [...new Set(cuts)].sort((a, b) => a - b);
  return ranges.flatMap(([start, end]) => {
    const out: [number, number][] = [];
    let pos = start;
    for (const c of sorted) if (c > pos && c < end) out.push([pos, (pos = c)]);
    out.push([pos, end]);
    return out;
  });
}

function largeBodyRanges(size: number, large: { start: number; end: number }[]): [number, number][] {
  const ranges: [number, number][] = [];
  let pos = 0;
  for (const { start, end } of [...large].sort((a, b) => a.start - b.start)) {
    if (start < pos || end > size || end <= start) continue; // overlapping or out of range: keep it inline
    if (start > pos) ranges.push([pos, start]);
    ranges.push([start, end]);
    pos = end;
  }
  if (pos < size || size === 0) ranges.push([pos, size]);
  return ranges;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
