import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { expandSeqSet, formatSeqSet, parseSeqSet, seqSetHas, seqSetMaxNumber, seqSetRanges, type SeqSet } from './seq-set.js';
import { ImapParseError } from './errors.js';
import { badText } from './test-support.js';

const R = (...ranges: [number | '*', number | '*'][]): SeqSet => ({ kind: 'ranges', ranges: ranges.map(([start, end]) => ({ start, end })) });

const parseRows: [string, SeqSet][] = [
  ['1', R([1, 1])],
  ['1,3:5,7:*', R([1, 1], [3, 5], [7, '*'])],
  ['*', R(['*', '*'])],
  ['5:3', R([5, 3])],
  ['*:4', R(['*', 4])],
  ['$', { kind: 'saved' }],
  ['4294967295', R([4294967295, 4294967295])],
  ['1,1,1', R([1, 1], [1, 1], [1, 1])],
];

const badRows: [string, string][] = [
  ['1:x', 'Invalid sequence set "1:x"'],
  ['0', 'Invalid sequence set "0"'],
  ['1,', 'Invalid sequence set "1,"'],
  [',1', 'Invalid sequence set ",1"'],
  ['1::2', 'Invalid sequence set "1::2"'],
  ['01', 'Invalid sequence set "01"'],
  ['$,1', 'Invalid sequence set "$,1"'],
  ['4294967296', 'Invalid sequence set "4294967296": number too large'],
  ['', 'Expected sequence set'],
  ['1:2:3', 'Invalid sequence set "1:2:3"'],
];

test('parseSeqSet accepts the RFC 9051 sequence-set grammar', () => {
  for (const [wire, expected] of parseRows) assert.deepEqual(parseSeqSet(wire), expected, wire);
});

test('parseSeqSet rejects malformed sets naming them', () => {
  for (const [wire, text] of badRows) assert.equal(badText(() => parseSeqSet(wire)), text, wire);
});

test('expandSeqSet, seqSetHas and seqSetRanges resolve * and reversed ranges', () => {
  const rows: [string, number, number[]][] = [
    ['1,3:5,7:*', 9, [1, 3, 4, 5, 7, 8, 9]],
    ['5:3', 10, [3, 4, 5]],
    ['*', 4, [4]],
    ['*', 0, []],
    ['2:*', 1, [1]], // RFC 9051 9: 2:* with 1 message is 1:2 -> only 1 exists
    ['8:10', 5, []],
    ['1:3,2:4', 5, [1, 2, 3, 4]],
  ];
  for (const [wire, max, expected] of rows) {
    const set = parseSeqSet(wire);
    assert.deepEqual(expandSeqSet(set, max), expected, wire);
    for (let n = 1; n <= max + 1; n++) assert.equal(seqSetHas(set, n, max), expected.includes(n), `${wire} has ${n}`);
  }
  assert.deepEqual(seqSetRanges(parseSeqSet('7:*,1:2,3'), 9), [[1, 3], [7, 9]]);
  assert.deepEqual(expandSeqSet({ kind: 'saved' }, 10, [4, 2]), [2, 4]);
  assert.equal(seqSetHas({ kind: 'saved' }, 4, 10, [4, 2]), true);
  assert.equal(seqSetMaxNumber(parseSeqSet('3:*,12,5')), 12);
});

test('formatSeqSet compresses runs', () => {
  const rows: [number[], string, boolean?][] = [
    [[1, 2, 3, 5], '1:3,5'],
    [[5, 3, 4, 1], '1,3:5'],
    [[], ''],
    [[7], '7'],
    [[2, 2, 3], '2:3'],
    [[304, 319, 320], '304,319:320', true],
    [[9, 10, 3, 4], '9:10,3:4', true],
  ];
  for (const [nums, expected, keepOrder] of rows) assert.equal(formatSeqSet(nums, { keepOrder }), expected, String(nums));
});

test('property: formatSeqSet then parse then expand gives back the sorted set', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 60 }), (nums) => {
      const sorted = [...new Set(nums)].sort((a, b) => a - b);
      const wire = formatSeqSet(nums);
      if (sorted.length === 0) return wire === '';
      return JSON.stringify(expandSeqSet(parseSeqSet(wire), 500)) === JSON.stringify(sorted);
    }),
  );
});

test('fuzz: parseSeqSet throws only ImapParseError', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('1', '0', '9', ':', ',', '*', '$', 'x', ' '), maxLength: 20 }), (s) => {
      try {
        parseSeqSet(s);
      } catch (e) {
        return e instanceof ImapParseError;
      }
      return true;
    }),
  );
});
