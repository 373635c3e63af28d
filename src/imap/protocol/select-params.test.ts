import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSelectParams, type SelectParams } from './select-params.js';
import { parseSeqSet } from './seq-set.js';
import { argsOf, badText, onlyParseErrors } from './test-support.js';

/** The arguments after the mailbox name: the reader is positioned there by reading the name first. */
function parse(wire: string): SelectParams {
  const r = argsOf(`INBOX${wire}`);
  r.mailbox();
  return parseSelectParams(r);
}

const set = (s: string) => parseSeqSet(s);

const good: [string, SelectParams][] = [
  ['', { condstore: false }],
  [' (CONDSTORE)', { condstore: true }],
  [' (condstore)', { condstore: true }],
  [' (QRESYNC (67890007 715194045000))', { condstore: true, qresync: { uidValidity: 67890007, modSeq: 715194045000 } }],
  [' (QRESYNC (67890007 115194045000 41:211,214:541))', { condstore: true, qresync: { uidValidity: 67890007, modSeq: 115194045000, knownUids: set('41:211,214:541') } }],
  [
    ' (QRESYNC (67890007 115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))',
    {
      condstore: true,
      qresync: {
        uidValidity: 67890007,
        modSeq: 115194045000,
        knownUids: set('1:29997'),
        seqMatch: { seqs: set('5000,7500,9000,9990:9999'), uids: set('15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997') },
      },
    },
  ],
  [' (QRESYNC (1 5 (1:2 7,9)))', { condstore: true, qresync: { uidValidity: 1, modSeq: 5, seqMatch: { seqs: set('1:2'), uids: set('7,9') } } }],
  [' (QRESYNC (1 0 1:*))', { condstore: true, qresync: { uidValidity: 1, modSeq: 0, knownUids: set('1:*') } }],
  [' (CONDSTORE QRESYNC (1 5))', { condstore: true, qresync: { uidValidity: 1, modSeq: 5 } }],
];

test('select params: CONDSTORE and QRESYNC (RFC 7162 3.1.8, 3.2.5)', () => {
  for (const [wire, want] of good) assert.deepEqual(parse(wire), want, wire);
});

const bad: [string, string][] = [
  [' (FOO)', 'Unknown select parameter FOO'],
  [' ()', 'Empty list'],
  [' (CONDSTORE CONDSTORE)', 'Duplicate select parameter CONDSTORE'],
  [' (QRESYNC)', 'Expected SP after QRESYNC'],
  [' (QRESYNC (0 5))', 'Expected UIDVALIDITY, got 0'],
  [' (QRESYNC (1))', 'Expected SP after UIDVALIDITY'],
  [' (QRESYNC (1 x))', 'Expected mod-sequence value near "x))"'],
  [' (QRESYNC (1 5 $))', '"$" is not allowed in known UIDs'],
  [' (QRESYNC (1 5 1:5 (1:3 4,5)))', 'Sequence match data: 3 sequence numbers but 2 UIDs'],
  [' (QRESYNC (1 5 1:5 (1:3)))', 'Expected SP in sequence match data'],
  [' (QRESYNC (1 99999999999999999))', 'Number too large: 99999999999999999'],
  [' (CONDSTORE) x', 'Unexpected extra arguments near " x"'],
];

test('select params: BAD texts', () => {
  const wrong = bad.map(([wire, text]) => [wire, text, badText(() => parse(wire))]).filter(([, want, got]) => want !== got);
  assert.deepEqual(wrong, []);
});

const words = ['(', ')', ' ', 'CONDSTORE', 'QRESYNC', '1', '0', '5:7', '*', '$', ',', '123456789', 'x', '"a"'];

test('fuzz: select params throw only ImapParseError; a written QRESYNC parses back', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...words), { maxLength: 20 }), (parts) => {
      let r;
      try {
        r = argsOf(`INBOX ${parts.join('')}`);
        r.mailbox();
      } catch {
        return;
      }
      onlyParseErrors(() => parseSelectParams(r));
    }),
    { numRuns: 1000 },
  );
  const range = fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 50 })).map(([a, n]) => (n === 0 ? `${a}` : `${a}:${a + n}`));
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.option(fc.array(range, { minLength: 1, maxLength: 5 })), (uv, ms, known) => {
      const wire = ` (QRESYNC (${uv} ${ms}${known ? ` ${known.join(',')}` : ''}))`;
      const p = parse(wire).qresync!;
      assert.deepEqual([p.uidValidity, p.modSeq, p.knownUids === undefined], [uv, ms, known === null]);
    }),
    { numRuns: 300 },
  );
});
