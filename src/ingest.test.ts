import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { segmentRanges } from './ingest.js';

describe('segmentRanges', () => {
  const rows: [number, { start: number; end: number }[], [number, number][]][] = [
    [0, [], [[0, 0]]],
    [10, [], [[0, 10]]],
    [10, [{ start: 2, end: 5 }], [[0, 2], [2, 5], [5, 10]]],
    [10, [{ start: 0, end: 10 }], [[0, 10]]],
    [10, [{ start: 5, end: 8 }, { start: 1, end: 3 }], [[0, 1], [1, 3], [3, 5], [5, 8], [8, 10]]],
    [10, [{ start: 1, end: 6 }, { start: 4, end: 8 }], [[0, 1], [1, 6], [6, 10]]], // overlap stays inline
    [10, [{ start: 4, end: 12 }], [[0, 10]]], // out of range stays inline
  ];
  for (const [size, large, want] of rows) it(`${size} ${JSON.stringify(large)}`, () => assert.deepEqual(segmentRanges(size, large), want));

  it('always tiles [0, size) exactly', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.array(fc.tuple(fc.nat(6000), fc.nat(6000)), { maxLength: 8 }), (size, pairs) => {
        const ranges = segmentRanges(size, pairs.map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) })));
        let pos = 0;
        for (const [s, e] of ranges) {
          assert.equal(s, pos);
          assert.ok(e >= s);
          pos = e;
        }
        assert.equal(pos, size);
      }),
    );
  });
});
