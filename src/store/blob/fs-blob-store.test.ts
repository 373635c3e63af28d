import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FsBlobStore, SMALL_READ, sha256Hex } from './fs-blob-store.js';
import { isStoreError } from '../errors.js';
import { Readable } from 'node:stream';

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('FsBlobStore', () => {
  let dir: string;
  let blobs: FsBlobStore;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-blob-'));
    blobs = new FsBlobStore(path.join(dir, 'blobs'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stores under ab/cd/<hash> and reads back identical bytes', async () => {
    const data = randomBytes(200_000);
    const hash = sha256Hex(data);
    await blobs.put(hash, Readable.from([data]));
    const file = path.join(dir, 'blobs', hash.slice(0, 2), hash.slice(2, 4), hash);
    assert.deepEqual(fs.readFileSync(file), data);
    assert.equal(await blobs.has(hash), true);
    assert.equal(blobs.hasSync(hash), true);
    assert.deepEqual(await collect(blobs.read(hash)), data);
  });

  it('put is idempotent and leaves no temp files', async () => {
    const data = Buffer.from('same bytes twice');
    const hash = sha256Hex(data);
    await Promise.all([blobs.put(hash, Readable.from([data])), blobs.put(hash, Readable.from([data])), blobs.put(hash, Readable.from([data]))]);
    const folder = path.dirname(blobs.pathOf(hash));
    assert.deepEqual(fs.readdirSync(folder), [hash]);
  });

  it('rejects bytes that do not match the name, and writes nothing', async () => {
    const hash = sha256Hex(Buffer.from('a'));
    await assert.rejects(blobs.put(hash, Readable.from([Buffer.from('b')])), (e) => isStoreError(e, 'invalid'));
    assert.equal(await blobs.has(hash), false);
  });

  it('rejects names that are not sha256 hex (no path traversal)', async () => {
    for (const bad of ['../../etc/passwd', 'ABCDEF', '', 'g'.repeat(64), 'A'.repeat(64)]) {
      await assert.rejects(blobs.put(bad, Readable.from([Buffer.from('x')])), (e) => isStoreError(e, 'invalid'), bad);
      assert.throws(() => blobs.read(bad), (e) => isStoreError(e, 'invalid'));
    }
  });

  it('reads byte ranges [start, end)', async () => {
    const data = randomBytes(70_000);
    const hash = sha256Hex(data);
    await blobs.put(hash, Readable.from([data]));
    const ranges: [number, number | undefined][] = [
      [0, 1], [0, 70_000], [1, 69_999], [65_535, 65_537], [69_999, undefined], [5, 5], [70_000, 70_000], [12_345, undefined],
    ];
    for (const [s, e] of ranges) {
      assert.deepEqual(await collect(blobs.read(hash, s, e)), data.subarray(s, e), `range ${s}-${e}`);
    }
  });

  it('ranges on both sides of the one-read size read back exactly', async () => {
    const data = randomBytes(SMALL_READ * 2 + 17);
    const hash = sha256Hex(data);
    await blobs.put(hash, Readable.from([data]));
    const ranges: [number, number][] = [
      [0, SMALL_READ], [0, SMALL_READ + 1], [1, SMALL_READ + 1], [SMALL_READ - 3, SMALL_READ * 2 + 17], [SMALL_READ * 2, SMALL_READ * 2 + 17],
    ];
    for (const [s, e] of ranges) {
      assert.deepEqual(await collect(blobs.read(hash, s, e)), data.subarray(s, e), `range ${s}-${e}`);
    }
  });

  it('a small range past the end of a (damaged) blob file is an error, not fewer bytes', async () => {
    const data = Buffer.from('short blob');
    await blobs.put(sha256Hex(data), Readable.from([data]));
    await assert.rejects(collect(blobs.read(sha256Hex(data), 0, data.length + 5)), (e) => isStoreError(e, 'unavailable'));
    const missing = sha256Hex(Buffer.from('never written either'));
    await assert.rejects(collect(blobs.read(missing, 0, 10)), (e) => isStoreError(e, 'notfound'));
  });

  it('a missing blob reads as a notfound stream error; delete ignores missing files', async () => {
    const hash = sha256Hex(Buffer.from('never written'));
    await assert.rejects(collect(blobs.read(hash)), (e) => isStoreError(e, 'notfound'));
    await blobs.delete(hash);
    const data = Buffer.from('to delete');
    await blobs.put(sha256Hex(data), Readable.from([data]));
    await blobs.delete(sha256Hex(data));
    assert.equal(await blobs.has(sha256Hex(data)), false);
  });
});
