/**
 * Conformance of the maintained mailbox counters (`Store.mailboxCounts`, the mailbox row's
 * messageCount/totalSize): every write path keeps them in the same transaction as the rows,
 * so after any sequence of APPEND, STORE, EXPUNGE, COPY and MOVE they must equal a count of
 * the rows themselves. Every backend runs it (called from storeConformanceSuite).
 *
 * Never imports: a backend, protocol code, the counters' own implementation (the oracle
 * counts listMessages here).
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeContent, rawMessage, type StoreHarness } from './kit.js';
import type { FlagOp, Id, Mailbox, Store, Uid, User } from '../types.js';

/** Flags that matter to the counters, and near-misses that must not count. */
const FLAGS = ['\\Seen', '\\Deleted', '\\Flagged', 'Seen', '$Deleted', 'NotSeen'];

type Step =
  | { kind: 'append'; box: number; flags: string[]; body: number }
  | { kind: 'store'; box: number; pick: number[]; op: FlagOp; flags: string[] }
  | { kind: 'expunge'; box: number; pick: number[] }
  | { kind: 'copy' | 'move'; box: number; pick: number[] };

const flagsArb = fc.subarray(FLAGS);
const pickArb = fc.array(fc.nat(40), { minLength: 1, maxLength: 4 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), box: fc.nat(1), flags: flagsArb, body: fc.nat(2000) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('store' as const), box: fc.nat(1), pick: pickArb, op: fc.constantFrom<FlagOp>('add', 'remove', 'set'), flags: flagsArb }) },
  fc.record({ kind: fc.constant('expunge' as const), box: fc.nat(1), pick: pickArb }),
  fc.record({ kind: fc.constantFrom('copy' as const, 'move' as const), box: fc.nat(1), pick: pickArb }),
);

export function countsConformanceSuite(backendName: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance (mailbox counters): ${backendName}`, () => {
    let h: StoreHarness;
    let store: Store;
    let alice: User;
    let bob: User;
    let runs = 0;

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

    /** The counts recomputed from the rows as `viewerId` sees them. */
    async function recount(mailboxId: Id, viewerId: Id) {
      const rows = await store.listMessages(mailboxId, viewerId);
      return {
        messages: rows.length,
        unseen: rows.filter((r) => !r.flags.includes('\\Seen')).length,
        deleted: rows.filter((r) => r.flags.includes('\\Deleted')).length,
        size: rows.reduce((sum, r) => sum + r.size, 0),
      };
    }

    async function assertCounts(boxes: Mailbox[], after: string): Promise<void> {
      for (const b of boxes) {
        const want = await recount(b.id, alice.id);
        assert.deepEqual(await store.mailboxCounts(b.id, alice.id), want, `${b.name} after ${after}`);
        assert.deepEqual(await store.mailboxCounts(b.id, bob.id), await recount(b.id, bob.id), `${b.name} as another viewer after ${after}`);
        const row = (await store.getMailboxById(b.id))!;
        assert.deepEqual([row.messageCount, row.totalSize], [want.messages, want.size], `${b.name} row after ${after}`);
      }
    }

    it('equal a recount of the rows after random APPEND, STORE, EXPUNGE, COPY and MOVE (property)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 25 }), async (steps) => {
          const run = runs++;
          const boxes = [await store.createMailbox(alice.id, `a${run}`), await store.createMailbox(alice.id, `b${run}`)];
          let n = 0;
          for (const step of steps) {
            const box = boxes[step.box];
            const other = boxes[1 - step.box];
            const present = (await store.listMessages(box.id, alice.id)).map((r) => r.uid);
            const chosen = step.kind === 'append' ? [] : [...new Set(step.pick.map((p) => present[p % Math.max(1, present.length)]).filter((u): u is Uid => u !== undefined))];
            if (step.kind === 'append') {
              // Some bodies repeat, so contents are shared between rows and mailboxes.
              const content = await makeContent(store, [rawMessage(`c${step.body % 7}`, 'x'.repeat(step.body))]);
              await store.appendMessage({ mailboxId: box.id, content, flags: step.flags });
            } else if (chosen.length === 0) {
              continue;
            } else if (step.kind === 'store') {
              await store.updateFlags({ mailboxId: box.id, uids: chosen, op: step.op, flags: step.flags, viewerId: alice.id });
            } else if (step.kind === 'expunge') {
              await store.expunge(box.id, chosen);
            } else if (step.kind === 'copy') {
              await store.copyMessages(box.id, chosen, other.id);
            } else {
              await store.moveMessages(box.id, chosen, other.id);
            }
            await assertCounts(boxes, `step ${n++} ${JSON.stringify(step)}`);
          }
          const q = await store.checkQuota(alice.id, false);
          assert.deepEqual(q.recorded, q.actual, 'the quota counters equal a recount of the rows');
        }),
        { numRuns: 30 },
      );
    });
  });
}
