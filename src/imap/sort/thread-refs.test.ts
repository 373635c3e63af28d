import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatThreads, threadIdsOf, threadReferences, type ThreadFacts } from './thread.js';
import { threadRefs } from './thread-refs.js';

const m = (id: number, sentDate: number, subject: string, messageId: string | null, references: string | null = null): ThreadFacts => ({
  id, sentDate, ...threadIdsOf(subject, messageId, null, references),
});

test('REFS: no subject grouping, threads by their latest message, ties as Dovecot', () => {
  const rows: [string, ThreadFacts[], string][] = [
    ['the thread with the newest reply goes last', [m(1, 10, 'a', '<1@x>'), m(2, 20, 'b', '<2@x>'), m(3, 30, 'Re: a', '<3@x>', '<1@x>')], '(2)(1 3)'],
    ['same subject, no references: two threads', [m(1, 10, 'Plan', '<1@x>'), m(2, 20, 'Re: Plan', '<2@x>')], '(1)(2)'],
    ['equal latest dates: the lower root number first', [m(1, 10, 'a', '<1@x>'), m(2, 50, 'b', '<2@x>'), m(3, 50, 'c', '<3@x>', '<1@x>')], '(1 3)(2)'],
    ['a dummy root counts as 0 even when its one child replaces it', [m(1, 50, 'a', '<1@x>'), m(2, 50, 'b', '<2@x>', '<gone@x>'), m(3, 50, 'c', '<3@x>', '<gone@x> <2@x>')], '(2 3)(1)'],
    ['a dummy root with two children stays', [m(2, 5, 'b', '<2@x>', '<gone@x>'), m(3, 6, 'c', '<3@x>', '<gone@x>'), m(1, 1, 'a', '<1@x>')], '(1)((2)(3))'],
    ['children by sent date', [m(1, 1, 'a', '<1@x>'), m(2, 9, 'b', '<2@x>', '<1@x>'), m(3, 5, 'c', '<3@x>', '<1@x>')], '(1 (3)(2))'],
    ['nothing', [], ''],
  ];
  for (const [what, msgs, want] of rows) assert.equal(formatThreads(threadRefs(msgs)), want, what);
});

test('REFS and REFERENCES agree on who is whose parent when subjects differ (property)', () => {
  const arb = fc.array(fc.record({ date: fc.integer({ min: 0, max: 5 }), parent: fc.integer({ min: 0, max: 8 }) }), { maxLength: 8 });
  fc.assert(
    fc.property(arb, (spec) => {
      const msgs = spec.map((s, i) => m(i + 1, s.date, `subject ${i + 1}`, `<${i + 1}@x>`, s.parent > 0 && s.parent !== i + 1 ? `<${s.parent}@x>` : null));
      const pairs = (roots: ReturnType<typeof threadRefs>) => {
        const out: string[] = [];
        const walk = (n: (typeof roots)[number], parent: number | null) => {
          if (n.msg) out.push(`${parent}>${n.msg.id}`);
          for (const k of n.children) walk(k, n.msg?.id ?? parent);
        };
        for (const r of roots) walk(r, null);
        return out.sort();
      };
      assert.deepEqual(pairs(threadRefs(msgs)), pairs(threadReferences(msgs)));
      assert.equal(threadRefs(msgs).reduce((n, r) => n + count(r), 0), msgs.length, 'every message once');
    }),
    { numRuns: 500 },
  );
});

function count(n: { msg: unknown; children: { msg: unknown; children: unknown[] }[] }): number {
  return (n.msg ? 1 : 0) + n.children.reduce((s, k) => s + count(k as typeof n), 0);
}
