/**
 * Conformance of members, device passwords and the private `\Seen` of each member (one
 * account, several people and devices): every backend runs it (called from
 * storeConformanceSuite).
 *
 * Never imports: a backend, protocol code, src/mail.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ChangeEvent } from '../bus.js';
import { isStoreError, type StoreErrorCode } from '../errors.js';
import { makeContent, rawMessage, type StoreHarness } from './kit.js';
import type { Id, Mailbox, Member, Store, Uid, User } from '../types.js';

const digest = (s: string): string => createHash('sha256').update(s).digest('hex');

async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  await assert.rejects(p, (e) => isStoreError(e) && e.code === code);
}

export function peopleConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (members, devices, private \\Seen): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let fam: User;
    let inbox: Mailbox;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.addDomain('example.test');
      fam = await store.addUser('family@example.test', 'hash-f', [{ name: 'Archive', specialUse: '\\Archive' }]);
      inbox = (await store.getMailbox(fam.id, 'INBOX'))!;
    });
    afterEach(async () => {
      await h.close();
    });

    async function append(mailboxId: Id, n: number | string, flags: string[] = [], viewerId?: Id) {
      const content = await makeContent(store, [rawMessage(n)]);
      return (await store.appendMessage({ mailboxId, content, flags, viewerId })).row;
    }

    const flagsOf = async (viewer: Id, uid: Uid) => (await store.getMessages(inbox.id, [uid], viewer))[0].flags.slice().sort();

    describe('members', () => {
      it('add, list (by name), names are unique per account case-insensitively, owner is reserved; del', async () => {
        const bob = await store.addMember(fam.id, ' Bob ');
        assert.equal(bob.name, 'Bob');
        assert.ok(bob.viewerId < 0, 'a member views as a negative id, never a user id');
        await store.addMember(fam.id, 'alice');
        assert.deepEqual((await store.listMembers(fam.id)).map((m) => m.name), ['alice', 'Bob']);
        await rejectsWith(store.addMember(fam.id, 'BOB'), 'exists');
        await rejectsWith(store.addMember(fam.id, 'Owner'), 'exists');
        await rejectsWith(store.addMember(fam.id, ''), 'invalid');
        await rejectsWith(store.addMember(fam.id, 'a\nb'), 'invalid');
        await rejectsWith(store.addMember(9999, 'x'), 'notfound');
        const other = await store.addUser('other@example.test', 'h', []);
        await store.addMember(other.id, 'bob'); // another account may use the same name
        assert.deepEqual(await store.deleteMember(fam.id, 'bob'), []);
        assert.deepEqual((await store.listMembers(fam.id)).map((m) => m.name), ['alice']);
        await rejectsWith(store.deleteMember(fam.id, 'bob'), 'notfound');
      });
    });

    describe('devices', () => {
      it('add for a member or the owner, look up by digest, list, set limits, record logins, revoke', async () => {
        await store.addMember(fam.id, 'alice');
        const phone = await store.addDevice(fam.id, { member: 'Alice', name: "Alice's phone", secretDigest: digest('p1') });
        const laptop = await store.addDevice(fam.id, { member: 'owner', name: 'Laptop', secretDigest: digest('p2') });
        assert.equal(phone.member, 'alice');
        assert.ok(phone.viewerId < 0);
        assert.equal(laptop.member, 'owner');
        assert.equal(laptop.memberId, null);
        assert.equal(laptop.viewerId, fam.id, "the owner's devices read the account's own \\Seen");
        assert.equal((await store.deviceBySecret(digest('p1')))?.id, phone.id);
        assert.equal(await store.deviceBySecret(digest('nope')), null);
        await rejectsWith(store.addDevice(fam.id, { member: 'alice', name: "ALICE'S PHONE", secretDigest: digest('p3') }), 'exists');
        await rejectsWith(store.addDevice(fam.id, { member: 'alice', name: 'Tablet', secretDigest: digest('p1') }), 'exists');
        await rejectsWith(store.addDevice(fam.id, { member: 'carol', name: 'Tablet', secretDigest: digest('p3') }), 'notfound');
        await rejectsWith(store.addDevice(fam.id, { member: 'alice', name: 'Tablet', secretDigest: 'short' }), 'invalid');
        const set = await store.setDeviceSetting(fam.id, "alice's phone", 'protocols', 'imap,smtp');
        assert.deepEqual(set.settings, { protocols: 'imap,smtp' });
        const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
        await store.recordDeviceLogin(phone.id, at, 'imap', '192.0.2.7');
        const listed = await store.listDevices(fam.id);
        assert.deepEqual(listed.map((d) => d.name), ["Alice's phone", 'Laptop']);
        assert.deepEqual(listed[0].lastLogin, { at, protocol: 'imap', address: '192.0.2.7' });
        assert.deepEqual(listed[0].settings, { protocols: 'imap,smtp' });
        assert.equal(listed[1].lastLogin, null);
        assert.deepEqual((await store.setDeviceSetting(fam.id, "Alice's phone", 'protocols', null)).settings, {});
        assert.equal((await store.revokeDevice(fam.id, 'laptop')).id, laptop.id);
        assert.equal(await store.deviceBySecret(digest('p2')), null, 'a revoked password finds nothing');
        await rejectsWith(store.revokeDevice(fam.id, 'laptop'), 'notfound');
        await rejectsWith(store.setDeviceSetting(fam.id, 'laptop', 'readonly', 'yes'), 'notfound');
      });

      it('deleting a member revokes its devices; deleting the user removes members and devices', async () => {
        await store.addMember(fam.id, 'bob');
        await store.addDevice(fam.id, { member: 'bob', name: 'Bob phone', secretDigest: digest('b1') });
        await store.addDevice(fam.id, { member: 'owner', name: 'Desk', secretDigest: digest('o1') });
        assert.deepEqual((await store.deleteMember(fam.id, 'bob')).map((d) => d.name), ['Bob phone']);
        assert.equal(await store.deviceBySecret(digest('b1')), null);
        assert.ok(await store.deviceBySecret(digest('o1')));
        await store.addMember(fam.id, 'carol');
        await store.deleteUser(fam.address);
        assert.equal(await store.deviceBySecret(digest('o1')), null);
      });

      it('liveCredentials gives each user its password hash, settings and devices; unknown ids are left out', async () => {
        await store.addMember(fam.id, 'bob');
        const d = await store.addDevice(fam.id, { member: 'bob', name: 'P', secretDigest: digest('x') });
        await store.setUserSetting(fam.id, 'auth.require_device_passwords', 'yes');
        const [st, ...rest] = await store.liveCredentials([fam.id, 424242]);
        assert.equal(rest.length, 0);
        assert.equal(st.passwordHash, 'hash-f');
        assert.equal(st.settings['auth.require_device_passwords'], 'yes');
        assert.deepEqual(st.devices, [{ id: d.id, memberId: d.memberId, settings: {} }]);
        assert.deepEqual(await store.liveCredentials([]), []);
      });

      it('every credential change publishes a credentials event for the user, after commit', async () => {
        const events: ChangeEvent[] = [];
        const off = h.bus.subscribe(fam.id, (e) => events.push(e));
        await store.addMember(fam.id, 'bob');
        await store.addDevice(fam.id, { member: 'bob', name: 'P', secretDigest: digest('x') });
        await store.setDeviceSetting(fam.id, 'P', 'readonly', 'yes');
        await store.revokeDevice(fam.id, 'P');
        await store.setPassword(fam.id, 'hash-2');
        await store.setUserSetting(fam.id, 'auth.require_device_passwords', 'yes');
        await store.setUserSetting(fam.id, 'pop3.deleteMode', 'hide'); // not about logins: no event
        await store.deleteMember(fam.id, 'bob');
        off();
        assert.deepEqual(events.map((e) => [e.kind, e.userId, e.mailboxId]), Array(6).fill(['credentials', fam.id, 0]));
      });
    });

    describe('messages hidden from one device (delete=device)', () => {
      it('hides per device and mailbox; an expunge or a revoke takes the entries with it', async () => {
        const phone = await store.addDevice(fam.id, { member: 'owner', name: 'Phone', secretDigest: digest('p') });
        const laptop = await store.addDevice(fam.id, { member: 'owner', name: 'Laptop', secretDigest: digest('l') });
        const archive = (await store.getMailbox(fam.id, 'Archive'))!;
        const rows = [await append(inbox.id, 1), await append(inbox.id, 2), await append(inbox.id, 3)];
        const other = await append(archive.id, 4);
        await store.hideFromDevice(phone.id, inbox.id, [rows[2].uid, rows[0].uid, 999 as Uid]);
        await store.hideFromDevice(phone.id, inbox.id, [rows[0].uid]); // twice: no error, no duplicate
        await store.hideFromDevice(phone.id, inbox.id, []);
        assert.deepEqual(await store.deviceHiddenUids(phone.id, inbox.id), [rows[0].uid, rows[2].uid]);
        assert.deepEqual(await store.deviceHiddenUids(phone.id, archive.id), []);
        assert.deepEqual(await store.deviceHiddenUids(laptop.id, inbox.id), [], 'another device still sees them');
        assert.equal((await store.listMessages(inbox.id, fam.id)).length, 3, 'nothing is removed');
        await store.hideFromDevice(laptop.id, archive.id, [other.uid]);
        await store.expunge(inbox.id, [rows[0].uid]);
        assert.deepEqual(await store.deviceHiddenUids(phone.id, inbox.id), [rows[2].uid]);
        await store.revokeDevice(fam.id, 'Phone');
        assert.deepEqual(await store.deviceHiddenUids(phone.id, inbox.id), []);
        assert.deepEqual(await store.deviceHiddenUids(laptop.id, archive.id), [other.uid]);
        await rejectsWith(store.hideFromDevice(laptop.id, inbox.id, [0 as Uid]), 'invalid');
      });
    });

    describe('private \\Seen per member', () => {
      let bob: Member;
      let alice: Member;
      beforeEach(async () => {
        bob = await store.addMember(fam.id, 'bob');
        alice = await store.addMember(fam.id, 'alice');
      });

      it("a member's \\Seen is its own; every other flag is shared", async () => {
        const a = await append(inbox.id, 1, ['\\Seen']); // the owner's (e.g. delivered read)
        assert.deepEqual(await flagsOf(fam.id, a.uid), ['\\Seen']);
        assert.deepEqual(await flagsOf(bob.viewerId, a.uid), [], "the owner's \\Seen is not Bob's");
        const r = await store.updateFlags({ mailboxId: inbox.id, uids: [a.uid], op: 'add', flags: ['\\Seen', '\\Answered'], viewerId: bob.viewerId });
        assert.deepEqual(r.changed.map((c) => c.flags.slice().sort()), [['\\Answered', '\\Seen']]);
        assert.deepEqual(await flagsOf(alice.viewerId, a.uid), ['\\Answered'], 'Alice sees the answer, not Bob reading');
        assert.deepEqual(await flagsOf(fam.id, a.uid), ['\\Answered', '\\Seen']);
        await store.updateFlags({ mailboxId: inbox.id, uids: [a.uid], op: 'set', flags: ['\\Flagged'], viewerId: alice.viewerId });
        assert.deepEqual(await flagsOf(alice.viewerId, a.uid), ['\\Flagged']);
        assert.deepEqual(await flagsOf(bob.viewerId, a.uid), ['\\Flagged', '\\Seen'], "Alice's SET replaced shared flags, not Bob's \\Seen");
        assert.deepEqual(await flagsOf(fam.id, a.uid), ['\\Flagged', '\\Seen'], "nor the owner's");
        await store.updateFlags({ mailboxId: inbox.id, uids: [a.uid], op: 'remove', flags: ['\\Seen'], viewerId: bob.viewerId });
        assert.deepEqual(await flagsOf(bob.viewerId, a.uid), ['\\Flagged']);
        assert.deepEqual(await flagsOf(fam.id, a.uid), ['\\Flagged', '\\Seen']);
      });

      it('snapshot and counts carry the viewer\'s \\Seen', async () => {
        const rows = [await append(inbox.id, 1, ['\\Seen']), await append(inbox.id, 2), await append(inbox.id, 3, ['\\Flagged'])];
        await store.updateFlags({ mailboxId: inbox.id, uids: [rows[1].uid, rows[2].uid], op: 'add', flags: ['\\Seen'], viewerId: bob.viewerId });
        const seenIn = async (viewer: Id) => {
          const s = await store.mailboxSnapshot(inbox.id, viewer);
          return [...s.uids].filter((_, i) => s.flagSets[s.flagSet[i]].includes('\\Seen'));
        };
        assert.deepEqual(await seenIn(fam.id), [rows[0].uid]);
        assert.deepEqual(await seenIn(bob.viewerId), [rows[1].uid, rows[2].uid]);
        assert.deepEqual(await seenIn(alice.viewerId), []);
        assert.equal((await store.mailboxCounts(inbox.id, fam.id)).unseen, 2);
        assert.equal((await store.mailboxCounts(inbox.id, bob.viewerId)).unseen, 1);
        assert.equal((await store.mailboxCounts(inbox.id, alice.viewerId)).unseen, 3);
        const snapBob = await store.mailboxSnapshot(inbox.id, bob.viewerId);
        assert.ok(snapBob.flagSets[snapBob.flagSet[2]].includes('\\Flagged'), 'shared flags still show');
      });

      it("another member's \\Seen is no change for you (CONDSTORE); your own is, with a MODSEQ; shared flags are for all", async () => {
        const a = await append(inbox.id, 1);
        const base = (await store.getMailboxById(inbox.id))!.highestModSeq;
        const changed = async (viewer: Id) => (await store.changesSince(inbox.id, base, viewer)).changed.map((c) => [c.uid, c.flags.slice().sort(), c.modSeq]);
        await store.updateFlags({ mailboxId: inbox.id, uids: [a.uid], op: 'add', flags: ['\\Seen'], viewerId: fam.id }); // the owner reads
        const m1 = (await store.getMailboxById(inbox.id))!.highestModSeq;
        assert.deepEqual(await changed(bob.viewerId), [], "the owner's reading is no change for Bob");
        assert.deepEqual(await changed(fam.id), [[a.uid, ['\\Seen'], m1]]);
        await store.updateFlags({ mailboxId: inbox.id, uids: [a.uid], op: 'add', flags: ['\\Seen'], viewerId: bob.viewerId }); // Bob reads
        const m2 = (await store.getMailboxById(inbox.id))!.highestModSeq;
        assert.deepEqual(await changed(bob.viewerId), [[a.uid, ['\\Seen'], m2]]);
        assert.deepEqual(await changed(alice.viewerId), [], "Bob's reading is no change for Alice");
        assert.deepEqual(await changed(fam.id), [[a.uid, ['\\Seen'], m1]], "nor for the owner");
        // UNCHANGEDSINCE compares the MODSEQ the member sees: Bob's reading does not fail Alice's store
        const r = await store.updateFlags({ mailboxId: inbox.id, uids: [a.uid], op: 'add', flags: ['\\Answered'], unchangedSince: base, viewerId: alice.viewerId });
        assert.deepEqual(r.failed, []);
        const m3 = (await store.getMailboxById(inbox.id))!.highestModSeq;
        assert.deepEqual(await changed(alice.viewerId), [[a.uid, ['\\Answered'], m3]]);
        assert.deepEqual(await changed(bob.viewerId), [[a.uid, ['\\Answered', '\\Seen'], m3]], 'a shared flag is a change for everyone');
        const f = await store.updateFlags({ mailboxId: inbox.id, uids: [a.uid], op: 'add', flags: ['$x'], unchangedSince: m2, viewerId: bob.viewerId });
        assert.deepEqual(f.failed, [a.uid], 'the shared change after m2 fails UNCHANGEDSINCE');
      });

      it("APPEND and the Sent copy set the member's own \\Seen; COPY and MOVE keep every member's", async () => {
        const a = await append(inbox.id, 1, ['\\Seen', '\\Draft'], bob.viewerId);
        assert.deepEqual(a.flags.slice().sort(), ['\\Draft', '\\Seen']);
        assert.deepEqual(await flagsOf(bob.viewerId, a.uid), ['\\Draft', '\\Seen']);
        assert.deepEqual(await flagsOf(fam.id, a.uid), ['\\Draft']);
        const archive = (await store.getMailbox(fam.id, 'Archive'))!;
        const c = await store.copyMessages(inbox.id, [a.uid], archive.id);
        const copied = (await store.getMessages(archive.id, [c.mapping[0].to], bob.viewerId))[0];
        assert.ok(copied.flags.includes('\\Seen'), "Bob's \\Seen went with the copy");
        assert.ok(!(await store.getMessages(archive.id, [c.mapping[0].to], alice.viewerId))[0].flags.includes('\\Seen'));
        const m = await store.moveMessages(archive.id, [c.mapping[0].to], inbox.id);
        const moved = (await store.getMessages(inbox.id, [m.mapping[0].to], bob.viewerId))[0];
        assert.ok(moved.flags.includes('\\Seen'), "Bob's \\Seen went with the move");
        assert.ok(moved.modSeq <= (await store.getMailboxById(inbox.id))!.highestModSeq, 'MODSEQ of the new mailbox');
        await store.expunge(inbox.id, [a.uid, m.mapping[0].to]);
        assert.equal((await store.mailboxCounts(inbox.id, bob.viewerId)).messages, 0);
      });

      it("deleting a member drops its read state (a reused id inherits nothing)", async () => {
        const a = await append(inbox.id, 1);
        await store.updateFlags({ mailboxId: inbox.id, uids: [a.uid], op: 'add', flags: ['\\Seen'], viewerId: bob.viewerId });
        await store.deleteMember(fam.id, 'bob');
        assert.deepEqual(await flagsOf(bob.viewerId, a.uid), []);
        const again = await store.addMember(fam.id, 'bob');
        assert.deepEqual(await flagsOf(again.viewerId, a.uid), []);
      });
    });
  });
}
