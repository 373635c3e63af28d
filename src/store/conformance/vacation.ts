/**
 * Conformance of the vacation-reply memory (`claimVacationReply`, `clearVacationReplies`):
 * one reply per sender per interval, case-insensitive, per user, and exactly one winner when
 * many deliveries claim at once. Every backend runs it (called from storeConformanceSuite).
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreHarness } from './kit.js';
import type { Store, User } from '../types.js';

const DAY = 86_400_000;

export function vacationConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (vacation replies): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let alice: User;
    let bob: User;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.addDomain('example.test');
      alice = await store.addUser('alice@example.test', 'hash-a', []);
      bob = await store.addUser('bob@example.test', 'hash-b', []);
    });
    afterEach(async () => {
      await h.close();
    });

    it('answers a sender once per interval, case-insensitively, separately per user', async () => {
      const t0 = new Date('2026-11-29T08:00:00Z');
      assert.equal(await store.claimVacationReply(alice.id, 'Sender@Example.NET', t0, 7 * DAY), true);
      assert.equal(await store.claimVacationReply(alice.id, 'sender@example.net', new Date(t0.getTime() + DAY), 7 * DAY), false);
      assert.equal(await store.claimVacationReply(bob.id, 'sender@example.net', t0, 7 * DAY), true, 'another user answers on its own');
      assert.equal(await store.claimVacationReply(alice.id, 'other@example.net', t0, 7 * DAY), true);
      assert.equal(await store.claimVacationReply(alice.id, 'sender@example.net', new Date(t0.getTime() + 7 * DAY), 7 * DAY), true, 'after the interval, again');
      assert.equal(await store.claimVacationReply(alice.id, 'sender@example.net', new Date(t0.getTime() + 8 * DAY), 7 * DAY), false);
      await store.clearVacationReplies(alice.id);
      assert.equal(await store.claimVacationReply(alice.id, 'sender@example.net', new Date(t0.getTime() + 8 * DAY), 7 * DAY), true, 'a new vacation answers everyone again');
      assert.equal(await store.claimVacationReply(bob.id, 'sender@example.net', new Date(t0.getTime() + DAY), 7 * DAY), false, "bob's memory is kept");
    });

    it('many claims at once for a new sender: exactly one wins', async () => {
      const now = new Date();
      const wins = await Promise.all(Array.from({ length: 8 }, () => store.claimVacationReply(alice.id, 'race@example.net', now, DAY)));
      assert.equal(wins.filter(Boolean).length, 1);
    });

    it('an unknown user never claims; a deleted user takes its memory along', async () => {
      assert.equal(await store.claimVacationReply(999_999, 'x@example.net', new Date(), DAY), false);
      assert.equal(await store.claimVacationReply(bob.id, 'x@example.net', new Date(), DAY), true);
      await store.deleteUser('bob@example.test');
      const again = await store.addUser('bob@example.test', 'hash-b', []);
      assert.equal(await store.claimVacationReply(again.id, 'x@example.net', new Date(), DAY), true);
    });

    it('refuses a missing sender', async () => {
      await assert.rejects(store.claimVacationReply(alice.id, '', new Date(), DAY), (e: Error & { code?: string }) => e.code === 'invalid');
    });
  });
}
