/**
 * Conformance of URLAUTH mailbox access keys (RFC 4467 2.2): made once on first use, per
 * user per mailbox, replaced or dropped by RESETKEY, gone with the mailbox and the user.
 * Every backend runs it (called from storeConformanceSuite).
 *
 * Never imports: a backend, protocol code, src/mail.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError, type StoreErrorCode } from '../errors.js';
import type { StoreHarness } from './kit.js';
import type { Mailbox, Store, User } from '../types.js';

async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  await assert.rejects(p, (e) => isStoreError(e) && e.code === code);
}

export function urlAuthKeysConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (URLAUTH keys): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let ann: User;
    let bob: User;
    let inbox: Mailbox;
    let drafts: Mailbox;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.addDomain('example.test');
      ann = await store.addUser('ann@example.test', 'hash-a', [{ name: 'INBOX', specialUse: null }, { name: 'Drafts', specialUse: '\\Drafts' }]);
      bob = await store.addUser('bob@example.test', 'hash-b', [{ name: 'INBOX', specialUse: null }]);
      inbox = (await store.getMailbox(ann.id, 'INBOX'))!;
      drafts = (await store.getMailbox(ann.id, 'Drafts'))!;
    });
    afterEach(async () => {
      await h.close();
    });

    it('made once on first use, at least 128 random bits, one per mailbox', async () => {
      assert.equal(await store.getUrlAuthKey(ann.id, inbox.id), null);
      const key = await store.ensureUrlAuthKey(ann.id, inbox.id);
      assert.ok(Buffer.isBuffer(key));
      assert.ok(key.length >= 16);
      assert.deepEqual(await store.ensureUrlAuthKey(ann.id, inbox.id), key, 'a second call keeps the key');
      assert.deepEqual(await store.getUrlAuthKey(ann.id, inbox.id), key);
      const other = await store.ensureUrlAuthKey(ann.id, drafts.id);
      assert.notDeepEqual(other, key);
      const concurrent = await Promise.all([1, 2, 3].map(() => store.ensureUrlAuthKey(ann.id, (drafts as Mailbox).id)));
      for (const k of concurrent) assert.deepEqual(k, other);
    });

    it("RESETKEY mailbox replaces that key only; RESETKEY alone drops all of the user's", async () => {
      const k1 = await store.ensureUrlAuthKey(ann.id, inbox.id);
      const d1 = await store.ensureUrlAuthKey(ann.id, drafts.id);
      await store.resetUrlAuthKeys(ann.id, inbox.id);
      const k2 = await store.getUrlAuthKey(ann.id, inbox.id);
      assert.ok(k2 && k2.length === k1.length);
      assert.notDeepEqual(k2, k1);
      assert.deepEqual(await store.getUrlAuthKey(ann.id, drafts.id), d1);
      const bobInbox = (await store.getMailbox(bob.id, 'INBOX'))!;
      const b = await store.ensureUrlAuthKey(bob.id, bobInbox.id);
      await store.resetUrlAuthKeys(ann.id, null);
      assert.equal(await store.getUrlAuthKey(ann.id, inbox.id), null);
      assert.equal(await store.getUrlAuthKey(ann.id, drafts.id), null);
      assert.deepEqual(await store.getUrlAuthKey(bob.id, bobInbox.id), b, "another user's keys stay");
      await store.resetUrlAuthKeys(ann.id, drafts.id);
      assert.ok(await store.getUrlAuthKey(ann.id, drafts.id), 'RESETKEY of a mailbox without a key makes one');
    });

    it("a mailbox not the user's is notfound; keys go with the mailbox and the user", async () => {
      await rejectsWith(store.ensureUrlAuthKey(bob.id, inbox.id), 'notfound');
      await rejectsWith(store.resetUrlAuthKeys(bob.id, inbox.id), 'notfound');
      await rejectsWith(store.ensureUrlAuthKey(ann.id, 999_999), 'notfound');
      assert.equal(await store.getUrlAuthKey(bob.id, inbox.id), null);
      const old = await store.ensureUrlAuthKey(ann.id, drafts.id);
      await store.deleteMailbox(ann.id, 'Drafts');
      const again = await store.createMailbox(ann.id, 'Drafts');
      assert.equal(await store.getUrlAuthKey(ann.id, again.id), null, 'a new mailbox of the same name has no key');
      assert.notDeepEqual(await store.ensureUrlAuthKey(ann.id, again.id), old);
      await store.ensureUrlAuthKey(ann.id, inbox.id);
      await store.deleteUser('ann@example.test');
      assert.equal(await store.getUrlAuthKey(ann.id, inbox.id), null);
    });
  });
}
