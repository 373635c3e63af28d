import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { FsBlobStore, sha256Hex } from '../blob/fs-blob-store.js';
import { isStoreError } from '../errors.js';
import type { Segment } from '../types.js';
import { streamSegments } from './blobs.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('streamSegments', () => {
  let dir: string;
  let blobs: FsBlobStore;
  const raw = randomBytes(3 * 1024 * 1024 + 77); // over SMALL_READ, so a segment arrives in several chunks
  let cutA: Segment[];
  let cutB: Segment[];

  async function segmentsOf(points: number[]): Promise<Segment[]> {
    const out: Segment[] = [];
    for (let i = 1; i < points.length; i++) {
      const bytes = raw.subarray(points[i - 1], points[i]);
      const hash = sha256Hex(bytes);
      await blobs.put(hash, Readable.from([bytes]));
      out.push({ hash, size: bytes.length });
    }
    return out;
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-segments-'));
    blobs = new FsBlobStore(path.join(dir, 'blobs'));
    cutA = await segmentsOf([0, 1000, 2_500_000, raw.length]);
    cutB = await segmentsOf([0, 2_000_000, raw.length]);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('streams any range across segments', async () => {
    for (const [s, e] of [[0, raw.length], [0, 0], [999, 1001], [1500, 2_600_000], [raw.length - 5, raw.length + 10]]) {
      assert.deepEqual(await collect(streamSegments(blobs, cutA, raw.length, s, e)), raw.subarray(s, e), `range ${s}-${e}`);
    }
  });

  it('a missing blob of a remembered layout: asks for the current one and goes on where it was', async () => {
    const gone = cutA[2]; // the last segment: bytes of the first two were already streamed
    await blobs.delete(gone.hash);
    let asked = 0;
    const relayout = async () => {
      asked++;
      return { segments: cutB, size: raw.length };
    };
    assert.deepEqual(await collect(streamSegments(blobs, cutA, raw.length, 10, raw.length - 3, relayout)), raw.subarray(10, raw.length - 3));
    assert.equal(asked, 1);
    await assert.rejects(collect(streamSegments(blobs, cutA, raw.length)), (e: unknown) => isStoreError(e) && e.code === 'notfound', 'without relayout a missing blob fails');
  });

  it('when the current layout fails too (the content is gone), the stream fails with its error', async () => {
    await blobs.delete(cutA[0].hash);
    const relayout = async () => {
      throw Object.assign(new Error('content gone'), { marker: true });
    };
    await assert.rejects(collect(streamSegments(blobs, cutA, raw.length, 0, raw.length, relayout)), (e: unknown) => (e as { marker?: boolean }).marker === true);
  });
});
