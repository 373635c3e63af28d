import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseStore, type StoreCommand } from './store-parser.js';
import { parseSeqSet } from './seq-set.js';
import { argsOf, badText, onlyParseErrors } from './test-support.js';

const parse = (wire: string): StoreCommand => parseStore(argsOf(wire));

const good: [string, Omit<StoreCommand, 'set'> & { set: string }][] = [
  ['1 FLAGS (\\Seen)', { set: '1', op: 'set', silent: false, flags: ['\\Seen'], unchangedSince: undefined }],
  ['1:3 +FLAGS.SILENT \\Deleted $Work', { set: '1:3', op: 'add', silent: true, flags: ['\\Deleted', '$Work'], unchangedSince: undefined }],
  ['2 -flags ()', { set: '2', op: 'remove', silent: false, flags: [], unchangedSince: undefined }],
  ['7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)', { set: '7,5,9', op: 'add', silent: true, flags: ['\\Deleted'], unchangedSince: 320162338 }],
  ['* (unchangedsince 0) FLAGS (\\Seen \\Recent)', { set: '*', op: 'set', silent: false, flags: ['\\Seen'], unchangedSince: 0 }],
  // imapflow 1.7's order: the modifier after the flag list.
  ['1 +FLAGS (\\Seen) (UNCHANGEDSINCE 5)', { set: '1', op: 'add', silent: false, flags: ['\\Seen'], unchangedSince: 5 }],
];

test('store parser: flags, .SILENT and UNCHANGEDSINCE (RFC 9051 6.4.6, RFC 7162 3.1.3)', () => {
  for (const [wire, want] of good) assert.deepEqual(parse(wire), { ...want, set: parseSeqSet(want.set) }, wire);
});

const bad: [string, string][] = [
  ['1 (FOO 1) FLAGS (\\Seen)', 'Unknown store modifier FOO'],
  ['1 (UNCHANGEDSINCE) FLAGS (\\Seen)', 'Expected SP after UNCHANGEDSINCE'],
  ['1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS (\\Seen)', 'Duplicate store modifier UNCHANGEDSINCE'],
  ['1 (UNCHANGEDSINCE 1)FLAGS (\\Seen)', 'Expected SP after store modifiers'],
  ['1 () FLAGS (\\Seen)', 'Empty list of store modifiers'],
  ['1 (UNCHANGEDSINCE 1) FLAGS (\\Seen) (UNCHANGEDSINCE 2)', 'Unexpected extra arguments near " (UNCHANGEDSINCE 2)"'],
  ['1 FLAGS (\\Seen) (FOO 2)', 'Unknown store modifier FOO'],
  ['1 FLAGS \\Seen (UNCHANGEDSINCE 2)', 'Expected flag near "(UNCHANGEDSINCE 2)"'],
  ['1 LABELS (x)', 'Expected FLAGS, +FLAGS or -FLAGS, got LABELS'],
  ['1 (UNCHANGEDSINCE 99999999999999999) FLAGS x', 'Number too large: 99999999999999999'],
];

test('store parser: BAD texts', () => {
  const wrong = bad.map(([wire, text]) => [wire, text, badText(() => parse(wire))]).filter(([, want, got]) => want !== got);
  assert.deepEqual(wrong, []);
});

const words = ['1', ':', '*', ' ', '(', ')', 'UNCHANGEDSINCE', '0', '42', 'FLAGS', '+FLAGS', '-FLAGS.SILENT', '\\Seen', '\\Recent', '$x', '"a"', '\\'];

test('fuzz: store parser throws only ImapParseError; UNCHANGEDSINCE round-trips', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...words), { maxLength: 20 }), (parts) => {
      let r;
      try {
        r = argsOf(parts.join(''));
      } catch {
        return;
      }
      onlyParseErrors(() => parseStore(r));
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom('FLAGS', '+FLAGS', '-FLAGS.SILENT'), (n, item) => {
      assert.equal(parse(`1:* (UNCHANGEDSINCE ${n}) ${item} (\\Seen)`).unchangedSince, n);
    }),
    { numRuns: 300 },
  );
});
