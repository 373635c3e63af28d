/**
 * Conformance of METADATA entries (RFC 5464 annotations): private per viewer, shared per
 * account, on mailboxes and the server, depth, limits, and what happens on RENAME and
 * DELETE. Every backend runs it (called from storeConformanceSuite).
 *
 * Never imports: a backend, protocol code, src/mail.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError, type StoreErrorCode } from '../errors.js';
import type { StoreHarness } from './kit.js';
import type { Mailbox, MetadataEntry, MetadataScope, Store, User } from '../types.js';

async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  await assert.rejects(p, (e) => isStoreError(e) && e.code === code);
}

const LIMITS = { maxValueSize: 100, maxEntries: 4 };
const v = (s: string) => Buffer.from(s);
const shown = (entries: MetadataEntry[]) => entries.map((e) => `${e.name}=${e.value.toString('latin1')}`);

export function metadataConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (METADATA): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let fam: User;
    let inbox: Mailbox;
    let owner: MetadataScope;
    let server: MetadataScope;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.addDomain('example.test');
      fam = await store.addUser('family@example.test', 'hash-f', [{ name: 'Archive', specialUse: '\\Archive' }]);
      inbox = (await store.getMailbox(fam.id, 'INBOX'))!;
      owner = { userId: fam.id, viewerId: fam.id, mailboxId: inbox.id };
      server = { userId: fam.id, viewerId: fam.id, mailboxId: null };
    });
    afterEach(async () => {
      await h.close();
    });

    it('set, get (names case-insensitive, lower-cased), replace, remove; binary values kept', async () => {
      assert.equal(await store.setMetadata(owner, [{ name: '/Private/Comment', value: v('mine') }, { name: '/shared/comment', value: Buffer.from([0, 1, 255]) }], LIMITS), 'ok');
      const got = await store.getMetadata(owner, ['/private/comment', '/SHARED/comment', '/shared/none'], 0);
      assert.deepEqual(got.map((e) => e.name), ['/private/comment', '/shared/comment']);
      assert.ok(Buffer.isBuffer(got[1].value));
      assert.deepEqual([...got[1].value], [0, 1, 255]);
      await store.setMetadata(owner, [{ name: '/private/comment', value: v('changed') }], LIMITS);
      assert.deepEqual(shown(await store.getMetadata(owner, ['/private/comment'], 0)), ['/private/comment=changed']);
      await store.setMetadata(owner, [{ name: '/private/comment', value: null }, { name: '/private/never', value: null }], LIMITS);
      assert.deepEqual(await store.getMetadata(owner, ['/private/comment'], 0), []);
      assert.deepEqual(await store.getMetadata(server, ['/shared/comment'], 0), [], 'mailbox entries are not server entries');
    });

    it('depth 0, 1 and infinity', async () => {
      await store.setMetadata(server, ['/shared/a', '/shared/a/b', '/shared/a/b/c', '/shared/ab', '/private/a/x'].map((name) => ({ name, value: v(name) })), { maxValueSize: 100, maxEntries: 10 });
      assert.deepEqual((await store.getMetadata(server, ['/shared/a'], 0)).map((e) => e.name), ['/shared/a']);
      assert.deepEqual((await store.getMetadata(server, ['/shared/a'], 1)).map((e) => e.name), ['/shared/a', '/shared/a/b']);
      assert.deepEqual((await store.getMetadata(server, ['/shared/a'], 'infinity')).map((e) => e.name), ['/shared/a', '/shared/a/b', '/shared/a/b/c']);
      assert.deepEqual((await store.getMetadata(server, ['/shared'], 1)).map((e) => e.name), ['/shared/a', '/shared/ab']);
      assert.deepEqual((await store.getMetadata(server, ['/private', '/shared/a/b'], 'infinity')).map((e) => e.name), ['/private/a/x', '/shared/a/b', '/shared/a/b/c']);
    });

    it('private entries per member, shared entries per account; a deleted member takes its entries', async () => {
      const bob = await store.addMember(fam.id, 'bob');
      const asBob = { ...owner, viewerId: bob.viewerId };
      await store.setMetadata(owner, [{ name: '/private/colour', value: v('red') }, { name: '/shared/comment', value: v('family') }], LIMITS);
      await store.setMetadata(asBob, [{ name: '/private/colour', value: v('blue') }], LIMITS);
      assert.deepEqual(shown(await store.getMetadata(asBob, ['/private/colour', '/shared/comment'], 0)), ['/private/colour=blue', '/shared/comment=family']);
      assert.deepEqual(shown(await store.getMetadata(owner, ['/private/colour'], 0)), ['/private/colour=red']);
      const other = await store.addUser('other@example.test', 'h', []);
      const otherInbox = (await store.getMailbox(other.id, 'INBOX'))!;
      assert.deepEqual(await store.getMetadata({ userId: other.id, viewerId: other.id, mailboxId: null }, ['/shared'], 'infinity'), []);
      await rejectsWith(store.getMetadata({ ...owner, mailboxId: otherInbox.id }, ['/shared'], 0), 'notfound');
      await store.deleteMember(fam.id, 'bob');
      const again = await store.addMember(fam.id, 'bob2');
      assert.deepEqual(await store.getMetadata({ ...owner, viewerId: again.viewerId }, ['/private'], 'infinity'), []);
      assert.deepEqual(shown(await store.getMetadata(owner, ['/private/colour'], 0)), ['/private/colour=red']);
    });

    it('limits: value size (invalid) and entry count (toomany, nothing changed); bad names are invalid', async () => {
      await rejectsWith(store.setMetadata(owner, [{ name: '/private/big', value: Buffer.alloc(101) }], LIMITS), 'invalid');
      await store.setMetadata(owner, [1, 2, 3].map((n) => ({ name: `/private/e${n}`, value: v('x') })), LIMITS);
      assert.equal(await store.setMetadata(owner, [{ name: '/shared/e4', value: v('x') }, { name: '/shared/e5', value: v('x') }], LIMITS), 'toomany');
      assert.deepEqual((await store.getMetadata(owner, ['/shared'], 'infinity')).length, 0, 'all or nothing');
      assert.equal(await store.setMetadata(owner, [{ name: '/private/e1', value: null }, { name: '/shared/e4', value: v('x') }, { name: '/shared/e5', value: v('x') }], LIMITS), 'ok');
      assert.equal(await store.setMetadata(owner, [{ name: '/private/e2', value: v('replaced') }], LIMITS), 'ok', 'a replacement adds nothing');
      for (const name of ['/private', '/shared', 'private/x', '/other/x', '/private/a//b', '/private/a/', '/private/a*', '/private/%', '/private/ü', '/private/a\x01']) {
        await rejectsWith(store.setMetadata(owner, [{ name, value: v('x') }], LIMITS), 'invalid');
      }
      await rejectsWith(store.getMetadata(owner, ['/private/*'], 0), 'invalid');
    });

    it('entries stay with a renamed mailbox and go with a deleted one or a deleted user', async () => {
      const box = await store.createMailbox(fam.id, 'Projects');
      await store.setMetadata({ ...owner, mailboxId: box.id }, [{ name: '/shared/comment', value: v('work') }], LIMITS);
      await store.renameMailbox(fam.id, 'Projects', 'Work');
      assert.deepEqual(shown(await store.getMetadata({ ...owner, mailboxId: box.id }, ['/shared/comment'], 0)), ['/shared/comment=work']);
      await store.deleteMailbox(fam.id, 'Work');
      const again = await store.createMailbox(fam.id, 'Work');
      assert.deepEqual(await store.getMetadata({ ...owner, mailboxId: again.id }, ['/shared'], 'infinity'), []);
      await rejectsWith(store.getMetadata({ ...owner, mailboxId: box.id }, ['/shared'], 0), 'notfound');
      await store.setMetadata(server, [{ name: '/private/x', value: v('1') }], LIMITS);
      await store.deleteUser('family@example.test');
      const reborn = await store.addUser('family@example.test', 'h', []);
      assert.deepEqual(await store.getMetadata({ userId: reborn.id, viewerId: reborn.id, mailboxId: null }, ['/private'], 'infinity'), []);
    });
  });
}
