/**
 * Conformance of the SORT/THREAD keys (Store.sortKeys, store/core/sort-keys.ts): kept per
 * content at delivery from its index and header lines, shared by copies and by a second
 * delivery of the same bytes, read per mailbox in UID order from a given UID.
 * Every backend runs it (called from storeConformanceSuite).
 *
 * Never imports: a backend, protocol code, src/mail.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { isStoreError } from '../errors.js';
import { minimalIndex, sha, type StoreHarness } from './kit.js';
import type { Mailbox, NewContent, Store, Uid, User } from '../types.js';

interface Headers {
  subject?: string;
  messageId?: string;
  inReplyTo?: string;
  references?: string;
  sentDate?: number;
}

/** A content whose index and search text say what a delivered message with these headers would. */
async function contentWith(store: Store, n: number, h: Headers): Promise<NewContent> {
  const raw = Buffer.from(`X-N: ${n}\r\n\r\nbody ${n}\r\n`);
  await store.blobs.put(sha(raw), Readable.from([raw]));
  const index = minimalIndex(raw);
  index.envelope.subject = h.subject ?? null;
  index.envelope.messageId = h.messageId ?? null;
  index.envelope.inReplyTo = h.inReplyTo ?? null;
  index.sentDate = h.sentDate ?? null;
  const lines = [`X-N: ${n}`, ...(h.references === undefined ? [] : [`References: ${h.references}`])];
  return { id: sha(raw), size: raw.length, segments: [{ hash: sha(raw), size: raw.length }], index, searchText: `${lines.join('\n')}\n\nbody ${n}` };
}

export function sortKeysConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (SORT/THREAD keys): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let ann: User;
    let inbox: Mailbox;
    let archive: Mailbox;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.addDomain('example.test');
      ann = await store.addUser('ann@example.test', 'hash-a', [{ name: 'INBOX', specialUse: null }, { name: 'Archive', specialUse: '\\Archive' }]);
      inbox = (await store.getMailbox(ann.id, 'INBOX'))!;
      archive = (await store.getMailbox(ann.id, 'Archive'))!;
    });
    afterEach(async () => {
      await h.close();
    });

    const put = async (mailboxId: number, n: number, headers: Headers, internal = 1_700_000_000_000 + n * 1000) =>
      (await store.appendMessage({ mailboxId, content: await contentWith(store, n, headers), internalDate: new Date(internal) })).row.uid;

    it('kept at delivery: sent date, subject as the header has it, msg-id, References as the parent chain, else In-Reply-To', async () => {
      await put(inbox.id, 1, { subject: '=?utf-8?q?caf=C3=A9?= talk', messageId: ' <1@x> junk', sentDate: 1_600_000_000_000 });
      await put(inbox.id, 2, { subject: 'Re: talk', messageId: '<2@x>', inReplyTo: '<9@x>', references: '<1@x>  <0@x> <no-at> <<y@x>' });
      await put(inbox.id, 3, { messageId: 'none', inReplyTo: '<1@x> <2@x>' }, 5_000);
      const k = await store.sortKeys(inbox.id, 1 as Uid, true);
      assert.deepEqual(Array.from(k.uids), [1, 2, 3]);
      assert.deepEqual(Array.from(k.sentDates), [1_600_000_000_000, NaN, NaN]);
      assert.deepEqual(Array.from(k.internalDates), [1_700_000_001_000, 1_700_000_002_000, 5_000]);
      assert.deepEqual(Array.from(k.sizes), [18, 18, 18]);
      assert.deepEqual(k.thread, [
        { subject: '=?utf-8?q?caf=C3=A9?= talk', messageId: '1@x', parents: [] },
        { subject: 'Re: talk', messageId: '2@x', parents: ['1@x', '0@x'] },
        { subject: '', messageId: null, parents: ['1@x'] },
      ]);
    });

    it('from a UID on, thread ids only when asked; an unknown mailbox is notfound', async () => {
      for (const n of [1, 2, 3]) await put(inbox.id, n, { subject: `s${n}`, messageId: `<${n}@x>` });
      const k = await store.sortKeys(inbox.id, 2 as Uid, false);
      assert.deepEqual(Array.from(k.uids), [2, 3]);
      assert.equal(k.thread, undefined);
      assert.equal((await store.sortKeys(inbox.id, 4 as Uid, true)).uids.length, 0);
      await assert.rejects(store.sortKeys(987654, 1 as Uid, true), (e) => isStoreError(e) && e.code === 'notfound');
    });

    it('shared by a copy and by the same bytes delivered again; gone rows are not listed', async () => {
      const headers = { subject: 'Fwd: x', messageId: '<a@x>', references: '<r@x>', sentDate: 42_000 };
      await put(inbox.id, 1, headers);
      await put(inbox.id, 1, headers); // same bytes: the content is shared
      await store.copyMessages(inbox.id, [1 as Uid], archive.id);
      await store.expunge(inbox.id, [1 as Uid]);
      const want = { subject: 'Fwd: x', messageId: 'a@x', parents: ['r@x'] };
      const a = await store.sortKeys(inbox.id, 1 as Uid, true);
      assert.deepEqual([Array.from(a.uids), Array.from(a.sentDates), a.thread], [[2], [42_000], [want]]);
      const b = await store.sortKeys(archive.id, 1 as Uid, true);
      assert.deepEqual([Array.from(b.uids), Array.from(b.sentDates), b.thread], [[1], [42_000], [want]]);
    });
  });
}
