import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { FsBlobStore } from './fs-blob-store.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'blob-br-'));

async function all(r: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function csv(bytes: number): Buffer {
  let s = 'date,amount,customer\r\n';
  let k = 1;
  while (s.length < bytes) {
    k = (k * 1103515245 + 12345) & 0x7fffffff;
    s += `2026-01-${10 + (k % 18)},${(k % 100000) / 100},Customer ${k % 5000}\r\n`;
  }
  return Buffer.from(s);
}

test('a large text blob is kept compressed and read back exactly, whole and in any range', async () => {
  const store = new FsBlobStore(dir());
  const data = csv(3 * 1024 * 1024);
  const hash = sha(data);
  await store.put(hash, Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
  assert.equal(fs.existsSync(store.pathOf(hash)), false);
  assert.ok(fs.existsSync(store.compressedPathOf(hash)));
  assert.equal(store.sizeSync(hash), data.length);
  assert.ok(store.storedSizeSync(hash)! < data.length / 4, `stored ${store.storedSizeSync(hash)}`);
  assert.ok(await store.has(hash));
  assert.ok((await all(store.read(hash))).equals(data));
  await fc.assert(
    fc.asyncProperty(fc.nat(data.length), fc.nat(data.length), async (a, b) => {
      const [s, e] = a <= b ? [a, b] : [b, a];
      assert.ok((await all(store.read(hash, s, e))).equals(data.subarray(s, e)));
    }),
    { numRuns: 25 },
  );
  await store.put(hash, Readable.from([data])); // already there: no second copy
  store.deleteSync(hash);
  assert.equal(store.sizeSync(hash), null);
  await assert.rejects(all(store.read(hash, 0, 10)), /cannot read blob/);
});

test('a whole spool file that compresses is compressed, not linked; random bytes and small blobs stay plain', async () => {
  const d = dir();
  const store = new FsBlobStore(path.join(d, 'blobs'));
  const text = csv(200_000);
  const spool = path.join(d, 'spool');
  fs.writeFileSync(spool, text);
  await store.put(sha(text), { path: spool, start: 0, end: text.length });
  assert.ok(fs.existsSync(store.compressedPathOf(sha(text))));
  const part = text.subarray(5000, 150_000);
  await store.put(sha(part), { path: spool, start: 5000, end: 150_000 });
  assert.ok((await all(store.read(sha(part), 7, 100_007))).equals(part.subarray(7, 100_007)));

  const noise = randomBytes(100_000);
  await store.put(sha(noise), Readable.from([noise]));
  assert.ok(fs.existsSync(store.pathOf(sha(noise))), 'incompressible: plain file');
  // Base64 of incompressible bytes (a photo, a PDF) shrinks only to ~76 %: not worth a decompression per read.
  const b64noise = Buffer.from(randomBytes(75_000).toString('base64').replace(/.{76}/g, '$&\r\n'));
  await store.put(sha(b64noise), Readable.from([b64noise]));
  assert.ok(fs.existsSync(store.pathOf(sha(b64noise))), 'base64 of noise: plain file');
  const b64text = Buffer.from(csv(150_000).toString('base64').replace(/.{76}/g, '$&\r\n'));
  await store.put(sha(b64text), Readable.from([b64text]));
  assert.ok(fs.existsSync(store.compressedPathOf(sha(b64text))), 'base64 of text (a CSV attachment): compressed');
  const small = csv(10_000);
  await store.put(sha(small), Readable.from([small]));
  assert.ok(fs.existsSync(store.pathOf(sha(small))), 'small: plain file');
  await assert.rejects(store.put(sha(small).replace(/^./, (c) => (c === 'a' ? 'b' : 'a')), Readable.from([csv(50_000)])), /do not hash/);
});
