/**
 * The store conformance suite: every backend (SQLite, PostgreSQL) registers it
 * with its own `open` and must pass it unchanged. It speaks only the contract in
 * types.ts. Longer than the usual file limit because it is one table of behaviours that
 * reads best in one place.
 *
 * Never imports: a backend, protocol code, the MIME indexer (contents are built by
 * ./conformance/kit.ts with a hand-made minimal index). The queue part is
 * ./conformance/queue.ts; both use the kit, so nothing imports in a cycle.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent } from './bus.js';
import { isStoreError, type StoreErrorCode } from './errors.js';
import { makeContent, minimalIndex, rawMessage, readAll, sha, splitAt, type StoreHarness } from './conformance/kit.js';
import { queueConformanceSuite } from './conformance/queue.js';
import { textSearchConformanceSuite } from './conformance/text-search.js';
import { deletedConformanceSuite } from './conformance/deleted.js';
import { peopleConformanceSuite } from './conformance/people.js';
import { loginEventsConformanceSuite } from './conformance/login-events.js';
import { countsConformanceSuite } from './conformance/counts.js';
import { vacationConformanceSuite } from './conformance/vacation.js';
import { aclConformanceSuite } from './conformance/acl.js';
import { metadataConformanceSuite } from './conformance/metadata.js';
import { urlAuthKeysConformanceSuite } from './conformance/urlauth-keys.js';
import { sortKeysConformanceSuite } from './conformance/sort-keys.js';
import { inlineBlobsConformanceSuite } from './conformance/inline-blobs.js';
import type { Id, Mailbox, NewContent, Store, Uid, User } from './types.js';
import { Readable } from 'node:stream';

export { makeContent, minimalIndex, rawMessage, readAll, splitAt, type StoreHarness } from './conformance/kit.js';

async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode, what = ''): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isStoreError(e), `${what}: expected StoreError, got ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    return true;
  });
}

const uids = (...n: number[]): Uid[] => n as Uid[];

/** Registers the suite. `open` must give a fresh, empty, migrated store each time. */
export function storeConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance: ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let alice: User;
    let inbox: Mailbox;
    let archive: Mailbox;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.addDomain('example.test');
      alice = await store.addUser('Alice@Example.TEST', 'hash-a', [{ name: 'Archive', specialUse: '\\Archive' }]);
      inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
      archive = (await store.getMailbox(alice.id, 'Archive'))!;
    });
    afterEach(async () => {
      await h.close();
    });

    async function append(mailboxId: Id, n: number | string, opts: { flags?: string[]; threadKeys?: string[]; body?: string } = {}) {
      const content = await makeContent(store, [rawMessage(n, opts.body)]);
      return store.appendMessage({ mailboxId, content, flags: opts.flags, threadKeys: opts.threadKeys });
    }

    /** Quota usage, mailbox counters and rows agree. */
    async function assertExact(user: User): Promise<void> {
      const q = await store.getQuota(user.id);
      let bytes = 0;
      let count = 0;
      for (const box of await store.listMailboxes(user.id)) {
        const rows = await store.listMessages(box.id, user.id);
        const size = rows.reduce((s, r) => s + r.size, 0);
        assert.equal(box.messageCount, rows.length, `messageCount of ${box.name}`);
        assert.equal(box.totalSize, size, `totalSize of ${box.name}`);
        bytes += size;
        count += rows.length;
      }
      assert.equal(q.usedBytes, bytes, 'usedBytes');
      assert.equal(q.usedMessages, count, 'usedMessages');
    }

    describe('schema', () => {
      it('is migrated, and migrate() again is a no-op', async () => {
        const v = await store.schemaVersion();
        assert.ok(v >= 1);
        await store.migrate();
        assert.equal(await store.schemaVersion(), v);
        assert.equal((await store.listUsers()).length, 1);
      });
    });

    describe('domains', () => {
      it('adds, finds case-insensitively, lists sorted, refuses duplicates', async () => {
        const d = await store.addDomain('Other.TEST');
        assert.equal(d.name, 'other.test');
        assert.deepEqual(await store.getDomain('OTHER.test'), d);
        assert.equal(await store.getDomain('none.test'), null);
        assert.deepEqual((await store.listDomains()).map((x) => x.name), ['example.test', 'other.test']);
        await rejectsWith(store.addDomain('other.test'), 'exists');
      });

      it('deleteDomain: conflict while users or aliases exist, notfound when absent', async () => {
        await rejectsWith(store.deleteDomain('example.test'), 'conflict', 'users');
        await store.addDomain('alias.test');
        await store.addAlias('@alias.test', 'alice@example.test');
        await rejectsWith(store.deleteDomain('alias.test'), 'conflict', 'aliases');
        await store.deleteAlias('@alias.test');
        await store.deleteDomain('alias.test');
        assert.equal(await store.getDomain('alias.test'), null);
        await rejectsWith(store.deleteDomain('alias.test'), 'notfound');
      });
    });

    describe('users', () => {
      it('addUser creates INBOX first and the given mailboxes; lookups are case-insensitive', async () => {
        assert.equal(alice.address, 'Alice@example.test');
        assert.deepEqual((await store.getUser('alice@EXAMPLE.test'))?.id, alice.id);
        assert.deepEqual((await store.getUserById(alice.id))?.address, alice.address);
        assert.equal(await store.getUser('bob@example.test'), null);
        assert.equal(await store.getUserById(999_999), null);
        const boxes = await store.listMailboxes(alice.id);
        assert.deepEqual(boxes.map((b) => [b.name, b.specialUse]).sort(), [['Archive', '\\Archive'], ['INBOX', null]]);
        assert.ok(inbox.id < archive.id, 'INBOX is created first');
        assert.deepEqual(alice.quota, { bytes: null, messages: null });
        assert.deepEqual(alice.settings, {});
      });

      it('listUsers filters by domain', async () => {
        await store.addDomain('other.test');
        await store.addUser('bob@other.test', 'h', []);
        assert.deepEqual((await store.listUsers()).map((u) => u.address), ['Alice@example.test', 'bob@other.test']);
        assert.deepEqual((await store.listUsers('other.test')).map((u) => u.address), ['bob@other.test']);
        assert.deepEqual(await store.listUsers('none.test'), []);
      });

      it('SCRAM keys: none at first, set with a password, added only while the hash is unchanged, cleared by a new password', async () => {
        assert.equal((await store.getUserById(alice.id))!.scramKeys, '');
        await store.setPassword(alice.id, 'hash-1', 'keys-1');
        assert.equal((await store.getUserById(alice.id))!.scramKeys, 'keys-1');
        await store.setPassword(alice.id, 'hash-2');
        assert.equal((await store.getUserById(alice.id))!.scramKeys, '', 'old keys never outlive their password');
        assert.equal(await store.setScramKeys(alice.id, 'hash-1', 'stale'), false, 'derived from a replaced password');
        assert.equal((await store.getUserById(alice.id))!.scramKeys, '');
        assert.equal(await store.setScramKeys(alice.id, 'hash-2', 'keys-2'), true);
        assert.equal((await store.getUser('alice@example.test'))!.scramKeys, 'keys-2');
        await assert.rejects(store.setScramKeys(999_999, 'h', 'k'), (e: Error) => isStoreError(e, 'notfound'));
      });

      it('password, quota and settings round-trip', async () => {
        await store.setPassword(alice.id, 'hash-b');
        await store.setQuota(alice.id, { bytes: 1000, messages: 5 });
        await store.setUserSetting(alice.id, 'pop3.deleteMode', 'hide');
        await store.setUserSetting(alice.id, 'x', 'y');
        await store.setUserSetting(alice.id, 'x', null);
        const u = (await store.getUserById(alice.id))!;
        assert.equal(u.passwordHash, 'hash-b');
        assert.deepEqual(u.quota, { bytes: 1000, messages: 5 });
        assert.deepEqual(u.settings, { 'pop3.deleteMode': 'hide' });
        assert.deepEqual(await store.getQuota(alice.id), { bytes: 1000, messages: 5, usedBytes: 0, usedMessages: 0 });
      });

      it('deleteUser removes mailboxes, messages, subscriptions, contents and blobs', async () => {
        const content = await makeContent(store, [rawMessage(1)]);
        await store.appendMessage({ mailboxId: inbox.id, content });
        await store.copyMessages(inbox.id, uids(1), archive.id);
        await store.setSubscribed(alice.id, 'INBOX', true);
        await store.deleteUser('ALICE@example.test');
        assert.equal(await store.getUser('alice@example.test'), null);
        assert.equal(await store.getMailboxById(inbox.id), null);
        assert.equal(await store.hasContent(content.id), false);
        const st = await store.stats();
        assert.deepEqual([st.messages, st.contents, st.blobs, st.logicalBytes, st.blobBytes], [0, 0, 0, 0, 0]);
        assert.equal(await store.blobs.has(content.segments[0].hash), false, 'blob file unlinked');
        const again = await store.addUser('alice@example.test', 'h', []);
        assert.deepEqual(await store.listSubscriptions(again.id), []);
        assert.deepEqual((await store.getQuota(again.id)).usedMessages, 0);
      });
    });

    describe('aliases', () => {
      it('add, list, targets (case-insensitive), catch-all, delete', async () => {
        await store.addAlias('Sales@example.test', 'alice@example.test');
        await store.addAlias('sales@example.test', 'bob@elsewhere.test');
        await store.addAlias('@example.test', 'alice@example.test');
        await rejectsWith(store.addAlias('SALES@example.test', 'Alice@example.test'), 'exists');
        assert.deepEqual(await store.aliasTargets('SALES@EXAMPLE.TEST'), ['alice@example.test', 'bob@elsewhere.test']);
        assert.deepEqual(await store.aliasTargets('@example.test'), ['alice@example.test']);
        assert.deepEqual(await store.aliasTargets('nobody@example.test'), []);
        assert.equal((await store.listAliases('example.test')).length, 3);
        assert.deepEqual(await store.listAliases('none.test'), []);
        assert.equal(await store.deleteAlias('sales@example.test', 'BOB@elsewhere.test'), 1);
        assert.equal(await store.deleteAlias('sales@example.test'), 1);
        assert.equal(await store.deleteAlias('sales@example.test'), 0);
        assert.deepEqual(await store.listAliases(), [{ source: '@example.test', target: 'alice@example.test' }]);
      });
    });

    describe('mailboxes', () => {
      it('create, get ("inbox" in any case), getById, list, exists', async () => {
        const m = await store.createMailbox(alice.id, 'Projects/2024', '\\Drafts');
        assert.equal(m.name, 'Projects/2024');
        assert.equal(m.specialUse, '\\Drafts');
        assert.equal(m.uidNext, 1);
        assert.equal(m.messageCount, 0);
        assert.equal((await store.getMailbox(alice.id, 'iNbOx'))?.id, inbox.id);
        assert.equal(await store.getMailbox(alice.id, 'projects/2024'), null, 'other names are case-sensitive');
        assert.deepEqual(await store.getMailboxById(m.id), m);
        assert.equal(await store.getMailboxById(999_999), null);
        assert.deepEqual((await store.listMailboxes(alice.id)).map((b) => b.name).sort(), ['Archive', 'INBOX', 'Projects/2024']);
        await rejectsWith(store.createMailbox(alice.id, 'Projects/2024'), 'exists');
        await rejectsWith(store.createMailbox(alice.id, 'inbox'), 'exists');
      });

      it('UIDVALIDITY differs after delete and re-create; UIDs start again', async () => {
        const a = await store.createMailbox(alice.id, 'Temp');
        await append(a.id, 1);
        await store.deleteMailbox(alice.id, 'Temp');
        const b = await store.createMailbox(alice.id, 'Temp');
        assert.notEqual(b.uidValidity, a.uidValidity);
        assert.ok(b.uidValidity > 0 && b.uidValidity <= 0xffffffff);
        assert.equal(b.messageCount, 0);
      });

      it('mailbox ids are never reused, also for the highest id after delete (MAILBOXID, RFC 8474 4.1)', async () => {
        const a = await store.createMailbox(alice.id, 'Temp');
        await store.deleteMailbox(alice.id, 'Temp');
        const b = await store.createMailbox(alice.id, 'Temp');
        assert.ok(b.id > a.id, `re-created mailbox got id ${b.id}, the deleted one had ${a.id}`);
        await store.deleteMailbox(alice.id, 'Temp');
        const c = await store.createMailbox(alice.id, 'Other');
        assert.ok(c.id > b.id, `new mailbox got id ${c.id}, the deleted one had ${b.id}`);
      });

      it('rename moves children and subscriptions, keeps UIDVALIDITY and UIDs', async () => {
        const a = await store.createMailbox(alice.id, 'a');
        const ab = await store.createMailbox(alice.id, 'a/b');
        await store.createMailbox(alice.id, 'ab'); // a sibling with the same prefix letters is not a child
        await append(ab.id, 1);
        await store.setSubscribed(alice.id, 'a/b', true);
        await store.renameMailbox(alice.id, 'a', 'x/y');
        const names = (await store.listMailboxes(alice.id)).map((b) => b.name).sort();
        assert.deepEqual(names, ['Archive', 'INBOX', 'ab', 'x/y', 'x/y/b']);
        const moved = (await store.getMailbox(alice.id, 'x/y/b'))!;
        assert.equal(moved.id, ab.id);
        assert.equal(moved.uidValidity, ab.uidValidity);
        assert.equal(moved.subscribed, true);
        assert.equal((await store.getMailbox(alice.id, 'x/y'))?.uidValidity, a.uidValidity);
        assert.deepEqual((await store.listMessages(ab.id, alice.id)).map((r) => r.uid), [1]);
        assert.deepEqual(await store.listSubscriptions(alice.id), ['x/y/b']);
        await rejectsWith(store.renameMailbox(alice.id, 'x/y', 'Archive'), 'exists');
        await rejectsWith(store.renameMailbox(alice.id, 'nope', 'z'), 'notfound');
      });

      it('deleteMailbox keeps children; notfound when absent', async () => {
        await store.createMailbox(alice.id, 'p');
        await store.createMailbox(alice.id, 'p/q');
        await store.deleteMailbox(alice.id, 'p');
        assert.ok(await store.getMailbox(alice.id, 'p/q'));
        assert.equal(await store.getMailbox(alice.id, 'p'), null);
        await rejectsWith(store.deleteMailbox(alice.id, 'p'), 'notfound');
      });

      it('subscriptions are independent rows that may name absent mailboxes', async () => {
        await store.setSubscribed(alice.id, 'Ghost', true);
        await store.setSubscribed(alice.id, 'INBOX', true);
        await store.setSubscribed(alice.id, 'INBOX', true);
        assert.deepEqual(await store.listSubscriptions(alice.id), ['Ghost', 'INBOX']);
        assert.equal((await store.getMailbox(alice.id, 'INBOX'))?.subscribed, true);
        assert.equal((await store.getMailbox(alice.id, 'Archive'))?.subscribed, false);
        await store.setSubscribed(alice.id, 'Ghost', false);
        assert.deepEqual(await store.listSubscriptions(alice.id), ['INBOX']);
      });
    });

    describe('append and UIDs', () => {
      it('appends to a mailbox named by owner and name (INBOX in any case); notfound for a name that is not there', async () => {
        const r = await store.appendMessage({ mailboxId: { userId: alice.id, name: 'inbox' }, content: await makeContent(store, [rawMessage(1)]) });
        assert.deepEqual([r.row.mailboxId, r.row.uid, r.uidValidity], [inbox.id, 1, inbox.uidValidity]);
        const s = await store.appendMessage({ mailboxId: { userId: alice.id, name: 'Archive' }, content: await makeContent(store, [rawMessage(2)]) });
        assert.equal(s.row.mailboxId, archive.id);
        await store.renameMailbox(alice.id, 'Archive', 'Old');
        await rejectsWith(store.appendMessage({ mailboxId: { userId: alice.id, name: 'Archive' }, content: await makeContent(store, [rawMessage(3)]) }), 'notfound');
        await rejectsWith(store.appendMessage({ mailboxId: { userId: 999_999, name: 'INBOX' }, content: await makeContent(store, [rawMessage(4)]) }), 'notfound');
        assert.deepEqual([(await store.getMailboxById(inbox.id))!.messageCount, (await store.getMailboxById(archive.id))!.messageCount], [1, 1]);
        assert.equal((await store.getQuota(alice.id)).usedMessages, 2);
      });

      it('returns the stored row with canonical flags, new EMAILID and THREADID, and counts', async () => {
        const date = new Date('2020-02-03T04:05:06Z');
        const content = await makeContent(store, [rawMessage(1)], 'message 1 body');
        const r = await store.appendMessage({ mailboxId: inbox.id, content, flags: ['\\seen', '$Label', '\\RECENT', '$label'], internalDate: date });
        assert.equal(r.uidValidity, inbox.uidValidity);
        assert.equal(r.row.uid, 1);
        assert.deepEqual(r.row.flags, ['\\Seen', '$Label']);
        assert.equal(r.row.internalDate.getTime(), date.getTime());
        assert.equal(r.row.size, content.size);
        assert.equal(r.row.contentId, content.id);
        assert.match(r.row.emailId, /^[A-Za-z0-9_-]{1,255}$/);
        assert.match(r.row.threadId, /^[A-Za-z0-9_-]{1,255}$/);
        assert.ok(r.row.modSeq > inbox.highestModSeq);
        const [listed] = await store.listMessages(inbox.id, alice.id);
        assert.deepEqual(listed, r.row);
        const box = (await store.getMailboxById(inbox.id))!;
        assert.deepEqual([box.uidNext, box.messageCount, box.totalSize, box.highestModSeq], [2, 1, content.size, r.row.modSeq]);
        const meta = (await store.getContent(content.id))!;
        assert.deepEqual(meta, { id: content.id, size: content.size, index: content.index, searchText: 'message 1 body' });
      });

      it('200 concurrent appends get distinct increasing UIDs and MODSEQs', async () => {
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => append(inbox.id, i)));
        const rows = await store.listMessages(inbox.id, alice.id);
        assert.deepEqual(rows.map((r) => r.uid), Array.from({ length: 200 }, (_, i) => i + 1));
        for (let i = 1; i < rows.length; i++) assert.ok(rows[i].modSeq > rows[i - 1].modSeq, 'modseq increases with uid');
        assert.equal(new Set(results.map((r) => r.row.emailId)).size, 200);
        const box = (await store.getMailboxById(inbox.id))!;
        assert.equal(box.uidNext, 201);
        assert.equal(box.highestModSeq, rows[199].modSeq);
      });

      it('UIDs are never reused after expunge (nor after reopen when the backend can)', async () => {
        for (let i = 0; i < 3; i++) await append(inbox.id, i);
        assert.deepEqual(await store.expunge(inbox.id, uids(3, 2, 1)), [1, 2, 3]);
        assert.equal((await append(inbox.id, 'x')).row.uid, 4);
        await store.expunge(inbox.id, uids(4));
        if (h.reopen) {
          h = await h.reopen();
          store = h.store;
        }
        assert.equal((await append(inbox.id, 'y')).row.uid, 5);
        assert.equal((await store.getMailboxById(inbox.id))?.uidNext, 6);
      });

      it('getMessages returns the asked rows in UID order and skips missing UIDs', async () => {
        for (let i = 0; i < 5; i++) await append(inbox.id, i);
        const rows = await store.getMessages(inbox.id, uids(5, 2, 99, 3), alice.id);
        assert.deepEqual(rows.map((r) => r.uid), [2, 3, 5]);
        assert.deepEqual(await store.getMessages(inbox.id, [], alice.id), []);
      });

      it('THREADID is reused through known threadKeys, per user', async () => {
        const a = await append(inbox.id, 1, { threadKeys: ['<1@x>'] });
        const b = await append(inbox.id, 2, { threadKeys: ['<2@x>', '<1@x>'] });
        const c = await append(archive.id, 3, { threadKeys: ['<3@x>', '<2@x>'] });
        const d = await append(inbox.id, 4, { threadKeys: ['<4@x>'] });
        const e = await append(inbox.id, 5);
        assert.equal(b.row.threadId, a.row.threadId);
        assert.equal(c.row.threadId, a.row.threadId, 'found through a key recorded by b');
        assert.notEqual(d.row.threadId, a.row.threadId);
        assert.notEqual(e.row.threadId, d.row.threadId);
        const bob = await store.addUser('bob@example.test', 'h', []);
        const bobInbox = (await store.getMailbox(bob.id, 'INBOX'))!;
        const f = await store.appendMessage({ mailboxId: bobInbox.id, content: await makeContent(store, [rawMessage(6)]), threadKeys: ['<1@x>'] });
        assert.notEqual(f.row.threadId, a.row.threadId, 'threads are per user');
      });
    });

    describe('flags', () => {
      const table: [string, string[], 'add' | 'remove' | 'set', string[], string[]][] = [
        ['add system flag in any case', [], 'add', ['\\FLAGGED'], ['\\Flagged']],
        ['add keeps existing and order', ['\\Seen'], 'add', ['$Work', '\\Seen'], ['\\Seen', '$Work']],
        ['remove is case-insensitive', ['\\Seen', '$Work'], 'remove', ['\\SEEN', '$WORK'], []],
        ['set replaces', ['\\Seen', '$a'], 'set', ['\\Answered', '$b'], ['\\Answered', '$b']],
        ['set keeps the spelling of first use', ['$Work'], 'set', ['$WORK', '\\Draft'], ['$Work', '\\Draft']],
        ['\\Recent is never stored', [], 'add', ['\\Recent', '\\Deleted'], ['\\Deleted']],
      ];
      for (const [name, initial, op, flags, expected] of table) {
        it(name, async () => {
          const { row } = await append(inbox.id, 1, { flags: initial });
          const res = await store.updateFlags({ mailboxId: inbox.id, uids: [row.uid], op, flags, viewerId: alice.id });
          const [after] = await store.getMessages(inbox.id, [row.uid], alice.id);
          assert.deepEqual(after.flags, expected);
          assert.deepEqual(res.failed, []);
          assert.equal(res.changed.length, 1);
          assert.deepEqual(res.changed[0], after);
          assert.ok(after.modSeq > row.modSeq);
        });
      }

      it('MODSEQ only bumps when something changed; one MODSEQ per call', async () => {
        for (let i = 0; i < 3; i++) await append(inbox.id, i, { flags: i === 0 ? ['$Done'] : [] });
        const before = (await store.getMailboxById(inbox.id))!.highestModSeq;
        const none = await store.updateFlags({ mailboxId: inbox.id, uids: uids(1), op: 'add', flags: ['$done'], viewerId: alice.id });
        assert.deepEqual(none.changed, []);
        assert.equal((await store.getMailboxById(inbox.id))!.highestModSeq, before);
        const res = await store.updateFlags({ mailboxId: inbox.id, uids: uids(1, 2, 3, 42), op: 'add', flags: ['$DONE'], viewerId: alice.id });
        assert.deepEqual(res.changed.map((r) => r.uid), [2, 3]);
        assert.equal(res.changed[0].modSeq, before + 1);
        assert.equal(res.changed[1].modSeq, before + 1);
        assert.deepEqual(res.changed[0].flags, ['$DONE']);
        assert.equal((await store.getMailboxById(inbox.id))!.highestModSeq, before + 1);
      });

      it('UNCHANGEDSINCE refuses rows modified later and reports them', async () => {
        const a = (await append(inbox.id, 1)).row;
        const b = (await append(inbox.id, 2)).row;
        const res = await store.updateFlags({ mailboxId: inbox.id, uids: [a.uid, b.uid], op: 'add', flags: ['\\Seen'], unchangedSince: a.modSeq, viewerId: alice.id });
        assert.deepEqual(res.failed, [b.uid]);
        assert.deepEqual(res.changed.map((r) => r.uid), [a.uid]);
        assert.deepEqual((await store.getMessages(inbox.id, [b.uid], alice.id))[0].flags, []);
      });

      it('invalid flags are refused and nothing changes', async () => {
        const { row } = await append(inbox.id, 1, { flags: ['\\Seen'] });
        for (const bad of [['\\Unknown'], ['two words'], [''], ['par(en'], ['\u00e9t\u00e9']]) {
          await rejectsWith(store.updateFlags({ mailboxId: inbox.id, uids: [row.uid], op: 'set', flags: bad, viewerId: alice.id }), 'invalid', bad[0]);
          await rejectsWith(store.appendMessage({ mailboxId: inbox.id, content: { id: row.contentId, existing: true }, flags: bad }), 'invalid', bad[0]);
        }
        assert.deepEqual((await store.listMessages(inbox.id, alice.id)).map((r) => [r.uid, r.flags, r.modSeq]), [[1, ['\\Seen'], row.modSeq]]);
      });
    });

    describe('expunge and changesSince', () => {
      it('expunge returns removed UIDs ascending, ignores absent ones, and logs them', async () => {
        for (let i = 0; i < 4; i++) await append(inbox.id, i);
        const mark = (await store.getMailboxById(inbox.id))!.highestModSeq;
        assert.deepEqual(await store.expunge(inbox.id, uids(4, 2, 77)), [2, 4]);
        assert.deepEqual(await store.expunge(inbox.id, uids(2)), []);
        assert.equal((await store.getMailboxById(inbox.id))!.highestModSeq, mark + 1, 'a no-op expunge does not bump');
        const ch = await store.changesSince(inbox.id, mark, alice.id);
        assert.deepEqual(ch.expunged, [2, 4]);
        assert.deepEqual(ch.changed, []);
        assert.equal(ch.highestModSeq, mark + 1);
        await assertExact(alice);
      });

      it('changesSince lists rows added or changed, and expunges, after a MODSEQ', async () => {
        for (let i = 0; i < 5; i++) await append(inbox.id, i);
        const mark = (await store.getMailboxById(inbox.id))!.highestModSeq;
        await store.updateFlags({ mailboxId: inbox.id, uids: uids(4, 2), op: 'add', flags: ['\\Seen'], viewerId: alice.id });
        await store.expunge(inbox.id, uids(3));
        await append(inbox.id, 'new');
        const ch = await store.changesSince(inbox.id, mark, alice.id);
        assert.deepEqual(ch.changed.map((r) => r.uid), [2, 4, 6]);
        assert.deepEqual(ch.expunged, [3]);
        assert.ok(ch.changed.every((r) => r.modSeq > mark));
        assert.equal(ch.highestModSeq, (await store.getMailboxById(inbox.id))!.highestModSeq);
        const all = await store.changesSince(inbox.id, 0, alice.id);
        assert.deepEqual(all.changed.map((r) => r.uid), [1, 2, 4, 5, 6]);
        const none = await store.changesSince(inbox.id, ch.highestModSeq, alice.id);
        assert.deepEqual([none.changed, none.expunged], [[], []]);
        assert.equal(none.expungedComplete, true);
      });

      it('keeps the newest tombstones only and says when changesSince cannot list every expunge (QRESYNC retention)', async () => {
        if (!('expungeLogKeep' in store)) return; // a proxy: the store behind it is tested itself
        (store as { expungeLogKeep: number }).expungeLogKeep = 4;
        for (let i = 0; i < 12; i++) await append(inbox.id, i);
        const start = (await store.getMailboxById(inbox.id))!.highestModSeq;
        const marks: number[] = [];
        for (let uid = 1; uid <= 6; uid++) {
          await store.expunge(inbox.id, uids(uid)); // 6 tombstones > 4 + 1 of slack: the oldest go
          marks.push((await store.getMailboxById(inbox.id))!.highestModSeq);
        }
        await store.moveMessages(inbox.id, uids(7), archive.id);
        const recent = await store.changesSince(inbox.id, marks[2], alice.id);
        assert.deepEqual([recent.expunged, recent.expungedComplete], [[4, 5, 6, 7], true]);
        const old = await store.changesSince(inbox.id, start, alice.id);
        assert.equal(old.expungedComplete, false);
        assert.ok(old.expunged.includes(7 as Uid) && old.expunged.length < 7, JSON.stringify(old.expunged));
        assert.deepEqual((await store.listMessages(inbox.id, alice.id)).map((r) => r.uid), [8, 9, 10, 11, 12]);
      });
    });

    describe('mailboxCounts', () => {
      /** The counts as listMessages gives them: what mailboxCounts must agree with. */
      async function countsFromRows(mailboxId: Id, viewerId: Id) {
        const rows = await store.listMessages(mailboxId, viewerId);
        return {
          messages: rows.length,
          unseen: rows.filter((r) => !r.flags.includes('\\Seen')).length,
          deleted: rows.filter((r) => r.flags.includes('\\Deleted')).length,
          size: rows.reduce((sum, r) => sum + r.size, 0),
        };
      }

      it('an empty mailbox counts zero; an unknown one is notfound', async () => {
        assert.deepEqual(await store.mailboxCounts(inbox.id, alice.id), { messages: 0, unseen: 0, deleted: 0, size: 0 });
        await rejectsWith(store.mailboxCounts(987654, alice.id), 'notfound');
      });

      it('counts \\Seen and \\Deleted as exact flags, not keywords that contain the word', async () => {
        const flagSets = [['\\Seen'], ['Seen'], ['$SeenX', 'NotSeen'], ['\\Deleted', '\\Seen'], [], ['Deleted', '\\Answered'], ['$Junk', '\\Seen', '\\Flagged']];
        let size = 0;
        for (const [i, flags] of flagSets.entries()) size += (await append(inbox.id, i, { flags })).row.size;
        await append(archive.id, 'other', { flags: ['\\Deleted'] });
        const counts = await store.mailboxCounts(inbox.id, alice.id);
        assert.deepEqual(counts, { messages: 7, unseen: 4, deleted: 1, size });
        assert.deepEqual(counts, await countsFromRows(inbox.id, alice.id));
        const box = (await store.getMailboxById(inbox.id))!;
        assert.deepEqual([counts.messages, counts.size], [box.messageCount, box.totalSize]);
      });

      it('follows STORE and EXPUNGE, for the owner and for another viewer', async () => {
        const bob = await store.addUser('bob@example.test', 'h', []);
        for (let i = 0; i < 5; i++) await append(inbox.id, i, { flags: i % 2 === 0 ? ['\\Seen'] : [] });
        assert.deepEqual(await store.mailboxCounts(inbox.id, alice.id), await countsFromRows(inbox.id, alice.id));
        await store.updateFlags({ mailboxId: inbox.id, uids: uids(2), op: 'add', flags: ['\\Seen', '\\Deleted'], viewerId: alice.id });
        await store.updateFlags({ mailboxId: inbox.id, uids: uids(1), op: 'remove', flags: ['\\Seen'], viewerId: alice.id });
        await store.updateFlags({ mailboxId: inbox.id, uids: uids(5), op: 'set', flags: ['\\Deleted', 'SeenAlready'], viewerId: alice.id });
        const before = await store.mailboxCounts(inbox.id, alice.id);
        assert.deepEqual([before.messages, before.unseen, before.deleted], [5, 3, 2]);
        assert.deepEqual(before, await countsFromRows(inbox.id, alice.id));
        assert.deepEqual(await store.mailboxCounts(inbox.id, bob.id), await countsFromRows(inbox.id, bob.id));
        await store.expunge(inbox.id, uids(2, 5));
        const after = await store.mailboxCounts(inbox.id, alice.id);
        assert.deepEqual([after.messages, after.unseen, after.deleted], [3, 2, 0]);
        assert.deepEqual(after, await countsFromRows(inbox.id, alice.id));
        assert.equal(after.size, (await store.getMailboxById(inbox.id))!.totalSize);
      });
    });

    describe('mailboxSnapshot', () => {
      /** The snapshot as [uid, flags] pairs, to compare with listMessages. */
      async function pairs(mailboxId: Id, viewerId: Id) {
        const snap = await store.mailboxSnapshot(mailboxId, viewerId);
        assert.equal(snap.uids.length, snap.flagSet.length);
        return { snap, pairs: Array.from(snap.uids, (uid, i) => [uid, snap.flagSets[snap.flagSet[i]]]) };
      }

      it('an empty mailbox has no rows; an unknown one is notfound', async () => {
        const { snap } = await pairs(inbox.id, alice.id);
        assert.deepEqual([snap.uids.length, snap.flagSets, snap.mailbox.id, snap.mailbox.uidNext], [0, [], inbox.id, 1]);
        await rejectsWith(store.mailboxSnapshot(987654, alice.id), 'notfound');
      });

      it('agrees with listMessages: UIDs ascending, flags interned, the mailbox row of the same read', async () => {
        const flagSets = [['\\Seen'], [], ['$a|b', 'x,y'], ['\\Seen'], ['\\Deleted', '\\Seen'], [], ['$Work']];
        for (const [i, flags] of flagSets.entries()) await append(inbox.id, i, { flags });
        await append(archive.id, 'other', { flags: ['\\Flagged'] });
        await store.expunge(inbox.id, uids(2));
        await store.updateFlags({ mailboxId: inbox.id, uids: uids(6), op: 'add', flags: ['\\Answered'], viewerId: alice.id });
        const rows = await store.listMessages(inbox.id, alice.id);
        const { snap, pairs: got } = await pairs(inbox.id, alice.id);
        assert.deepEqual(got, rows.map((r) => [r.uid, r.flags]));
        assert.equal(new Set(snap.flagSets.map((f) => f.join(' '))).size, snap.flagSets.length, 'each distinct list once');
        const box = (await store.getMailboxById(inbox.id))!;
        assert.deepEqual([snap.mailbox.uidNext, snap.mailbox.highestModSeq, snap.mailbox.uidValidity, snap.mailbox.name], [box.uidNext, box.highestModSeq, box.uidValidity, 'INBOX']);
      });
    });

    describe('copy and move', () => {
      it('copy maps in source order, keeps EMAILID/THREADID/flags, shares content, charges quota', async () => {
        for (let i = 0; i < 3; i++) await append(inbox.id, i, { flags: ['$k' + i] });
        await append(archive.id, 'pre');
        const src = await store.listMessages(inbox.id, alice.id);
        const res = await store.copyMessages(inbox.id, uids(3, 1, 50), archive.id);
        assert.equal(res.uidValidity, archive.uidValidity);
        assert.deepEqual(res.mapping, [{ from: 1, to: 2 }, { from: 3, to: 3 }]);
        const copies = await store.getMessages(archive.id, uids(2, 3), alice.id);
        assert.deepEqual(copies.map((r) => [r.emailId, r.threadId, r.flags, r.contentId]), [src[0], src[2]].map((r) => [r.emailId, r.threadId, r.flags, r.contentId]));
        assert.equal(copies[0].modSeq, copies[1].modSeq);
        assert.equal((await store.listMessages(inbox.id, alice.id)).length, 3, 'source untouched');
        assert.equal((await store.stats()).contents, 4);
        assert.deepEqual(await store.copyMessages(inbox.id, uids(99), archive.id), { uidValidity: archive.uidValidity, mapping: [] });
        await assertExact(alice);
      });

      it('move keeps EMAILID, logs the expunge in the source, keeps quota', async () => {
        for (let i = 0; i < 3; i++) await append(inbox.id, i);
        const src = await store.listMessages(inbox.id, alice.id);
        const mark = (await store.getMailboxById(inbox.id))!.highestModSeq;
        const quota = await store.getQuota(alice.id);
        const res = await store.moveMessages(inbox.id, uids(2, 3), archive.id);
        assert.deepEqual(res.mapping, [{ from: 2, to: 1 }, { from: 3, to: 2 }]);
        assert.deepEqual((await store.listMessages(inbox.id, alice.id)).map((r) => r.uid), [1]);
        const moved = await store.listMessages(archive.id, alice.id);
        assert.deepEqual(moved.map((r) => r.emailId), [src[1].emailId, src[2].emailId]);
        assert.deepEqual((await store.changesSince(inbox.id, mark, alice.id)).expunged, [2, 3]);
        assert.deepEqual(await store.getQuota(alice.id), quota);
        await assertExact(alice);
      });

      it('move and copy within one mailbox: new UIDs, the old ones logged as expunged, counts right (RFC 6851 3.3)', async () => {
        for (let i = 0; i < 3; i++) await append(inbox.id, i);
        const src = await store.listMessages(inbox.id, alice.id);
        const mark = (await store.getMailboxById(inbox.id))!.highestModSeq;
        const quota = await store.getQuota(alice.id);
        const moved = await store.moveMessages(inbox.id, uids(2), inbox.id);
        assert.deepEqual(moved.mapping, [{ from: 2, to: 4 }]);
        const rows = await store.listMessages(inbox.id, alice.id);
        assert.deepEqual(rows.map((r) => r.uid), [1, 3, 4]);
        assert.equal(rows[2].emailId, src[1].emailId);
        const ch = await store.changesSince(inbox.id, mark, alice.id);
        assert.deepEqual(ch.expunged, [2]);
        assert.deepEqual(ch.changed.map((r) => r.uid), [4]);
        assert.deepEqual(await store.getQuota(alice.id), quota);
        const copied = await store.copyMessages(inbox.id, uids(1), inbox.id);
        assert.deepEqual(copied.mapping, [{ from: 1, to: 5 }]);
        const box = (await store.getMailboxById(inbox.id))!;
        assert.equal(box.messageCount, 4);
        assert.equal(box.uidNext, 6);
        await assertExact(alice);
      });

      it('move and copy across users check and transfer quota', async () => {
        const bob = await store.addUser('bob@example.test', 'h', []);
        const bobInbox = (await store.getMailbox(bob.id, 'INBOX'))!;
        const { row } = await append(inbox.id, 1);
        await store.setQuota(bob.id, { bytes: row.size * 2 - 1, messages: null });
        await store.copyMessages(inbox.id, [row.uid], bobInbox.id);
        await rejectsWith(store.moveMessages(inbox.id, [row.uid], bobInbox.id), 'overquota');
        await rejectsWith(store.copyMessages(inbox.id, [row.uid], bobInbox.id), 'overquota');
        await store.setQuota(bob.id, { bytes: null, messages: null });
        await store.moveMessages(inbox.id, [row.uid], bobInbox.id);
        assert.deepEqual([(await store.getQuota(alice.id)).usedMessages, (await store.getQuota(bob.id)).usedMessages], [0, 2]);
        await assertExact(alice);
        await assertExact(bob);
      });
    });

    describe('contents, dedup and blobs', () => {
      it('openContent streams byte-identical ranges across segments', async () => {
        const raw = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
        const content = await makeContent(store, splitAt(raw, [100, 101, 2500, 2500, 4000]));
        await store.appendMessage({ mailboxId: inbox.id, content });
        assert.deepEqual(await readAll(await store.openContent(content.id)), raw);
        const ranges: [number, number | undefined][] = [[0, 1], [99, 102], [100, 101], [2499, 2501], [0, 5000], [4999, 5000], [3000, undefined], [7, 7], [4000, 9999]];
        for (const [s, e] of ranges) assert.deepEqual(await readAll(await store.openContent(content.id, s, e)), raw.subarray(s, e), `range ${s}-${e}`);
        await rejectsWith(store.openContent('0'.repeat(64)), 'notfound');
      });

      it('getIndexes returns many indexes at once, without search text, leaving out unknown ids', async () => {
        const a = await makeContent(store, [rawMessage('ia')], 'search text a');
        const b = await makeContent(store, [rawMessage('ib')], 'search text b');
        await store.appendMessage({ mailboxId: inbox.id, content: a });
        await store.appendMessage({ mailboxId: inbox.id, content: b });
        const missing = '0'.repeat(64);
        const got = await store.getIndexes([b.id, missing, a.id, b.id]);
        assert.deepEqual([...got.keys()].sort(), [a.id, b.id].sort());
        for (const c of [a, b]) {
          assert.deepEqual(got.get(c.id), { id: c.id, size: c.size, index: c.index });
          assert.equal('searchText' in got.get(c.id)!, false);
        }
        assert.equal((await store.getIndexes([])).size, 0);
        const many = await store.getIndexes([...Array.from({ length: 1200 }, (_, i) => sha(Buffer.from(`none ${i}`))), a.id]);
        assert.deepEqual([...many.keys()], [a.id], 'more ids than one batch');
      });

      it('the same content twice is stored once; ExistingContent appends by reference', async () => {
        const content = await makeContent(store, [rawMessage(1)]);
        await store.appendMessage({ mailboxId: inbox.id, content });
        await store.appendMessage({ mailboxId: archive.id, content });
        assert.equal(await store.hasContent(content.id), true);
        await store.appendMessage({ mailboxId: inbox.id, content: { id: content.id, existing: true } });
        const st = await store.stats();
        assert.deepEqual([st.messages, st.contents, st.blobs], [3, 1, 1]);
        assert.equal(st.logicalBytes, 3 * content.size);
        assert.equal(st.blobBytes, content.size);
        await store.expunge(inbox.id, uids(1, 2));
        assert.equal(await store.hasContent(content.id), true, 'still referenced from Archive');
      });

      it('a shared attachment segment is one blob; expunging everything removes rows and files', async () => {
        const attachment = Buffer.alloc(20_000, 'A');
        const a = await makeContent(store, [Buffer.from('Subject: a\r\n\r\n'), attachment, Buffer.from('\r\n-- a\r\n')]);
        const b = await makeContent(store, [Buffer.from('Subject: b\r\n\r\n'), attachment, Buffer.from('\r\n-- b\r\n')]);
        await store.appendMessage({ mailboxId: inbox.id, content: a });
        await store.appendMessage({ mailboxId: inbox.id, content: b });
        const st = await store.stats();
        assert.deepEqual([st.contents, st.blobs], [2, 5]);
        assert.ok(st.blobBytes < st.logicalBytes, `${st.blobBytes} < ${st.logicalBytes}`);
        await store.expunge(inbox.id, uids(1));
        assert.equal(await store.blobs.has(a.segments[1].hash), true, 'attachment still used by b');
        assert.equal(await store.blobs.has(a.segments[0].hash), false);
        await store.expunge(inbox.id, uids(2));
        const end = await store.stats();
        assert.deepEqual([end.contents, end.blobs, end.blobBytes, end.messages], [0, 0, 0, 0]);
        for (const seg of [...a.segments, ...b.segments]) assert.equal(await store.blobs.has(seg.hash), false, 'file gone');
      });

      it('a new blob whose file is missing is notfound and stores nothing; vanished ExistingContent is notfound', async () => {
        const raw = rawMessage('lost');
        const content: NewContent = { id: sha(raw), size: raw.length, segments: [{ hash: sha(raw), size: raw.length }], index: minimalIndex(raw), searchText: '' };
        await rejectsWith(store.appendMessage({ mailboxId: inbox.id, content }), 'notfound');
        await rejectsWith(store.appendMessage({ mailboxId: inbox.id, content: { id: content.id, existing: true } }), 'notfound');
        assert.equal(await store.hasContent(content.id), false);
        assert.equal((await store.getMailboxById(inbox.id))!.uidNext, 1);
        await store.blobs.put(content.segments[0].hash, Readable.from([raw]));
        assert.equal((await store.appendMessage({ mailboxId: inbox.id, content })).row.uid, 1, 'retry after rewrite works');
      });
    });

    describe('quota', () => {
      it('overquota on bytes or messages leaves nothing half-stored; ignoreQuota bypasses', async () => {
        const first = await append(inbox.id, 1);
        await store.setQuota(alice.id, { bytes: first.row.size * 2 - 1, messages: null });
        const content = await makeContent(store, [rawMessage(2)]);
        await assert.rejects(store.appendMessage({ mailboxId: inbox.id, content }), (e) => isStoreError(e, 'overquota') && /storage/.test(e.message));
        assert.equal(await store.hasContent(content.id), false, 'no content row left behind');
        assert.deepEqual((await store.stats()).messages, 1);
        await store.setQuota(alice.id, { bytes: null, messages: 1 });
        await assert.rejects(store.appendMessage({ mailboxId: inbox.id, content }), (e) => isStoreError(e, 'overquota') && /message/.test(e.message));
        await rejectsWith(store.copyMessages(inbox.id, uids(1), archive.id), 'overquota');
        assert.equal((await store.getMailboxById(inbox.id))!.uidNext, 2);
        await store.appendMessage({ mailboxId: inbox.id, content, ignoreQuota: true });
        await store.moveMessages(inbox.id, uids(1), archive.id); // same user: quota unchanged, no check
        assert.deepEqual(await store.getQuota(alice.id), { bytes: null, messages: 1, usedBytes: first.row.size + content.size, usedMessages: 2 });
        await assertExact(alice);
      });

      it('appendMessages stores all in order with consecutive UIDs, or nothing (overquota, a bad date, an empty list)', async () => {
        await append(inbox.id, 1);
        const contents = [await makeContent(store, [rawMessage('m1')]), await makeContent(store, [rawMessage('m2')]), await makeContent(store, [rawMessage('m3')])];
        await store.setQuota(alice.id, { bytes: null, messages: 3 });
        await rejectsWith(store.appendMessages(contents.map((content) => ({ mailboxId: inbox.id, content }))), 'overquota');
        await rejectsWith(store.appendMessages([{ mailboxId: inbox.id, content: contents[0] }, { mailboxId: inbox.id, content: contents[1], internalDate: new Date(NaN) }]), 'invalid');
        await rejectsWith(store.appendMessages([]), 'invalid');
        assert.deepEqual((await store.listMessages(inbox.id, alice.id)).map((r) => r.uid), [1], 'nothing of the failed batches');
        assert.equal((await store.getQuota(alice.id)).usedMessages, 1);
        for (const c of contents) assert.equal(await store.hasContent(c.id), false, 'no content left behind');
        const res = await store.appendMessages(contents.slice(0, 2).map((content, i) => ({ mailboxId: inbox.id, content, flags: i === 0 ? ['\\Seen'] : [] })));
        assert.deepEqual(res.map((r) => r.row.uid), [2, 3]);
        assert.deepEqual(res.map((r) => r.row.flags), [['\\Seen'], []]);
        assert.equal(res[0].row.modSeq, res[1].row.modSeq, 'one transaction, one MODSEQ');
        assert.equal((await store.getMailboxById(inbox.id))!.uidNext, 4);
        await assertExact(alice);
      });

      it('replaceMessage appends and expunges in one step; nothing happens when the old message is gone or the append fails', async () => {
        await append(inbox.id, 1);
        await append(inbox.id, 2);
        const fresh = await makeContent(store, [rawMessage('new')]);
        const r = await store.replaceMessage({ mailboxId: archive.id, content: fresh, flags: ['\\Flagged'] }, { mailboxId: inbox.id, uid: 1 as Uid });
        assert.equal(r.row.uid, 1);
        assert.deepEqual((await store.listMessages(inbox.id, alice.id)).map((x) => x.uid), [2]);
        assert.deepEqual((await store.listMessages(archive.id, alice.id)).map((x) => [x.uid, x.flags]), [[1, ['\\Flagged']]]);
        const other = await makeContent(store, [rawMessage('other')]);
        await rejectsWith(store.replaceMessage({ mailboxId: inbox.id, content: other }, { mailboxId: inbox.id, uid: 1 as Uid }), 'conflict');
        assert.equal(await store.hasContent(other.id), false, 'the append was rolled back');
        await store.setQuota(alice.id, { bytes: null, messages: 2 });
        const swapped = await store.replaceMessage({ mailboxId: archive.id, content: other }, { mailboxId: archive.id, uid: 1 as Uid });
        assert.equal(swapped.row.uid, 2, 'at the limit: the room the old one frees counts');
        await store.setQuota(alice.id, { bytes: null, messages: 1 });
        await rejectsWith(store.replaceMessage({ mailboxId: inbox.id, content: other }, { mailboxId: inbox.id, uid: 2 as Uid }), 'overquota');
        assert.deepEqual((await store.listMessages(inbox.id, alice.id)).map((x) => x.uid), [2], 'the old one stays when the append fails');
        await store.setQuota(alice.id, { bytes: null, messages: null });
        const same = await store.replaceMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage('third')]) }, { mailboxId: inbox.id, uid: 2 as Uid });
        assert.deepEqual((await store.listMessages(inbox.id, alice.id)).map((x) => x.uid), [same.row.uid], 'into the same mailbox');
        await assertExact(alice);
      });

      it('claimQuotaWarning: 80 and 95 % once per crossing, by bytes or messages; freeing quota or a higher limit re-arms', async () => {
        assert.equal(await store.claimQuotaWarning(alice.id), null, 'no limit, no warning');
        await store.setQuota(alice.id, { bytes: null, messages: 10 });
        for (let i = 1; i <= 7; i++) await append(inbox.id, i);
        assert.equal(await store.claimQuotaWarning(alice.id), null, '70 %');
        await append(inbox.id, 8);
        assert.equal(await store.claimQuotaWarning(alice.id), 80);
        assert.equal(await store.claimQuotaWarning(alice.id), null, 'announced once');
        await append(inbox.id, 9);
        assert.equal(await store.claimQuotaWarning(alice.id), null, '90 %: still 80');
        await append(inbox.id, 10);
        assert.equal(await store.claimQuotaWarning(alice.id), 95);
        await store.expunge(inbox.id, uids(1, 2, 3));
        assert.equal(await store.claimQuotaWarning(alice.id), null, '70 % after the expunge');
        await append(inbox.id, 11);
        assert.equal(await store.claimQuotaWarning(alice.id), 80, 're-armed by the expunge');
        await store.setQuota(alice.id, { bytes: null, messages: 100 });
        await store.setQuota(alice.id, { bytes: null, messages: 10 });
        assert.equal(await store.claimQuotaWarning(alice.id), 80, 're-armed by the raised limit');
        // bytes: the higher of both resources counts; a jump past both thresholds warns at 95 once
        const size = (await store.getQuota(alice.id)).usedBytes;
        await store.setQuota(alice.id, { bytes: size, messages: null });
        assert.equal(await store.claimQuotaWarning(alice.id), 95);
        assert.equal(await store.claimQuotaWarning(alice.id), null);
        const [a, b] = await Promise.all([store.claimQuotaWarning(alice.id), store.claimQuotaWarning(alice.id)]);
        assert.deepEqual([a, b], [null, null]);
      });

      it('usage stays exact through a random sequence of operations', async () => {
        let seed = 12345;
        const rand = (n: number): number => {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          return seed % n;
        };
        await store.setQuota(alice.id, { bytes: 4000, messages: 25 });
        let boxes = [inbox.id, archive.id, (await store.createMailbox(alice.id, 'Extra')).id];
        for (let step = 0; step < 120; step++) {
          const box = boxes[rand(boxes.length)];
          const other = boxes[rand(boxes.length)];
          const present = (await store.listMessages(box, alice.id)).map((r) => r.uid);
          const pick = present.filter(() => rand(3) === 0);
          try {
            switch (rand(6)) {
              case 0: case 1: await append(box, step, { body: 'x'.repeat(rand(300)) }); break;
              case 2: await store.copyMessages(box, pick, other); break;
              case 3: await store.moveMessages(box, pick, other); break;
              case 4: await store.expunge(box, pick); break;
              case 5:
                if (box !== inbox.id && rand(4) === 0) {
                  const name = (await store.getMailboxById(box))!.name;
                  await store.deleteMailbox(alice.id, name);
                  boxes = boxes.filter((b) => b !== box);
                  boxes.push((await store.createMailbox(alice.id, `${name}-${step}`)).id);
                }
                break;
            }
          } catch (e) {
            assert.ok(isStoreError(e, 'overquota'), String(e));
          }
          await assertExact(alice);
        }
        const st = await store.stats();
        const q = await store.getQuota(alice.id);
        assert.equal(st.logicalBytes, q.usedBytes);
        assert.equal(st.messages, q.usedMessages);
      });
    });

    describe('change events', () => {
      it('are published after commit, one per changed mailbox, with the new HIGHESTMODSEQ', async () => {
        const seen: { event: ChangeEvent; rows: number; highest: number }[] = [];
        const pending: Promise<void>[] = [];
        const off = h.bus.subscribe(alice.id, (event) => {
          // Reads inside the listener must already see the committed state.
          pending.push((async () => {
            const box = await store.getMailboxById(event.mailboxId);
            const rows = box ? (await store.listMessages(box.id, alice.id)).length : -1;
            seen.push({ event, rows, highest: box?.highestModSeq ?? 0 });
          })());
        });
        const settle = () => Promise.all(pending);
        const { row } = await append(inbox.id, 1);
        await settle();
        await store.updateFlags({ mailboxId: inbox.id, uids: [row.uid], op: 'add', flags: ['\\Seen'], viewerId: alice.id });
        await settle();
        await store.updateFlags({ mailboxId: inbox.id, uids: [row.uid], op: 'add', flags: ['\\Seen'], viewerId: alice.id }); // no change: no event
        await settle();
        await store.moveMessages(inbox.id, [row.uid], archive.id);
        await settle();
        await store.setQuota(alice.id, { bytes: 0, messages: null });
        await rejectsWith(append(inbox.id, 2), 'overquota'); // a failed transaction publishes nothing
        await settle();
        off();
        assert.deepEqual(seen.map((s) => [s.event.kind, s.event.mailboxId]), [
          ['append', inbox.id], ['flags', inbox.id], ['expunge', inbox.id], ['append', archive.id],
        ]);
        assert.deepEqual(seen.map((s) => s.rows), [1, 1, 0, 1], 'each listener saw the committed rows');
        for (const s of seen) assert.equal(s.event.modSeq, s.highest, `${s.event.kind}: event carries the new HIGHESTMODSEQ`);
        assert.equal(seen[0].event.modSeq, row.modSeq);
        assert.ok(seen.every((s) => s.event.userId === alice.id));
      });

      it('mailbox-level changes publish mailbox events', async () => {
        const kinds: string[] = [];
        const off = h.bus.subscribe(alice.id, (e) => kinds.push(e.kind));
        await store.createMailbox(alice.id, 'N');
        await store.renameMailbox(alice.id, 'N', 'M');
        await store.deleteMailbox(alice.id, 'M');
        await store.setSubscribed(alice.id, 'M', true);
        await store.setSubscribed(alice.id, 'M', false);
        off();
        assert.deepEqual(kinds, ['mailbox-created', 'mailbox-renamed', 'mailbox-deleted', 'subscription', 'subscription']);
      });
    });

    describe('POP3 UIDL, leases and login times', () => {
      const UIDL = /^[\x21-\x7e]{1,70}$/;

      it('append gives each row its own UIDL; COPY a new one; flags leave it alone', async () => {
        const a = (await append(inbox.id, 1)).row;
        const b = (await append(inbox.id, 1)).row; // same bytes, separate delivery
        assert.match(a.uidl, UIDL);
        assert.notEqual(a.uidl, b.uidl);
        const res = await store.copyMessages(inbox.id, [a.uid], inbox.id);
        const [copy] = await store.getMessages(inbox.id, [res.mapping[0].to], alice.id);
        assert.equal(copy.emailId, a.emailId, 'COPY keeps EMAILID');
        assert.notEqual(copy.uidl, a.uidl, 'two copies in INBOX get distinct UIDLs');
        await store.updateFlags({ mailboxId: inbox.id, uids: [a.uid], op: 'add', flags: ['\\Seen', '$Label1'], viewerId: alice.id });
        const [after] = await store.getMessages(inbox.id, [a.uid], alice.id);
        assert.equal(after.uidl, a.uidl, 'flag changes keep the UIDL');
        const all = await store.listMessages(inbox.id, alice.id);
        assert.equal(new Set(all.map((r) => r.uidl)).size, 3);
      });

      it('MOVE out of INBOX and back keeps the UIDL (new UID)', async () => {
        const a = (await append(inbox.id, 1)).row;
        const out = await store.moveMessages(inbox.id, [a.uid], archive.id);
        const [inArchive] = await store.getMessages(archive.id, [out.mapping[0].to], alice.id);
        assert.equal(inArchive.uidl, a.uidl);
        const back = await store.moveMessages(archive.id, [inArchive.uid], inbox.id);
        const [home] = await store.getMessages(inbox.id, [back.mapping[0].to], alice.id);
        assert.notEqual(home.uid, a.uid);
        assert.equal(home.uidl, a.uidl);
      });

      it('UIDLs do not collide after a mailbox is deleted and re-created', async () => {
        const seen = new Set<string>();
        for (let round = 0; round < 3; round++) {
          const box = await store.createMailbox(alice.id, 'Tmp');
          for (let i = 0; i < 5; i++) seen.add((await append(box.id, `${round}-${i}`)).row.uidl);
          await store.deleteMailbox(alice.id, 'Tmp');
        }
        assert.equal(seen.size, 15);
      });

      it('setUidl stores an imported legacy UIDL and serves it, kept by MOVE', async () => {
        const a = (await append(inbox.id, 1)).row;
        const before = (await store.getMailboxById(inbox.id))!.highestModSeq;
        await store.setUidl(inbox.id, a.uid, 'legacy-0001.pop3!');
        const [row] = await store.getMessages(inbox.id, [a.uid], alice.id);
        assert.equal(row.uidl, 'legacy-0001.pop3!');
        assert.equal((await store.getMailboxById(inbox.id))!.highestModSeq, before, 'no MODSEQ change');
        const out = await store.moveMessages(inbox.id, [a.uid], archive.id);
        assert.equal((await store.getMessages(archive.id, [out.mapping[0].to], alice.id))[0].uidl, 'legacy-0001.pop3!');
        await rejectsWith(store.setUidl(inbox.id, a.uid, 'x'), 'notfound', 'moved away');
        for (const bad of ['', 'has space', 'x'.repeat(71), 'caf\u00e9']) {
          await rejectsWith(store.setUidl(archive.id, out.mapping[0].to, bad), 'invalid', JSON.stringify(bad));
        }
      });

      it('a lease has one owner until released or expired; the owner renews it', async () => {
        assert.equal(await store.acquireLease('pop3:1', 'one', 60_000), true);
        assert.equal(await store.acquireLease('pop3:1', 'two', 60_000), false);
        assert.equal(await store.acquireLease('pop3:1', 'one', 60_000), true, 're-acquire by the owner renews');
        assert.equal(await store.acquireLease('pop3:2', 'two', 60_000), true, 'keys are independent');
        assert.equal(await store.renewLease('pop3:1', 'one', 60_000), true);
        assert.equal(await store.renewLease('pop3:1', 'two', 60_000), false);
        await store.releaseLease('pop3:1', 'two'); // not the owner: nothing happens
        assert.equal(await store.acquireLease('pop3:1', 'two', 60_000), false);
        await store.releaseLease('pop3:1', 'one');
        assert.equal(await store.renewLease('pop3:1', 'one', 60_000), false, 'released');
        assert.equal(await store.acquireLease('pop3:1', 'two', 50), true);
        await new Promise((r) => setTimeout(r, 120));
        assert.equal(await store.acquireLease('pop3:1', 'three', 60_000), true, 'an expired lease can be taken');
        assert.equal(await store.renewLease('pop3:1', 'two', 60_000), false, 'the old owner lost it');
        await rejectsWith(store.acquireLease('', 'x', 1), 'invalid');
        await rejectsWith(store.acquireLease('k', 'x', 0), 'invalid');
      });

      it('listLeases finds the leases of an owner prefix, expired ones too', async () => {
        assert.equal(await store.acquireLease('lp:1', 'node:a:1:s1', 60_000), true);
        assert.equal(await store.acquireLease('lp:2', 'node:a:2:s2', 1), true);
        assert.equal(await store.acquireLease('lp:3', 'node:ab:1:s3', 60_000), true);
        assert.equal(await store.acquireLease('lp:4', 'x-node:a:1', 60_000), true);
        await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(await store.listLeases('node:a:'), [{ key: 'lp:1', owner: 'node:a:1:s1' }, { key: 'lp:2', owner: 'node:a:2:s2' }]);
        assert.deepEqual(await store.listLeases('node:%'), [], 'the prefix is literal, not a pattern');
        await store.releaseLease('lp:1', 'node:a:1:s1');
        assert.deepEqual(await store.listLeases('node:a:'), [{ key: 'lp:2', owner: 'node:a:2:s2' }]);
        await rejectsWith(store.listLeases(''), 'invalid');
      });

      it('concurrent acquires: exactly one wins', async () => {
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.acquireLease('race', `o${i}`, 60_000)));
        assert.equal(results.filter(Boolean).length, 1);
      });

      it('recordLogin keeps the last time and refuses logins sooner than the interval', async () => {
        const t0 = new Date('2030-01-01T00:00:00Z');
        assert.deepEqual(await store.recordLogin(alice.id, 'pop3', t0, 60_000), { ok: true, previous: null });
        const soon = await store.recordLogin(alice.id, 'pop3', new Date(t0.getTime() + 30_000), 60_000);
        assert.equal(soon.ok, false);
        assert.equal(soon.previous?.getTime(), t0.getTime());
        assert.equal((await store.recordLogin(alice.id, 'imap', new Date(t0.getTime() + 30_000), 60_000)).ok, true, 'kinds are independent');
        const later = await store.recordLogin(alice.id, 'pop3', new Date(t0.getTime() + 60_000), 60_000);
        assert.deepEqual([later.ok, later.previous?.getTime()], [true, t0.getTime()]);
        assert.equal((await store.recordLogin(alice.id, 'pop3', new Date(t0.getTime() + 60_001), 0)).ok, true, 'interval 0 always records');
        await rejectsWith(store.recordLogin(999_999, 'pop3', t0, 0), 'notfound');
        await store.deleteUser(alice.address);
      });
    });

    describe('error codes', () => {
      const missing = 999_999;
      const table: [string, () => Promise<unknown>, StoreErrorCode][] = [
        ['addDomain duplicate', () => store.addDomain('EXAMPLE.test'), 'exists'],
        ['addDomain empty', () => store.addDomain(''), 'invalid'],
        ['addUser duplicate (case)', () => store.addUser('ALICE@example.test', 'h', []), 'exists'],
        ['addUser unknown domain', () => store.addUser('x@nowhere.test', 'h', []), 'notfound'],
        ['addUser no @', () => store.addUser('alice', 'h', []), 'invalid'],
        ['addUser empty local part', () => store.addUser('@example.test', 'h', []), 'invalid'],
        ['deleteUser unknown', () => store.deleteUser('nobody@example.test'), 'notfound'],
        ['setPassword unknown', () => store.setPassword(missing, 'h'), 'notfound'],
        ['setQuota unknown', () => store.setQuota(missing, { bytes: 1, messages: 1 }), 'notfound'],
        ['setQuota negative', () => store.setQuota(alice.id, { bytes: -1, messages: null }), 'invalid'],
        ['getQuota unknown', () => store.getQuota(missing), 'notfound'],
        ['setUserSetting unknown', () => store.setUserSetting(missing, 'k', 'v'), 'notfound'],
        ['addAlias unknown domain', () => store.addAlias('a@nowhere.test', 'b@x.test'), 'notfound'],
        ['addAlias empty target', () => store.addAlias('a@example.test', ''), 'invalid'],
        ['createMailbox unknown user', () => store.createMailbox(missing, 'X'), 'notfound'],
        ['createMailbox empty name', () => store.createMailbox(alice.id, ''), 'invalid'],
        ['createMailbox empty level', () => store.createMailbox(alice.id, 'a//b'), 'invalid'],
        ['createMailbox trailing delimiter', () => store.createMailbox(alice.id, 'a/'), 'invalid'],
        ['createMailbox control character', () => store.createMailbox(alice.id, 'a\nb'), 'invalid'],
        ['createMailbox bad special-use', () => store.createMailbox(alice.id, 'S', '\\Bogus' as never), 'invalid'],
        ['renameMailbox into own child', () => store.renameMailbox(alice.id, 'Archive', 'Archive/sub'), 'invalid'],
        ['renameMailbox onto itself', () => store.renameMailbox(alice.id, 'Archive', 'Archive'), 'exists'],
        ['appendMessage unknown mailbox', () => store.appendMessage({ mailboxId: missing, content: { id: '0'.repeat(64), existing: true } }), 'notfound'],
        ['appendMessage bad content id', () => store.appendMessage({ mailboxId: inbox.id, content: { id: 'nope', existing: true } }), 'invalid'],
        ['appendMessage segments do not add up', () => store.appendMessage({ mailboxId: inbox.id, content: { id: '0'.repeat(64), size: 5, segments: [], index: minimalIndex(Buffer.alloc(0)), searchText: '' } }), 'invalid'],
        ['appendMessage invalid date', () => store.appendMessage({ mailboxId: inbox.id, content: { id: '0'.repeat(64), existing: true }, internalDate: new Date(NaN) }), 'invalid'],
        ['listMessages unknown mailbox', () => store.listMessages(missing, alice.id), 'notfound'],
        ['getMessages unknown mailbox', () => store.getMessages(missing, uids(1), alice.id), 'notfound'],
        ['mailboxSnapshot unknown mailbox', () => store.mailboxSnapshot(missing, alice.id), 'notfound'],
        ['getMessages bad uid', () => store.getMessages(inbox.id, [0 as Uid], alice.id), 'invalid'],
        ['updateFlags unknown mailbox', () => store.updateFlags({ mailboxId: missing, uids: uids(1), op: 'add', flags: [], viewerId: alice.id }), 'notfound'],
        ['updateFlags bad op', () => store.updateFlags({ mailboxId: inbox.id, uids: uids(1), op: 'toggle' as never, flags: [], viewerId: alice.id }), 'invalid'],
        ['expunge unknown mailbox', () => store.expunge(missing, uids(1)), 'notfound'],
        ['copyMessages unknown target', () => store.copyMessages(inbox.id, uids(1), missing), 'notfound'],
        ['moveMessages unknown source', () => store.moveMessages(missing, uids(1), inbox.id), 'notfound'],
        ['changesSince unknown mailbox', () => store.changesSince(missing, 0, alice.id), 'notfound'],
        ['changesSince negative modseq', () => store.changesSince(inbox.id, -1, alice.id), 'invalid'],
        ['openContent unknown', () => store.openContent('f'.repeat(64)), 'notfound'],
        ['openContent bad range', async () => store.openContent((await append(inbox.id, 'r')).row.contentId, 5, 2), 'invalid'],
        ['blobs.put mismatched bytes', () => store.blobs.put('0'.repeat(64), Readable.from([Buffer.from('x')])), 'invalid'],
      ];
      for (const [name, run, code] of table) it(`${name} → ${code}`, () => rejectsWith(run(), code, name));
    });
  });
  queueConformanceSuite(backendName, open);
  textSearchConformanceSuite(backendName, open);
  deletedConformanceSuite(backendName, open);
  peopleConformanceSuite(backendName, open);
  loginEventsConformanceSuite(backendName, open);
  countsConformanceSuite(backendName, open);
  vacationConformanceSuite(backendName, open);
  aclConformanceSuite(backendName, open);
  metadataConformanceSuite(backendName, open);
  urlAuthKeysConformanceSuite(backendName, open);
  sortKeysConformanceSuite(backendName, open);
  inlineBlobsConformanceSuite(backendName, open);
}
