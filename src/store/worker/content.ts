/**
 * Message bytes on the main thread: the worker answers only a content's segment list;
 * the bytes are read here from the blob files with async (libuv) I/O, so no stream and
 * no message body ever crosses the thread boundary.
 */
import { Readable } from 'node:stream';
import { StoreError } from '../errors.js';
import type { BlobStore, Segment } from '../types.js';

/** Bytes [start, end) of the concatenated segments, one blob range at a time (never the whole message in memory). */
export function streamSegments(blobs: BlobStore, segments: Segment[], size: number, start = 0, end = size): Readable {
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
