/**
 * Conformance of mailbox sharing (RFC 4314 ACL rules in store/core/acl.ts): entries per
 * mailbox and grantee, the owner's implicit rights, `anyone`, +/- changes, the rows
 * following a rename and going with a deleted mailbox or user, and a grantee's private
 * `\Seen` (granteeViewerId). Every backend runs it (called from storeConformanceSuite).
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeContent, rawMessage, type StoreHarness } from './kit.js';
import { ALL_RIGHTS, granteeViewerId, type Mailbox, type Store, type User } from '../types.js';
import { isStoreError } from '../errors.js';

export function aclConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (sharing, RFC 4314): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let alice: User;
    let bob: User;
    let carol: User;
    let projects: Mailbox;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.addDomain('example.test');
      alice = await store.addUser('alice@example.test', 'hash-a', [{ name: 'INBOX', specialUse: null }]);
      bob = await store.addUser('bob@example.test', 'hash-b', [{ name: 'INBOX', specialUse: null }]);
      carol = await store.addUser('carol@example.test', 'hash-c', [{ name: 'INBOX', specialUse: null }]);
      projects = await store.createMailbox(alice.id, 'Projects');
    });
    afterEach(async () => {
      await h.close();
    });

    it('grants, changes and removes rights; the owner has them all without an entry', async () => {
      assert.equal(await store.rightsOn(projects.id, alice.id), ALL_RIGHTS);
      assert.equal(await store.rightsOn(projects.id, bob.id), '');
      assert.equal(await store.setAcl({ mailboxId: projects.id, identifier: 'Bob@Example.test', mode: 'set', rights: 'rl' }), 'lr', 'canonical order, address case-insensitive');
      assert.equal(await store.setAcl({ mailboxId: projects.id, identifier: 'bob@example.test', mode: 'add', rights: 'sw' }), 'lrsw');
      assert.equal(await store.setAcl({ mailboxId: projects.id, identifier: 'bob@example.test', mode: 'remove', rights: 'wx' }), 'lrs');
      assert.deepEqual(await store.getAcl(projects.id), [{ mailboxId: projects.id, ownerId: alice.id, grantee: 'bob@example.test', granteeId: bob.id, rights: 'lrs' }]);
      assert.equal(await store.rightsOn(projects.id, bob.id), 'lrs');
      assert.equal(await store.rightsOn(projects.id, carol.id), '', 'an entry for bob is nothing for carol');
      assert.equal(await store.setAcl({ mailboxId: projects.id, identifier: 'bob@example.test', mode: 'remove', rights: ALL_RIGHTS }), '');
      assert.deepEqual(await store.getAcl(projects.id), [], 'an entry without rights is gone');
    });

    it('anyone: the union with a personal entry, and sharedWith tells them apart', async () => {
      const inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
      await store.setAcl({ mailboxId: projects.id, identifier: 'anyone', mode: 'set', rights: 'l' });
      await store.setAcl({ mailboxId: projects.id, identifier: 'bob@example.test', mode: 'set', rights: 'r' });
      await store.setAcl({ mailboxId: inbox.id, identifier: 'anyone', mode: 'set', rights: 'lr' });
      assert.equal(await store.rightsOn(projects.id, bob.id), 'lr');
      assert.equal(await store.rightsOn(projects.id, carol.id), 'l');
      assert.deepEqual((await store.getAcl(projects.id)).map((e) => [e.grantee, e.rights]), [['anyone', 'l'], ['bob@example.test', 'r']]);
      assert.deepEqual(await store.sharedWith(bob.id), [
        { mailboxId: inbox.id, name: 'INBOX', ownerId: alice.id, owner: 'alice@example.test', rights: 'lr', personal: false },
        { mailboxId: projects.id, name: 'Projects', ownerId: alice.id, owner: 'alice@example.test', rights: 'lr', personal: true },
      ]);
      assert.deepEqual(await store.sharedWith(alice.id), [], 'her own mailboxes are not shared with her');
    });

    it('refuses the owner as grantee, unknown rights, unknown users and mailboxes', async () => {
      const refused = async (p: Promise<unknown>, code: 'invalid' | 'notfound') => assert.ok(await p.then(() => false, (e) => isStoreError(e, code)), code);
      await refused(store.setAcl({ mailboxId: projects.id, identifier: 'alice@example.test', mode: 'set', rights: 'l' }), 'invalid');
      await refused(store.setAcl({ mailboxId: projects.id, identifier: 'bob@example.test', mode: 'set', rights: 'lz' }), 'invalid');
      await refused(store.setAcl({ mailboxId: projects.id, identifier: 'nobody@example.test', mode: 'set', rights: 'l' }), 'notfound');
      await refused(store.setAcl({ mailboxId: 999_999, identifier: 'bob@example.test', mode: 'set', rights: 'l' }), 'notfound');
      assert.deepEqual(await store.getAcl(projects.id), []);
    });

    it('entries follow a rename and go with a deleted mailbox or grantee', async () => {
      await store.setAcl({ mailboxId: projects.id, identifier: 'bob@example.test', mode: 'set', rights: 'lr' });
      await store.setAcl({ mailboxId: projects.id, identifier: 'carol@example.test', mode: 'set', rights: 'lr' });
      await store.renameMailbox(alice.id, 'Projects', 'Work');
      assert.deepEqual((await store.sharedWith(bob.id)).map((s) => s.name), ['Work']);
      await store.deleteUser('carol@example.test');
      assert.deepEqual((await store.getAcl(projects.id)).map((e) => e.grantee), ['bob@example.test']);
      await store.deleteMailbox(alice.id, 'Work');
      assert.deepEqual(await store.sharedWith(bob.id), []);
      const again = await store.createMailbox(alice.id, 'Work');
      assert.equal(await store.rightsOn(again.id, bob.id), '', 'a new mailbox of the same name is not shared');
    });

    it("a grantee's \\Seen is his own: neither the owner's nor another grantee's", async () => {
      await store.setAcl({ mailboxId: projects.id, identifier: 'bob@example.test', mode: 'set', rights: 'lrs' });
      const content = await makeContent(store, [rawMessage(1)]);
      const { row } = await store.appendMessage({ mailboxId: projects.id, content });
      const bobView = granteeViewerId(bob.id);
      await store.updateFlags({ mailboxId: projects.id, uids: [row.uid], op: 'add', flags: ['\\Seen', '$Work'], viewerId: bobView });
      assert.deepEqual((await store.getMessages(projects.id, [row.uid], bobView))[0].flags.sort(), ['$Work', '\\Seen']);
      assert.deepEqual((await store.getMessages(projects.id, [row.uid], alice.id))[0].flags, ['$Work'], "bob's reading is not alice's");
      assert.deepEqual((await store.getMessages(projects.id, [row.uid], granteeViewerId(carol.id)))[0].flags, ['$Work']);
      await store.updateFlags({ mailboxId: projects.id, uids: [row.uid], op: 'add', flags: ['\\Seen'], viewerId: alice.id });
      await store.updateFlags({ mailboxId: projects.id, uids: [row.uid], op: 'remove', flags: ['\\Seen'], viewerId: bobView });
      assert.deepEqual((await store.getMessages(projects.id, [row.uid], alice.id))[0].flags.sort(), ['$Work', '\\Seen']);
      assert.equal((await store.mailboxCounts(projects.id, bobView)).unseen, 1);
      assert.equal((await store.mailboxCounts(projects.id, alice.id)).unseen, 0);
      await store.updateFlags({ mailboxId: projects.id, uids: [row.uid], op: 'add', flags: ['\\Seen'], viewerId: bobView });
      await store.deleteUser('bob@example.test');
      const snap = await store.mailboxSnapshot(projects.id, bobView);
      assert.deepEqual(snap.flagSets[snap.flagSet[0]], ['$Work'], 'his private \\Seen went with his account');
    });
  });
}
