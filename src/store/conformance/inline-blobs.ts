/**
 * Conformance of small blobs kept inside the database (store/blob/inline.ts): a segment
 * that carries its bytes is stored with its content, read back byte for byte (whole and
 * by range, also next to file blobs), shared between contents, dropped with the last
 * reference (expunge, purge of Recently Deleted), counted by `usage` at its stored size,
 * and refused when its bytes do not match its name. Every backend runs it (called from
 * storeConformanceSuite).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { isStoreError } from '../errors.js';
import { encodeInline } from '../blob/inline.js';
import { minimalIndex, readAll, sha, type StoreHarness } from './kit.js';
import type { Id, Mailbox, NewContent, Segment, Store, Uid, User } from '../types.js';

const IMAP = { protocol: 'imap', actor: 'alice@example.test' };

/** A piece kept inline (its bytes travel with the content), or written as a blob file first. */
type Piece = { bytes: Buffer; inline: boolean };

async function content(store: Store, pieces: Piece[], searchText = ''): Promise<NewContent> {
  const raw = Buffer.concat(pieces.map((p) => p.bytes));
  const segments: Segment[] = [];
  for (const p of pieces) {
    if (!p.inline) await store.blobs.put(sha(p.bytes), Readable.from([p.bytes]));
    segments.push({ hash: sha(p.bytes), size: p.bytes.length, ...(p.inline ? { bytes: Buffer.from(p.bytes) } : {}) });
  }
  return { id: sha(raw), size: raw.length, segments, index: minimalIndex(raw), searchText };
}

const text = (n: number, lines = 30): Buffer =>
  Buffer.from(`Subject: inline ${n}\r\nMessage-ID: <inline-${n}@example.test>\r\n\r\n${'The quick brown fox jumps over the lazy dog.\r\n'.repeat(lines)}`);

