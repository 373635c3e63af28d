import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { baseSubject, collationKey, compareOctets } from './base-subject.js';

// RFC 5256 2.1, step by step
const rows: [string, string][] = [
  ['Plan', 'Plan'],
  ['Re: Plan', 'Plan'],
  ['RE: re: Fw: FWD: Menu', 'Menu'],
  ['re:plan', 'plan'],
  ['Re: [list] Fwd: plan', 'plan'],
  ['[list] Re: plan', 'plan'],
  ['Re [list]: plan', 'plan'],
  ['plan (fwd)', 'plan'],
  ['plan (fwd) (FWD)  ', 'plan'],
  ['Fwd: Re: Fwd: topic (fwd) (fwd)', 'topic'],
  ['[fwd: Plan]', 'Plan'],
  ['[Fwd: Re: [list] Plan (fwd)]', 'Plan'],
  ['[list]', '[list]'], // a blob alone is kept: removing it would leave nothing
  ['[list] [other] topic', 'topic'],
  ['[list] [other]', '[other]'],
  ['  spaced\t\tout  words ', 'spaced out words'],
  ['folded\r\n line', 'folded line'],
  ['Re:', ''],
  ['', ''],
  ['Ärger im Büro', 'Ärger im Büro'],
  ['Reply to all', 'Reply to all'],
  ['Fwx: x', 'Fwx: x'],
];

test('baseSubject follows RFC 5256 2.1', () => {
  for (const [input, want] of rows) assert.equal(baseSubject(input), want, JSON.stringify(input));
});

test('baseSubject is idempotent and never grows (property)', () => {
  const piece = fc.constantFrom('Re: ', 'RE:', 'Fwd: ', 'fw:', '[list] ', '[a b]', ' (fwd)', '(FWD)', '[fwd: ', ']', ' ', '\t', 'plan', 'x', 'Ä', ':', '[', 'Re', '(');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
      const s = parts.join('');
      const b = baseSubject(s);
      assert.ok(b.length <= s.length);
      assert.equal(baseSubject(b), b, JSON.stringify(s));
    }),
    { numRuns: 2000 },
  );
});

test('collationKey folds ASCII case only for ASCII, decomposes the rest; compareOctets is UTF-8 order', () => {
  assert.equal(collationKey('abc [x]'), 'ABC [X]');
  assert.equal(collationKey('Émile'), 'E\u0301MILE');
  assert.ok(compareOctets(collationKey('Émile'), collationKey('EVE')) > 0);
  assert.ok(compareOctets(collationKey('Émile'), collationKey('Zoe')) < 0);
  assert.ok(compareOctets('\uffff', '\u{10000}') < 0, 'code point order, not UTF-16');
  assert.equal(compareOctets('a', 'a'), 0);
});
