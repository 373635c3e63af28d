/**
 * Conformance of Recently Deleted (store/core/deleted.ts): retained expunges, the deletion
 * record, restore, purge, quota with and without counting kept mail, and the expunge log
 * of both mailboxes. Every backend runs it (called from storeConformanceSuite).
 *
 * Never imports: a backend, protocol code, src/mail.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError, type StoreErrorCode } from '../errors.js';
import { makeContent, rawMessage, readAll, type StoreHarness } from './kit.js';
import type { Id, Mailbox, Store, Uid, User } from '../types.js';

const uids = (...n: number[]): Uid[] => n as Uid[];
const IMAP = { protocol: 'imap', actor: 'alice@example.test' };

async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  await assert.rejects(p, (e) => isStoreError(e) && e.code === code);
}

export function deletedConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (Recently Deleted): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let alice: User;
    let inbox: Mailbox;
    let work: Mailbox;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.setRetention({ keepDeleted: true, countQuota: false, mailboxName: 'Recently Deleted' });
      await store.addDomain('example.test');
      alice = await store.addUser('alice@example.test', 'hash-a', [{ name: 'Work', specialUse: null }]);
      inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
      work = (await store.getMailbox(alice.id, 'Work'))!;
    });
    afterEach(async () => {
      await h.close();
    });

    async function append(mailboxId: Id, n: number | string, flags: string[] = []) {
      const content = await makeContent(store, [rawMessage(n)]);
      return (await store.appendMessage({ mailboxId, content, flags })).row;
    }

    const deletedBox = async () => (await store.listMailboxes(alice.id)).find((b) => b.recentlyDeleted);

    /** Usage equals the rows outside Recently Deleted plus `keptCounted` bytes/messages of it. */
    async function assertUsage(keptCounted: { bytes: number; messages: number } = { bytes: 0, messages: 0 }): Promise<void> {
      let bytes = keptCounted.bytes;
      let messages = keptCounted.messages;
      for (const box of await store.listMailboxes(alice.id)) {
        const rows = await store.listMessages(box.id, alice.id);
        assert.equal(box.messageCount, rows.length, `messageCount of ${box.name}`);
        assert.equal(box.totalSize, rows.reduce((s, r) => s + r.size, 0), `totalSize of ${box.name}`);
        if (box.recentlyDeleted) continue;
        bytes += rows.reduce((s, r) => s + r.size, 0);
        messages += rows.length;
      }
      const q = await store.getQuota(alice.id);
      assert.deepEqual({ bytes: q.usedBytes, messages: q.usedMessages }, { bytes, messages });
    }

    it('expunge keeps the message in Recently Deleted with its record, content and flags; the source logs an expunge', async () => {
      const row = await append(inbox.id, 1, ['\\Seen', '\\Deleted', '$Work']);
      const before = (await store.getMailboxById(inbox.id))!.highestModSeq;
      assert.deepEqual(await store.expunge(inbox.id, uids(row.uid), IMAP), [row.uid]);
      assert.deepEqual(await store.listMessages(inbox.id, alice.id), []);
      const ch = await store.changesSince(inbox.id, before, alice.id);
      assert.deepEqual(ch.expunged, [row.uid], 'VANISHED for the mailbox it left');
      const rd = (await deletedBox())!;
      assert.equal(rd.name, 'Recently Deleted');
      const [kept] = await store.listMessages(rd.id, alice.id);
      assert.equal(kept.contentId, row.contentId);
      assert.equal(kept.emailId, row.emailId);
      assert.equal(kept.uidl, row.uidl);
      assert.deepEqual(kept.flags, ['\\Seen', '$Work', '$DeletedVia.imap', '$DeletedBy.alice@example.test', '$DeletedFrom.INBOX']);
      const [d] = await store.listDeleted(alice.id);
      assert.equal(d.row.uid, kept.uid);
      assert.deepEqual([d.fromMailboxId, d.fromMailboxName, d.protocol, d.actor], [inbox.id, 'INBOX', 'imap', 'alice@example.test']);
      assert.ok(Math.abs(d.deletedAt.getTime() - Date.now()) < 60_000);
      assert.ok(await store.hasContent(row.contentId));
      assert.equal((await readAll(await store.openContent(row.contentId))).toString(), rawMessage(1).toString());
      await assertUsage();
      assert.equal((await store.getQuota(alice.id)).usedBytes, 0, 'kept mail is not counted');
    });

    it('restore puts the message back with flags, keywords, EMAILID and UIDL; the source mailbox is where it came from', async () => {
      const a = await append(work.id, 'a', ['\\Flagged', '$Label1']);
      const b = await append(inbox.id, 'b', ['\\Seen']);
      await store.expunge(work.id, uids(a.uid), IMAP);
      await store.expunge(inbox.id, uids(b.uid), { protocol: 'pop3', actor: 'alice@example.test' });
      const rd = (await deletedBox())!;
      const restored = await store.restoreDeleted(alice.id, null);
      assert.deepEqual(restored.map((r) => r.mailboxId), [work.id, inbox.id]);
      const [back] = await store.listMessages(work.id, alice.id);
      assert.deepEqual(back.flags, ['\\Flagged', '$Label1']);
      assert.equal(back.emailId, a.emailId);
      assert.equal(back.uidl, a.uidl);
      assert.equal(back.uid, restored[0].to);
      assert.ok(back.uid > a.uid, 'a new UID in the mailbox it returns to');
      const [inboxBack] = await store.listMessages(inbox.id, alice.id);
      assert.equal(inboxBack.uidl, b.uidl, 'a POP3 client keeps its UIDL');
      assert.deepEqual(await store.listDeleted(alice.id), []);
      const rdAfter = (await store.getMailboxById(rd.id))!;
      assert.equal(rdAfter.messageCount, 0);
      assert.deepEqual((await store.changesSince(rd.id, rd.highestModSeq, alice.id)).expunged, restored.map((r) => r.from).sort((x, y) => x - y));
      await assertUsage();
    });

    it('MOVE out of Recently Deleted restores; COPY, MOVE and APPEND into it, and deleting it, are refused', async () => {
      const a = await append(inbox.id, 'a', ['$Keep']);
      await store.expunge(inbox.id, uids(a.uid), IMAP);
      const rd = (await deletedBox())!;
      const [kept] = await store.listMessages(rd.id, alice.id);
      await rejectsWith(store.moveMessages(work.id, uids(1), rd.id), 'invalid');
      await rejectsWith(store.copyMessages(inbox.id, uids(1), rd.id), 'invalid');
      await rejectsWith(store.appendMessage({ mailboxId: rd.id, content: await makeContent(store, [rawMessage('x')]) }), 'invalid');
      await rejectsWith(store.deleteMailbox(alice.id, rd.name), 'invalid');
      const r = await store.moveMessages(rd.id, uids(kept.uid), work.id);
      assert.equal(r.mapping.length, 1);
      const [back] = await store.listMessages(work.id, alice.id);
      assert.deepEqual(back.flags, ['$Keep']);
      assert.equal(back.uidl, a.uidl);
      assert.deepEqual(await store.listDeleted(alice.id), []);
      await assertUsage();
    });

    it('MOVE between ordinary mailboxes is not a deletion', async () => {
      const a = await append(inbox.id, 'a');
      await store.moveMessages(inbox.id, uids(a.uid), work.id);
      assert.deepEqual(await store.listDeleted(alice.id), []);
      assert.equal(await deletedBox(), undefined);
    });

    it('purge removes kept messages deleted before the cutoff and releases their content and quota', async () => {
      const a = await append(inbox.id, 'a');
      const b = await append(inbox.id, 'b');
      await store.expunge(inbox.id, uids(a.uid, b.uid), IMAP);
      const deletedAt = (await store.listDeleted(alice.id))[0].deletedAt;
      assert.equal(await store.purgeDeleted(new Date(deletedAt.getTime() - 1)), 0, 'nothing deleted before that');
      assert.equal(await store.purgeDeleted(new Date(deletedAt.getTime() + 1), 1), 1, 'limit');
      assert.equal(await store.purgeDeleted(new Date(deletedAt.getTime() + 1)), 1);
      assert.deepEqual(await store.listDeleted(alice.id), []);
      assert.equal(await store.hasContent(a.contentId), false);
      assert.equal(await store.hasContent(b.contentId), false);
      await assertUsage();
    });

    it('two purges at once (two nodes) remove each message once', async () => {
      const rows = [];
      for (let i = 0; i < 6; i++) rows.push(await append(inbox.id, i));
      await store.expunge(inbox.id, rows.map((r) => r.uid), IMAP);
      await store.setRetention({ keepDeleted: true, countQuota: true, mailboxName: 'Recently Deleted' });
      const later = new Date(Date.now() + 60_000);
      const [x, y] = await Promise.all([store.purgeDeleted(later), store.purgeDeleted(later)]);
      assert.equal(x + y, 6);
      await assertUsage();
    });

    it('with countQuota, kept mail still counts until purged, and restore does not charge twice', async () => {
      await store.setRetention({ keepDeleted: true, countQuota: true, mailboxName: 'Recently Deleted' });
      const a = await append(inbox.id, 'a');
      const b = await append(inbox.id, 'b');
      await store.expunge(inbox.id, uids(a.uid, b.uid), IMAP);
      await assertUsage({ bytes: a.size + b.size, messages: 2 });
      const rd = (await deletedBox())!;
      const kept = await store.listMessages(rd.id, alice.id);
      await store.restoreDeleted(alice.id, uids(kept[0].uid));
      await assertUsage({ bytes: b.size, messages: 1 });
      await store.purgeDeleted(new Date(Date.now() + 60_000));
      await assertUsage();
    });

    it('restoring past the quota fails with overquota and changes nothing', async () => {
      const a = await append(inbox.id, 'a');
      await store.expunge(inbox.id, uids(a.uid), IMAP);
      await append(inbox.id, 'b');
      await store.setQuota(alice.id, { bytes: null, messages: 1 });
      await rejectsWith(store.restoreDeleted(alice.id, null), 'overquota');
      assert.equal((await store.listDeleted(alice.id)).length, 1);
      await assertUsage();
    });

    it('deleting a mailbox keeps its messages; restore goes to a mailbox of the same name, else INBOX', async () => {
      await append(work.id, 'a');
      await store.deleteMailbox(alice.id, 'Work', IMAP);
      const [d] = await store.listDeleted(alice.id);
      assert.equal(d.fromMailboxName, 'Work');
      const again = await store.createMailbox(alice.id, 'Work');
      const [r] = await store.restoreDeleted(alice.id, uids(d.row.uid));
      assert.equal(r.mailboxId, again.id);
      await store.expunge(again.id, uids(r.to), IMAP);
      await store.deleteMailbox(alice.id, 'Work', IMAP);
      const [r2] = await store.restoreDeleted(alice.id, null);
      assert.equal(r2.mailboxId, inbox.id);
      await assertUsage();
    });

    it('restore into a named mailbox; listDeleted since a date; a name already taken gets a suffix', async () => {
      await store.createMailbox(alice.id, 'Recently Deleted');
      const a = await append(inbox.id, 'a');
      await store.expunge(inbox.id, uids(a.uid), IMAP);
      assert.equal((await deletedBox())!.name, 'Recently Deleted 2');
      assert.equal((await store.listDeleted(alice.id, new Date(Date.now() + 60_000))).length, 0);
      assert.equal((await store.listDeleted(alice.id, new Date(Date.now() - 60_000))).length, 1);
      const [r] = await store.restoreDeleted(alice.id, null, work.id);
      assert.equal(r.mailboxId, work.id);
      await rejectsWith(store.restoreDeleted(alice.id, null, (await deletedBox())!.id), 'invalid');
    });

    it('with retention off, expunge removes for good; deleting the user removes kept mail', async () => {
      const a = await append(inbox.id, 'a');
      await store.expunge(inbox.id, uids(a.uid), IMAP);
      await store.setRetention({ keepDeleted: false, countQuota: false, mailboxName: 'Recently Deleted' });
      const b = await append(inbox.id, 'b');
      await store.expunge(inbox.id, uids(b.uid), IMAP);
      assert.equal(await store.hasContent(b.contentId), false);
      assert.equal((await store.listDeleted(alice.id)).length, 1);
      await store.deleteUser(alice.address);
      assert.equal(await store.hasContent(a.contentId), false);
      await rejectsWith(store.setRetention({ keepDeleted: true, countQuota: false, mailboxName: 'a/b' }), 'invalid');
    });
  });
}
