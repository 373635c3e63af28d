/**
 * Conformance of failed logins and login origins (who uses what, the new-device notice):
 * every backend runs it (called from storeConformanceSuite).
 *
 * Never imports: a backend, protocol code, src/mail.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError } from '../errors.js';
import type { StoreHarness } from './kit.js';
import type { NewFailedLogin, Store, User } from '../types.js';

export function loginEventsConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (failed logins, login origins): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let fam: User;
    let other: User;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.addDomain('example.test');
      fam = await store.addUser('family@example.test', 'hash-f', []);
      other = await store.addUser('other@example.test', 'hash-o', []);
    });
    afterEach(async () => {
      await h.close();
    });

    const failure = (n: number, over: Partial<NewFailedLogin> = {}): NewFailedLogin => ({
      at: new Date(1_700_000_000_000 + n * 1000), userId: fam.id, username: 'family@example.test', protocol: 'imap',
      address: `192.0.2.${n % 250}`, device: null, reason: 'invalid', ...over,
    });

    it('keeps the newest 20 failed logins per account, newest first, with every field', async () => {
      for (let n = 1; n <= 25; n++) await store.recordFailedLogin(failure(n));
      await store.recordFailedLogin(failure(99, { userId: other.id, username: 'other@example.test', device: 'Phone', reason: 'protocol', protocol: 'pop3' }));
      const list = await store.listFailedLogins(fam.id);
      assert.equal(list.length, 20);
      assert.deepEqual(list.map((f) => f.address), Array.from({ length: 20 }, (_, i) => `192.0.2.${25 - i}`));
      assert.deepEqual(list[0], { userId: fam.id, at: new Date(1_700_000_025_000), username: 'family@example.test', protocol: 'imap', address: '192.0.2.25', device: null, reason: 'invalid' });
      const [o] = await store.listFailedLogins(other.id);
      assert.equal(o.device, 'Phone');
      assert.equal(o.reason, 'protocol');
      assert.equal((await store.listFailedLogins(fam.id, 3)).length, 3);
    });

    it('keeps a bounded list for names that are no account; null lists every recent failure', async () => {
      for (let n = 1; n <= 205; n++) await store.recordFailedLogin(failure(n, { userId: null, username: `guess${n}@example.test` }));
      await store.recordFailedLogin(failure(300));
      const all = await store.listFailedLogins(null, 1000);
      assert.equal(all.filter((f) => f.userId === null).length, 200);
      assert.equal(all[0].userId, fam.id);
      assert.equal(all[1].username, 'guess205@example.test');
      assert.equal(all.at(-1)!.username, 'guess6@example.test');
    });

    it('clips hostile text and refuses a bad date or limit', async () => {
      await store.recordFailedLogin(failure(1, { username: 'x'.repeat(5000), address: 'a'.repeat(500) }));
      const [f] = await store.listFailedLogins(fam.id);
      assert.equal(f.username.length, 320);
      assert.equal(f.address.length, 100);
      await assert.rejects(store.recordFailedLogin(failure(1, { at: new Date(NaN) })), (e) => isStoreError(e, 'invalid'));
      await assert.rejects(store.listFailedLogins(fam.id, 0), (e) => isStoreError(e, 'invalid'));
    });

    it('a login origin is new once; the account\'s first origin says so', async () => {
      const at = new Date();
      assert.deepEqual(await store.noteLoginOrigin(fam.id, 'address:192.0.2.1', at), { isNew: true, firstForAccount: true });
      assert.deepEqual(await store.noteLoginOrigin(fam.id, 'address:192.0.2.1', at), { isNew: false, firstForAccount: false });
      assert.deepEqual(await store.noteLoginOrigin(fam.id, 'device:7', at), { isNew: true, firstForAccount: false });
      assert.deepEqual(await store.noteLoginOrigin(other.id, 'device:7', at), { isNew: true, firstForAccount: true });
      const both = await Promise.all([store.noteLoginOrigin(fam.id, 'address:198.51.100.9', at), store.noteLoginOrigin(fam.id, 'address:198.51.100.9', at)]);
      assert.equal(both.filter((r) => r.isNew).length, 1, 'two concurrent first logins: one is new');
      await assert.rejects(store.noteLoginOrigin(424242, 'device:1', at), (e) => isStoreError(e, 'notfound'));
      await assert.rejects(store.noteLoginOrigin(fam.id, '', at), (e) => isStoreError(e, 'invalid'));
    });

    it('deleting a user removes its failed logins and origins', async () => {
      await store.recordFailedLogin(failure(1));
      await store.noteLoginOrigin(fam.id, 'address:192.0.2.1', new Date());
      await store.deleteUser('family@example.test');
      assert.equal((await store.listFailedLogins(null, 100)).length, 0);
      const again = await store.addUser('family@example.test', 'hash-f2', []);
      assert.deepEqual(await store.noteLoginOrigin(again.id, 'address:192.0.2.1', new Date()), { isNew: true, firstForAccount: true });
    });
  });
}
