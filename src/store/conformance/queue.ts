/**
 * Conformance of the outbound-queue part of the store contract: every backend runs it
 * (called from storeConformanceSuite). Leases are what keep two workers or nodes from
 * delivering one message twice, so they get the most rows here.
 *
 * Never imports: a backend, protocol code, src/mail.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError } from '../errors.js';
import { makeContent, rawMessage, type StoreHarness } from './kit.js';
import type { EnqueueRequest, Store } from '../types.js';

export function queueConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (outbound queue): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    const t0 = new Date('2030-01-01T00:00:00Z');
    const later = (ms: number) => new Date(t0.getTime() + ms);

    beforeEach(async () => {
      h = await open();
      store = h.store;
    });
    afterEach(async () => {
      await h.close();
    });

    async function enqueue(n: number | string, extra: Partial<EnqueueRequest> = {}) {
      const content = await makeContent(store, [rawMessage(n)]);
      return store.enqueueMessage({ content, from: 'alice@example.test', recipients: [{ address: 'bob@remote.test' }], nextAttemptAt: t0, ...extra });
    }

    it('enqueues with envelope, params and per-recipient DSN options; lists and gets it back', async () => {
      const e = await enqueue(1, {
        from: '',
        params: { envid: 'E1', ret: 'HDRS', requireTls: true },
        recipients: [
          { address: 'bob@remote.test', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;bob@remote.test' },
          { address: 'BOB@remote.test' }, // duplicate, different case
          { address: 'carol@other.test' },
        ],
      });
      assert.match(e.id, /^[A-Za-z0-9]+$/);
      assert.equal(e.from, '');
      assert.deepEqual(e.params, { envid: 'E1', ret: 'HDRS', requireTls: true });
      assert.deepEqual(e.recipients.map((r) => r.address), ['bob@remote.test', 'carol@other.test']);
      assert.deepEqual(e.recipients[0].notify, ['SUCCESS', 'FAILURE']);
      assert.equal(e.recipients[0].orcpt, 'rfc822;bob@remote.test');
      assert.equal(e.recipients[1].notify, undefined);
      assert.ok(e.recipients.every((r) => r.state === 'pending' && r.attempts === 0));
      assert.equal(e.nextAttemptAt.getTime(), t0.getTime());
      assert.equal(e.lease, null);
      assert.deepEqual(await store.getQueueEntry(e.id), e);
      const second = await enqueue(2);
      assert.deepEqual((await store.listQueueEntries()).map((x) => x.id), [e.id, second.id]);
      assert.equal(await store.getQueueEntry('nope'), null);
    });

    it('holds a content reference: the content outlives other references until the entry is deleted', async () => {
      const e = await enqueue('ref');
      assert.ok(await store.hasContent(e.contentId));
      assert.equal(e.size, rawMessage('ref').length);
      assert.equal((await store.stats()).messages, 0, 'a queue entry is not a message row');
      assert.equal(await store.deleteQueueEntry(e.id), true);
      assert.equal(await store.hasContent(e.contentId), false);
      assert.equal(await store.deleteQueueEntry(e.id), false);
    });

    it('claims only due, unleased entries; a lease excludes other owners until it expires', async () => {
      const a = await enqueue('a');
      const b = await enqueue('b', { nextAttemptAt: later(60_000) });
      const first = await store.claimQueueEntries('w1', t0, 10_000, 10);
      assert.deepEqual(first.map((e) => e.id), [a.id]);
      assert.deepEqual(first[0].lease, { owner: 'w1', until: later(10_000) });
      assert.deepEqual(await store.claimQueueEntries('w2', later(5_000), 10_000, 10), [], 'leased to w1');
      // w1 crashed: its lease expires and w2 gets the entry (and b, now due).
      const again = await store.claimQueueEntries('w2', later(60_000), 10_000, 10);
      assert.deepEqual(again.map((e) => e.id).sort(), [a.id, b.id].sort());
      assert.equal(await store.releaseQueueEntry(a.id, 'w1', { nextAttemptAt: later(1) }), false, 'w1 no longer holds it');
      assert.equal(await store.releaseQueueEntry(a.id, 'w2', { nextAttemptAt: later(120_000), lastError: 'timeout' }), true);
      const released = (await store.getQueueEntry(a.id))!;
      assert.equal(released.lease, null);
      assert.equal(released.attempts, 1);
      assert.equal(released.lastError, 'timeout');
      assert.equal(released.nextAttemptAt.getTime(), later(120_000).getTime());
    });

    it('respects the limit, soonest due first', async () => {
      const late = await enqueue('late', { nextAttemptAt: later(2) });
      const early = await enqueue('early', { nextAttemptAt: later(1) });
      const got = await store.claimQueueEntries('w', later(10), 1000, 1);
      assert.deepEqual(got.map((e) => e.id), [early.id]);
      assert.deepEqual((await store.claimQueueEntries('w', later(10), 1000, 5)).map((e) => e.id), [late.id]);
    });

    it('concurrent claims hand each entry to one owner only', async () => {
      for (let i = 0; i < 6; i++) await enqueue(`c${i}`);
      const claims = await Promise.all(['x', 'y', 'z'].map((o) => store.claimQueueEntries(o, t0, 60_000, 4)));
      const ids = claims.flat().map((e) => e.id);
      assert.equal(ids.length, 6);
      assert.equal(new Set(ids).size, 6);
    });

    it('records per-recipient results; a final state is never changed back', async () => {
      const e = await enqueue('r', { recipients: [{ address: 'a@r.test' }, { address: 'b@r.test' }, { address: 'c@r.test' }] });
      await store.recordQueueResults(e.id, [
        { address: 'A@r.test', state: 'delivered', status: '2.0.0', result: '250 2.0.0 ok', remoteMta: 'mx.r.test' },
        { address: 'b@r.test', state: 'failed', status: '5.1.1', result: '550 5.1.1 no such user', remoteMta: 'mx.r.test' },
        { address: 'c@r.test', state: 'pending', status: '4.2.0', result: '451 4.2.0 try later' },
      ], later(5));
      await store.recordQueueResults(e.id, [{ address: 'a@r.test', state: 'pending', result: 'late duplicate' }], later(6));
      const got = (await store.getQueueEntry(e.id))!;
      assert.deepEqual(got.recipients.map((r) => [r.state, r.status, r.attempts]), [['delivered', '2.0.0', 1], ['failed', '5.1.1', 1], ['pending', '4.2.0', 1]]);
      assert.equal(got.recipients[0].lastResult, '250 2.0.0 ok');
      assert.equal(got.recipients[0].remoteMta, 'mx.r.test');
      assert.equal(got.recipients[2].remoteMta, null);
      assert.equal(got.recipients[0].updatedAt?.getTime(), later(5).getTime());
    });

    it('a DSN owed is recorded with the final result, survives reopening, and is cleared by clearQueueDsn', async () => {
      const e = await enqueue('dsn', { recipients: [{ address: 'a@r.test' }, { address: 'b@r.test' }, { address: 'c@r.test' }] });
      assert.ok(e.recipients.every((r) => r.dsnPending === undefined));
      await store.recordQueueResults(e.id, [
        { address: 'a@r.test', state: 'failed', status: '5.1.1', result: '550 5.1.1 no', dsn: true },
        { address: 'B@r.test', state: 'delivered', status: '2.0.0', result: '250 ok', dsn: true },
        { address: 'c@r.test', state: 'pending', status: '4.0.0', result: '451 later' },
      ], later(1));
      // A late repeat for a final recipient changes nothing, not even the DSN flag.
      await store.recordQueueResults(e.id, [{ address: 'a@r.test', state: 'failed', result: 'again', dsn: false }], later(2));
      let got = (await store.getQueueEntry(e.id))!;
      assert.deepEqual(got.recipients.map((r) => r.dsnPending ?? false), [true, true, false]);
      if (h.reopen) {
        h = await h.reopen();
        store = h.store;
        got = (await store.getQueueEntry(e.id))!;
        assert.deepEqual(got.recipients.map((r) => r.dsnPending ?? false), [true, true, false], 'durable');
      }
      await store.clearQueueDsn(e.id, ['A@r.test']);
      got = (await store.getQueueEntry(e.id))!;
      assert.deepEqual(got.recipients.map((r) => r.dsnPending ?? false), [false, true, false]);
      assert.equal(got.recipients[0].state, 'failed');
      assert.equal((await store.claimQueueEntries('w', later(3), 1000, 5))[0].recipients[1].dsnPending, true, 'claims carry the flag');
      await assert.rejects(store.clearQueueDsn('missing', ['a@r.test']), (err) => isStoreError(err, 'notfound'));
    });

    it('retry makes an entry due now; delay notification time is kept', async () => {
      const e = await enqueue('d', { nextAttemptAt: later(3_600_000) });
      assert.deepEqual(await store.claimQueueEntries('w', t0, 1000, 5), []);
      assert.equal(await store.retryQueueEntry(e.id, t0), true);
      const [c] = await store.claimQueueEntries('w', t0, 1000, 5);
      assert.equal(c.id, e.id);
      assert.equal(await store.releaseQueueEntry(e.id, 'w', { nextAttemptAt: later(10), delayNotifiedAt: later(1) }), true);
      assert.equal((await store.getQueueEntry(e.id))!.delayNotifiedAt?.getTime(), later(1).getTime());
      assert.equal(await store.retryQueueEntry('missing', t0), false);
    });

    it('survives reopening', async (t) => {
      if (!h.reopen) return t.skip('backend has no reopen');
      const e = await enqueue('p');
      await store.claimQueueEntries('w', t0, 1000, 1);
      h = await h.reopen();
      store = h.store;
      const got = (await store.getQueueEntry(e.id))!;
      assert.equal(got.lease?.owner, 'w');
      assert.ok(await store.hasContent(got.contentId));
    });

    const bad: [string, (s: Store) => Promise<unknown>][] = [
      ['no recipients', async (s) => s.enqueueMessage({ content: await makeContent(s, [rawMessage('x')]), from: 'a@b.test', recipients: [] })],
      ['recipient without @', async (s) => s.enqueueMessage({ content: await makeContent(s, [rawMessage('x')]), from: 'a@b.test', recipients: [{ address: 'bob' }] })],
      ['bad NOTIFY', async (s) => s.enqueueMessage({ content: await makeContent(s, [rawMessage('x')]), from: 'a@b.test', recipients: [{ address: 'b@c.test', notify: ['SOMETIMES' as never] }] })],
      ['vanished content', (s) => s.enqueueMessage({ content: { id: 'a'.repeat(64), existing: true }, from: '', recipients: [{ address: 'b@c.test' }] })],
      ['claim with zero lease', (s) => s.claimQueueEntries('w', t0, 0, 1)],
      ['record for a missing entry', (s) => s.recordQueueResults('missing', [], t0)],
    ];
    const codes = ['invalid', 'invalid', 'invalid', 'notfound', 'invalid', 'notfound'];
    bad.forEach(([name, run], i) =>
      it(`${name} → ${codes[i]}`, () => assert.rejects(run(store), (e) => isStoreError(e, codes[i] as never))),
    );
  });
}
