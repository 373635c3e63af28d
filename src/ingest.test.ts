import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ingest, segmentRanges } from './ingest.js';
import { LocalChangeBus } from './store/bus.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { NewContent, Store } from './store/types.js';
import { MessageSource } from './mail/message-source.js';
import { WorkerStore } from './store/worker/proxy.js';
import { decodeInline, INLINE_MAX } from './store/blob/inline.js';

describe('segmentRanges', () => {
  const rows: [number, { start: number; end: number }[], [number, number][]][] = [
    [0, [], [[0, 0]]],
    [10, [], [[0, 10]]],
    [10, [{ start: 2, end: 5 }], [[0, 2], [2, 5], [5, 10]]],
    [10, [{ start: 0, end: 10 }], [[0, 10]]],
    [10, [{ start: 5, end: 8 }, { start: 1, end: 3 }], [[0, 1], [1, 3], [3, 5], [5, 8], [8, 10]]],
    [10, [{ start: 1, end: 6 }, { start: 4, end: 8 }], [[0, 1], [1, 6], [6, 10]]], // overlap stays inline
    [10, [{ start: 4, end: 12 }], [[0, 10]]], // out of range stays inline
  ];
  for (const [size, large, want] of rows) it(`${size} ${JSON.stringify(large)}`, () => assert.deepEqual(segmentRanges(size, large), want));

  it('always tiles [0, size) exactly', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.array(fc.tuple(fc.nat(6000), fc.nat(6000)), { maxLength: 8 }), (size, pairs) => {
        const ranges = segmentRanges(size, pairs.map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) })));
        let pos = 0;
        for (const [s, e] of ranges) {
          assert.equal(s, pos);
          assert.ok(e >= s);
          pos = e;
        }
        assert.equal(pos, size);
      }),
    );
  });
});

