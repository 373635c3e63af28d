import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { partialRange, partialSlice } from './partial-range.js';
import { argsOf, assertParsesOrRejects, badText } from './test-support.js';

const ranges: [string, { fromEnd: boolean; low: number; high: number } | RegExp][] = [
  ['1:100', { fromEnd: false, low: 1, high: 100 }],
  ['100:1', { fromEnd: false, low: 1, high: 100 }],
  ['5:5', { fromEnd: false, low: 5, high: 5 }],
  ['-1:-100', { fromEnd: true, low: 1, high: 100 }],
  ['-100:-1', { fromEnd: true, low: 1, high: 100 }],
  ['4294967295:1', { fromEnd: false, low: 1, high: 4294967295 }],
  ['4294967296:1', /out of range/],
  ['0:10', /Bad PARTIAL range/],
  ['1:-10', /Bad PARTIAL range/],
  ['-1:10', /Bad PARTIAL range/],
  ['1:*', /Bad PARTIAL range/],
  ['1', /Bad PARTIAL range/],
  ['01:5', /Bad PARTIAL range/],
  ['1:2,4:5', /Bad PARTIAL range/],
];

test('partialRange reads n:m and -n:-m either way round (RFC 9394 3.1)', () => {
  for (const [wire, want] of ranges) {
    if (want instanceof RegExp) assert.match(badText(() => partialRange(argsOf(wire))), want, wire);
    else assert.deepEqual(partialRange(argsOf(wire)), { text: wire, ...want }, wire);
  }
});

test('partialSlice picks positions from the start or the end', () => {
  const items = [10, 20, 30, 40, 50];
  const cases: [string, number[]][] = [
    ['1:2', [10, 20]],
    ['2:1', [10, 20]],
    ['4:9', [40, 50]],
    ['6:9', []],
    ['-1:-2', [40, 50]],
    ['-5:-5', [10]],
    ['-4:-9', [10, 20]],
    ['-6:-9', []],
    ['1:4294967295', items],
  ];
  for (const [wire, want] of cases) assert.deepEqual(partialSlice(items, partialRange(argsOf(wire))), want, wire);
});

test('partialSlice equals the naive position filter (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 30 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), (items, a, b, fromEnd) => {
      const text = fromEnd ? `-${a}:-${b}` : `${a}:${b}`;
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      const want = items.filter((_, i) => {
        const pos = fromEnd ? items.length - i : i + 1;
        return pos >= lo && pos <= hi;
      });
      assert.deepEqual(partialSlice(items, partialRange(argsOf(text))), want);
    }),
  );
});

test('fuzz: partialRange throws only ImapParseError', () => {
  assertParsesOrRejects((r) => partialRange(r), ['-', ':', '1', '0', '9', '4294967296', '*', ',', ' ', '"1:2"']);
});
