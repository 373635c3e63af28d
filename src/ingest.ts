/**
 * The one path from bytes to storable content (SMTP DATA, LMTP, IMAP APPEND, CLI
 * deliver, import). Bytes are spooled to a temp file while hashed, so a message
 * arriving over the network is never held twice; content the store already has
 * (same sha256) is not parsed again. Otherwise the MIME index is built once here,
 * the message is cut into segments (large leaf bodies on their own, so identical
 * attachments are stored once) and each segment is written to the blob store.
 *
 * Invariant: concatenating the segments gives back the exact bytes received.
 * Never imports: protocol code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import type { ExistingContent, NewContent, Segment, Store } from './store/types.js';
import type { MessageIndex } from './mime/types.js';
import { indexMessage } from './mime/index-message.js';
import { searchText } from './mime/search-text.js';

export interface IngestOptions {
  /** Where spool files go (created if missing); use a directory on the data volume. */
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
  /** Removes the spool file; call once the message is stored (or refused). */
  dispose(): Promise<void>;
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

type Raw = () => Promise<Buffer>;

/** Turns raw bytes into content ready for `store.appendMessage`. The caller must `dispose()` the result. */
export async function ingest(store: Store, source: Buffer | Readable, opts: IngestOptions): Promise<Ingested> {
  if (Buffer.isBuffer(source)) {
    checkSize(source.length, opts);
    return prepare(store, async () => source, sha256(source), opts, async () => {});
  }
  const spool = await spoolToFile(source, opts);
  const dispose = () => rm(spool.path, { force: true });
  try {
    return await prepare(store, () => readFile(spool.path), spool.hash, opts, dispose);
  } catch (err) {
    await dispose();
    throw err;
  }
}

async function prepare(store: Store, raw: Raw, hash: string, opts: IngestOptions, dispose: () => Promise<void>): Promise<Ingested> {
  const fresh = async () => build(store, await raw(), hash, opts, fresh, dispose);
  if (await store.hasContent(hash)) {
    const meta = await store.getContent(hash);
    if (meta) return { content: { id: hash, existing: true }, index: meta.index, size: meta.size, fresh, dispose };
  }
  return fresh();
}

async function build(store: Store, raw: Buffer, hash: string, opts: IngestOptions, fresh: () => Promise<Ingested>, dispose: () => Promise<void>): Promise<Ingested> {
  const index = indexMessage(raw, { largeBodyThreshold: opts.largePartThreshold });
  const ranges = segmentRanges(raw.length, index.largeBodies);
  // A message without large bodies is one segment: its hash is the content id, already computed.
  const segments: Segment[] = ranges.map(([start, end]) => ({ hash: start === 0 && end === raw.length ? hash : sha256(raw.subarray(start, end)), size: end - start }));
  await putAll(store, segments, ranges, raw);
  const content: NewContent = { id: hash, size: raw.length, segments, index, searchText: searchText(raw, index) };
  return { content, index, size: raw.length, fresh, dispose };
}

/** Blob writes in flight at once for one message: each waits on its own fsyncs, so they overlap. */
const PUT_CONCURRENCY = 4;

/** Writes every segment's blob (durable when this resolves), a few at a time. */
async function putAll(store: Store, segments: Segment[], ranges: [number, number][], raw: Buffer): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < segments.length) {
      const i = next++;
      await store.blobs.put(segments[i].hash, raw.subarray(ranges[i][0], ranges[i][1]));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUT_CONCURRENCY, segments.length) }, worker));
}

/** Cuts [0, size) at the large bodies: gaps become segments of their own; empty ranges are dropped. */
export function segmentRanges(size: number, large: { start: number; end: number }[]): [number, number][] {
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

function checkSize(size: number, opts: IngestOptions): void {
  if (opts.maxSize && size > opts.maxSize) throw new IngestError('too-large', `message exceeds the size limit of ${opts.maxSize} bytes`);
}

async function spoolToFile(source: Readable, opts: IngestOptions): Promise<{ path: string; hash: string; size: number }> {
  await mkdir(opts.spoolDir, { recursive: true });
  const path = join(opts.spoolDir, `ingest-${process.pid}-${randomBytes(8).toString('hex')}.eml`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (opts.maxSize && size > opts.maxSize) {
        done(new IngestError('too-large', `message exceeds the size limit of ${opts.maxSize} bytes`));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, meter, createWriteStream(path));
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  return { path, hash: hash.digest('hex'), size };
}