describe('ingest into a store', () => {
  const big = (seed: string) => Buffer.from(seed.repeat(3000)).toString('base64').replace(/.{76}/g, '$&\r\n');
  const mime = (parts: string[]) =>
    Buffer.from(
      'From: a@example.test\r\nTo: b@example.test\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n' +
        parts.map((p) => `--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${p}\r\n`).join('') +
        '--B--\r\n',
    );

  it('segments (written concurrently) are durable blobs that hash to their names and concatenate to the input; one segment reuses the content id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingest-'));
    let store = new SqliteStore({ file: join(dir, 'db.sqlite'), blobDir: join(dir, 'blobs'), bus: new LocalChangeBus() });
    await store.migrate();
    const opts = { spoolDir: join(dir, 'spool'), largePartThreshold: 4096 };
    // Large bodies cut out; a small message (kept in the database); one above INLINE_MAX without large bodies (a file, linked from a spool).
    const plainBig = Buffer.from(`Subject: plain\r\n\r\n${randomBytes(30_000).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`);
    for (const raw of [mime([big('one'), big('two'), big('one'), big('three'), big('four')]), Buffer.from('Subject: small\r\n\r\nhi\r\n'), plainBig]) {
      const spooled = () => MessageSource.fromStream(Readable.from([raw.subarray(0, 100), raw.subarray(100)]), opts.spoolDir, { memoryLimit: 0 });
      const sources: [string, () => Promise<MessageSource>][] = [
        ['memory', async () => MessageSource.fromBuffer(raw)],
        ['spool file', spooled],
        // A view: trace fields in front of a spool, as SMTP hands it to delivery.
        ['prefix + spool file', async () => (base = await MessageSource.fromStream(Readable.from([raw.subarray(10)]), opts.spoolDir, { memoryLimit: 0 })).prepend(raw.subarray(0, 10))],
      ];
      let base: MessageSource | undefined; // a view disposes nothing: its base does
      for (const [name, make] of sources) {
        await rm(join(dir, 'blobs'), { recursive: true, force: true }); // every source writes its blobs afresh
        await store.close();
        await rm(join(dir, 'db.sqlite'), { force: true });
        store = new SqliteStore({ file: join(dir, 'db.sqlite'), blobDir: join(dir, 'blobs'), bus: new LocalChangeBus() });
        await store.migrate();
        const source = await make();
        const got = await ingest(store, source, raw === plainBig ? { ...opts, largePartThreshold: 1 << 20 } : opts); // plainBig: no large body
        const content = got.content as NewContent;
        assert.equal(content.id, createHash('sha256').update(raw).digest('hex'), name);
        const pieces: Buffer[] = [];
        for (const seg of content.segments) {
          const chunks: Buffer[] = [];
          // A small segment travels with the content (stored in the database), a large one is a blob file.
          assert.equal(seg.bytes !== undefined, seg.size <= INLINE_MAX, `${name}: inline exactly when small`);
          assert.equal(await store.blobs.has(seg.hash), seg.bytes === undefined, `${name}: a file exactly when not inline`);
          if (seg.bytes) chunks.push(Buffer.from(seg.bytes));
          else for await (const c of store.blobs.read(seg.hash)) chunks.push(c as Buffer);
          const bytes = Buffer.concat(chunks);
          assert.equal(createHash('sha256').update(bytes).digest('hex'), seg.hash);
          assert.equal(bytes.length, seg.size);
          pieces.push(bytes);
        }
        assert.deepEqual(Buffer.concat(pieces), raw);
        const shape = content.segments.map((g) => ({ hash: g.hash, size: g.size }));
        const single = raw.length < 1000 || raw === plainBig;
        if (single && name !== 'prefix + spool file') assert.deepEqual(shape, [{ hash: content.id, size: raw.length }]);
        else if (single) assert.deepEqual(shape.map((s) => s.size), [10, raw.length - 10], 'cut where the spool file starts');
        else assert.ok(content.segments.length >= 9, `large bodies cut out: ${content.segments.length}`);
        if (raw === plainBig && name !== 'memory') {
          // The segment that is the whole spool file was linked, not copied: one inode, two names.
          const last = content.segments[content.segments.length - 1];
          assert.equal((await stat(store.blobs.pathOf(last.hash))).nlink, 2, `${name}: spool linked as the blob`);
        }
        await source.dispose();
        await base?.dispose();
        assert.deepEqual(await readdir(opts.spoolDir).catch(() => []), [], `${name}: no spool file left`);
      }
    }
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('compresses inline blobs for a store that asks it to, and leaves them to the SQLite worker, which stores the same message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingest-'));
    const opts = { spoolDir: join(dir, 'spool'), largePartThreshold: 4096 };
    const raw = Buffer.from(`Subject: small\r\n\r\n${'The quick brown fox jumps over the lazy dog.\r\n'.repeat(60)}`);
    const inThread = new SqliteStore({ file: join(dir, 'a.sqlite'), blobDir: join(dir, 'blobs-a'), bus: new LocalChangeBus() });
    const worker = await WorkerStore.open({ file: join(dir, 'b.sqlite'), blobDir: join(dir, 'blobs-b'), bus: new LocalChangeBus(), changePollMs: 0 });
    try {
      assert.equal((inThread as Store).inlineEncoding, undefined, 'the default: the caller compresses');
      assert.equal(worker.inlineEncoding, 'store');
      for (const store of [inThread, worker]) {
        await store.migrate();
        const got = await ingest(store, MessageSource.fromBuffer(raw), opts);
        const [seg] = (got.content as NewContent).segments;
        assert.ok(seg.bytes, 'kept inline');
        if (store === worker) assert.equal(seg.encoded, undefined, 'left to the worker');
        else assert.deepEqual(decodeInline(seg.encoded!, seg.hash), raw, 'compressed by the ingest');
        await store.addDomain('example.test');
        const user = await store.addUser('u@example.test', 'hash', []);
        const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
        await store.appendMessage({ mailboxId: inbox.id, content: got.content });
        const chunks: Buffer[] = [];
        for await (const c of await store.openContent(got.content.id)) chunks.push(c as Buffer);
        assert.deepEqual(Buffer.concat(chunks), raw);
      }
    } finally {
      await inThread.close();
      await worker.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
