import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contextUpdate } from './search-context.js';

const SEARCH = { tag: 'A1', sort: null };
const SORT = { tag: 'B"2', sort: [{ key: 'DATE' as const, reverse: false }] };

test('contextUpdate: SEARCH contexts use position 0 and compact sets', () => {
  const rows: [number[], number[], string | null][] = [
    [[1, 2, 3], [1, 2, 3], null],
    [[1, 2, 3], [1, 2, 3, 4, 5], '* ESEARCH (TAG "A1") UID ADDTO (0 4:5)\r\n'],
    [[1, 2, 3, 7], [1, 7], '* ESEARCH (TAG "A1") UID REMOVEFROM (0 2:3)\r\n'],
    [[1, 2], [2, 9], '* ESEARCH (TAG "A1") UID REMOVEFROM (0 1) ADDTO (0 9)\r\n'],
    [[], [], null],
  ];
  for (const [before, after, want] of rows) assert.equal(contextUpdate(SEARCH, before, after), want, `${before} -> ${after}`);
});

test('contextUpdate: SORT contexts name each position, removals descending, additions ascending', () => {
  assert.equal(contextUpdate(SORT, [5, 3, 8], [5, 9, 3, 8, 1]), '* ESEARCH (TAG "B\\"2") UID ADDTO (2 9 5 1)\r\n');
  assert.equal(contextUpdate(SORT, [5, 3, 8, 2], [5, 2]), '* ESEARCH (TAG "B\\"2") UID REMOVEFROM (3 8 2 3)\r\n');
  assert.equal(contextUpdate(SORT, [5, 3], [4, 3]), '* ESEARCH (TAG "B\\"2") UID REMOVEFROM (1 5) ADDTO (1 4)\r\n');
});

/** Applies an update line to a list the way a client does, one pair after another. */
function apply(list: number[], line: string): number[] {
  const out = [...list];
  for (const [, what, body] of line.matchAll(/(REMOVEFROM|ADDTO) \(([^)]*)\)/g)) {
    const n = body.split(' ').map(Number);
    for (let i = 0; i < n.length; i += 2) {
      if (what === 'REMOVEFROM') {
        assert.equal(out[n[i] - 1], n[i + 1], 'the position names the message removed');
        out.splice(n[i] - 1, 1);
      } else out.splice(n[i] - 1, 0, n[i + 1]);
    }
  }
  return out;
}

test('contextUpdate: a client applying a SORT update in order gets the new list (property)', () => {
  // a sorted result changes by removals and insertions; kept messages keep their order
  const arb = fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 20 }).chain((all) =>
    fc.tuple(fc.constant(all), fc.array(fc.boolean(), { minLength: all.length, maxLength: all.length }), fc.array(fc.boolean(), { minLength: all.length, maxLength: all.length })),
  );
  fc.assert(
    fc.property(arb, ([all, inBefore, inAfter]) => {
      const before = all.filter((_, i) => inBefore[i]);
      const after = all.filter((_, i) => inAfter[i]);
      const line = contextUpdate(SORT, before, after);
      assert.deepEqual(line === null ? before : apply(before, line), after);
    }),
    { numRuns: 1000 },
  );
});