export function inlineBlobsConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (small blobs in the database): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let alice: User;
    let inbox: Mailbox;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.addDomain('example.test');
      alice = await store.addUser('alice@example.test', 'hash-a', []);
      inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
    });
    afterEach(async () => {
      await h.close();
    });

    const append = async (c: NewContent, mailboxId: Id = inbox.id) => (await store.appendMessage({ mailboxId, content: c })).row;
    const bytesOf = async (id: string, start?: number, end?: number) => readAll(await store.openContent(id, start, end));

    it('stores a one-segment message inline: no blob file, the same bytes whole and by range, index and search text back', async () => {
      const raw = text(1);
      const c = await content(store, [{ bytes: raw, inline: true }], 'Subject: inline 1\n\nthe quick brown fox');
      await append(c);
      assert.equal(await store.blobs.has(c.id), false, 'kept in the database, not as a file');
      assert.deepEqual(await bytesOf(c.id), raw);
      for (const [a, b] of [[0, 1], [5, 40], [raw.length - 3, raw.length], [100, 100], [0, raw.length + 50]]) {
        assert.deepEqual(await bytesOf(c.id, a, b), raw.subarray(a, b), `range [${a}, ${b})`);
      }
      const meta = (await store.getContent(c.id))!;
      assert.deepEqual(meta.index, c.index);
      assert.equal(meta.searchText, c.searchText);
      assert.deepEqual(await store.searchText(inbox.id, 'text', 'BROWN FOX'), [1 as Uid]);
      assert.deepEqual(await store.searchText(inbox.id, 'text', 'red fox'), []);
    });

    it('compresses text and keeps incompressible bytes (binary, NULs, encrypted-looking) as they are; usage counts what they take', async () => {
      const plain = text(2, 200);
      const armored = Buffer.from(`-----BEGIN PGP MESSAGE-----\r\n\r\n${randomBytes(3000).toString('base64').replace(/.{64}/g, '$&\r\n')}\r\n-----END PGP MESSAGE-----\r\n`);
      const binary = Buffer.concat([randomBytes(2000), Buffer.alloc(10), randomBytes(100)]);
      for (const raw of [plain, armored, binary]) {
        const c = await content(store, [{ bytes: raw, inline: true }]);
        await append(c);
        assert.deepEqual(await bytesOf(c.id), raw);
        assert.deepEqual(await bytesOf(c.id, 7, raw.length - 7), raw.subarray(7, raw.length - 7));
      }
      const u = await store.usage(alice.id);
      const logical = plain.length + armored.length + binary.length;
      assert.equal(u.logicalBytes, logical);
      assert.equal(u.uniqueBytes, logical);
      assert.ok(u.storedBytes < logical - plain.length / 2, `text compressed: stored ${u.storedBytes} of ${logical}`);
      assert.ok(u.storedBytes > binary.length + armored.length / 2, `random bytes are not: stored ${u.storedBytes}`);
    });

    it('mixes inline pieces with a blob file in one content, read across their edges', async () => {
      const head = text(3, 2);
      const big = randomBytes(70_000);
      const tail = Buffer.from('\r\n--B--\r\n');
      const c = await content(store, [{ bytes: head, inline: true }, { bytes: big, inline: false }, { bytes: tail, inline: true }]);
      await append(c);
      const raw = Buffer.concat([head, big, tail]);
      assert.deepEqual(await bytesOf(c.id), raw);
      for (const [a, b] of [[head.length - 5, head.length + 5], [raw.length - tail.length - 2, raw.length - 1], [3, raw.length]]) {
        assert.deepEqual(await bytesOf(c.id, a, b), raw.subarray(a, b), `range [${a}, ${b})`);
      }
      assert.equal(await store.blobs.has(sha(big)), true, 'the large piece is a file');
      assert.equal(await store.blobs.has(sha(head)), false, 'the small ones are not');
    });

    it('shares an inline blob between contents and drops it with the last reference', async () => {
      const shared = text(4, 5);
      const a = await content(store, [{ bytes: Buffer.from('A: 1\r\n'), inline: true }, { bytes: shared, inline: true }]);
      const b = await content(store, [{ bytes: Buffer.from('B: 2\r\n'), inline: true }, { bytes: shared, inline: true }]);
      const ra = await append(a);
      const rb = await append(b);
      const stats = await store.stats();
      assert.equal(stats.blobs, 3, 'the shared piece is stored once');
      assert.equal(stats.blobBytes, 6 + 6 + shared.length);
      await store.expunge(inbox.id, [ra.uid]);
      assert.deepEqual(await bytesOf(b.id), Buffer.concat([Buffer.from('B: 2\r\n'), shared]), 'still read through b');
      assert.equal((await store.stats()).blobs, 2);
      await store.expunge(inbox.id, [rb.uid]);
      assert.deepEqual(await store.stats(), { logicalBytes: 0, blobBytes: 0, contents: 0, blobs: 0, messages: 0 });
      // Stored again after being dropped: a new row with its bytes.
      await append(b);
      assert.deepEqual(await bytesOf(b.id), Buffer.concat([Buffer.from('B: 2\r\n'), shared]));
    });

    it('a blob stored as a file (before schema 20) that is taken again with its bytes moves into the database', async () => {
      const piece = text(5, 3);
      const asFile = await content(store, [{ bytes: Buffer.from('X: 1\r\n'), inline: false }, { bytes: piece, inline: false }]);
      const asInline = await content(store, [{ bytes: Buffer.from('Y: 1\r\n'), inline: true }, { bytes: piece, inline: true }]);
      const whole = await content(store, [{ bytes: piece, inline: false }], 'the quick brown fox');
      const r1 = await append(asFile);
      assert.equal(await store.blobs.has(sha(piece)), true);
      await append(asInline);
      assert.equal((await store.stats()).blobs, 3, 'one row for the shared piece');
      assert.equal(await store.blobs.has(sha(piece)), false, 'its file went: the bytes are in the database now');
      assert.deepEqual(await bytesOf(asFile.id), Buffer.concat([Buffer.from('X: 1\r\n'), piece]), 'the older content reads them there');
      await store.expunge(inbox.id, [r1.uid]);
      assert.deepEqual(await bytesOf(asInline.id), Buffer.concat([Buffer.from('Y: 1\r\n'), piece]));
      // The whole message is that blob: a content made with its bytes later reads its search text against them.
      const inlineWhole: NewContent = { ...whole, segments: [{ ...whole.segments[0], bytes: Buffer.from(piece) }] };
      await append(inlineWhole);
      assert.equal((await store.getContent(whole.id))!.searchText, 'the quick brown fox');
      assert.equal((await store.searchText(inbox.id, 'text', 'QUICK BROWN')).length, 1);
    });

    it('keeps inline blobs while a message sits in Recently Deleted and drops them on purge', async () => {
      await store.setRetention({ keepDeleted: true, countQuota: false, mailboxName: 'Recently Deleted' });
      const c = await content(store, [{ bytes: text(6), inline: true }]);
      const row = await append(c);
      await store.expunge(inbox.id, [row.uid], IMAP);
      assert.deepEqual(await bytesOf(c.id), text(6), 'kept with the deleted message');
      assert.equal(await store.purgeDeleted(new Date(Date.now() + 60_000)), 1);
      assert.equal((await store.stats()).blobs, 0);
      await assert.rejects(store.openContent(c.id), (e) => isStoreError(e) && e.code === 'notfound');
    });

    it('takes the data column the ingest encoded (plain or compressed) and refuses one that does not give back the bytes', async () => {
      for (const raw of [text(8, 100), randomBytes(900)]) {
        const c = await content(store, [{ bytes: raw, inline: true }]);
        const encoded = encodeInline(raw);
        await append({ ...c, segments: [{ ...c.segments[0], encoded }] });
        assert.deepEqual(await bytesOf(c.id), raw);
        assert.deepEqual(await bytesOf(c.id, 3, 50), raw.subarray(3, 50));
      }
      const raw = text(9, 100);
      const c = await content(store, [{ bytes: raw, inline: true }]);
      const other = encodeInline(text(10, 100));
      const damaged = Buffer.from(encodeInline(raw));
      damaged[damaged.length >> 1] ^= 0xff;
      for (const encoded of [other, damaged, Buffer.of(7, 1, 2, 3)]) {
        await assert.rejects(append({ ...c, segments: [{ ...c.segments[0], encoded }] }), (e) => isStoreError(e) && e.code === 'invalid');
      }
      assert.equal(await store.hasContent(c.id), false, 'nothing stored');
    });

    it('refuses inline bytes that do not match their name or size', async () => {
      const raw = text(7);
      const c = await content(store, [{ bytes: raw, inline: true }]);
      const wrongBytes: NewContent = { ...c, segments: [{ ...c.segments[0], bytes: Buffer.from(raw).fill(0x41, 0, 1) }] };
      await assert.rejects(append(wrongBytes), (e) => isStoreError(e) && e.code === 'invalid');
      const tooLong: NewContent = { ...c, segments: [{ ...c.segments[0], bytes: Buffer.concat([raw, Buffer.from('x')]) }] };
      await assert.rejects(append(tooLong), (e) => isStoreError(e) && e.code === 'invalid');
      assert.equal((await store.stats()).blobs, 0, 'nothing stored');
    });
  });
}
