import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FlagTable, MessageColumns } from './message-columns.js';

/** The columns as [uid, flagSet] pairs. */
const pairs = (c: MessageColumns) => Array.from({ length: c.length }, (_, i) => [c.uidAt(i), c.flagSetAt(i)]);

describe('MessageColumns', () => {
  it('binary search, lowerBound, push past the initial capacity, one-pass removal', () => {
    const c = new MessageColumns(Uint32Array.from([2, 4, 6]), Uint32Array.from([0, 1, 0]));
    assert.deepEqual([c.indexOf(2), c.indexOf(6), c.indexOf(3), c.indexOf(7), c.indexOf(0)], [0, 2, -1, -1, -1]);
    assert.deepEqual([c.lowerBound(0), c.lowerBound(4), c.lowerBound(5), c.lowerBound(99)], [0, 1, 2, 3]);
    for (let uid = 7; uid < 60; uid++) c.push(uid, uid % 3);
    assert.equal(c.length, 56);
    assert.throws(() => c.push(59, 0), /not above/);
    c.remove([0, 2, 55]);
    assert.deepEqual(pairs(c).slice(0, 3), [[4, 1], [7, 1], [8, 2]]);
    assert.equal(c.lastUid(), 58);
    assert.deepEqual(Array.from(c.uids()).length, 53);
    c.remove([]);
    assert.equal(c.length, 53);
  });

  it('an empty mailbox', () => {
    const c = new MessageColumns(new Uint32Array(0), new Uint32Array(0));
    assert.deepEqual([c.length, c.lastUid(), c.indexOf(1), c.lowerBound(1)], [0, 0, -1, 0]);
    c.push(1, 0);
    assert.deepEqual(pairs(c), [[1, 0]]);
  });

  it('behaves as a sorted array under any sequence of pushes and removals (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), gap: fc.integer({ min: 1, max: 5 }), set: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('remove' as const), picks: fc.array(fc.nat(), { maxLength: 6 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const c = new MessageColumns(new Uint32Array(0), new Uint32Array(0));
        let model: [number, number][] = [];
        let last = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            last += o.gap;
            c.push(last, o.set);
            model.push([last, o.set]);
          } else if (model.length > 0) {
            const idx = [...new Set(o.picks.map((p) => p % model.length))].sort((a, b) => a - b);
            c.remove(idx);
            model = model.filter((_, i) => !idx.includes(i));
          }
          assert.deepEqual(pairs(c), model);
          for (const [uid] of model) assert.equal(c.uidAt(c.indexOf(uid)), uid);
        }
      }),
    );
  });
});

describe('FlagTable', () => {
  it('interns equal lists once and knows which hold \\Seen', () => {
    const t = new FlagTable([['\\Seen'], []]);
    assert.equal(t.intern(['\\Seen']), 0);
    assert.equal(t.intern([]), 1);
    const k = t.intern(['\\Seen', '$Work']);
    assert.equal(k, 2);
    assert.equal(t.intern(['\\Seen', '$Work']), 2);
    assert.deepEqual([t.hasSeen(0), t.hasSeen(1), t.hasSeen(2)], [true, false, true]);
    assert.deepEqual(t.get(2), ['\\Seen', '$Work']);
  });
});
