import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSort, parseThread, type SortCommand } from './sort-parser.js';
import { ImapParseError } from './errors.js';
import { argsOf, badText, onlyParseErrors, assertParsesOrRejects } from './test-support.js';

const all = { type: 'all' } as const;
const rows: [string, Partial<SortCommand>][] = [
  ['(DATE) UTF-8 ALL', { criteria: [{ key: 'DATE', reverse: false }], charset: 'UTF-8' }],
  ['(reverse date subject) us-ascii ALL', { criteria: [{ key: 'DATE', reverse: true }, { key: 'SUBJECT', reverse: false }], charset: 'US-ASCII' }],
  ['(ARRIVAL CC FROM SIZE TO DISPLAYFROM REVERSE DISPLAYTO) "UTF-8" ALL', {
    criteria: [
      { key: 'ARRIVAL', reverse: false }, { key: 'CC', reverse: false }, { key: 'FROM', reverse: false }, { key: 'SIZE', reverse: false },
      { key: 'TO', reverse: false }, { key: 'DISPLAYFROM', reverse: false }, { key: 'DISPLAYTO', reverse: true },
    ],
  }],
  ['RETURN (MIN MAX) (SIZE) UTF-8 ALL', { returnOptions: ['MIN', 'MAX'], criteria: [{ key: 'SIZE', reverse: false }] }],
  ['RETURN () (SIZE) UTF-8 ALL', { returnOptions: ['ALL'] }],
  ['RETURN (COUNT PARTIAL -1:-10) (DATE) UTF-8 ALL', { returnOptions: ['COUNT', 'PARTIAL'], partial: { text: '-1:-10', fromEnd: true, low: 1, high: 10 } }],
];

test('parseSort reads criteria, REVERSE, charset and RETURN', () => {
  for (const [wire, want] of rows) {
    const got = parseSort(argsOf(wire));
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof SortCommand], v, `${wire}: ${k}`);
    assert.deepEqual(got.query, all, wire);
  }
  assert.deepEqual(parseSort(argsOf('(SIZE) UTF-8 FROM ann 1:3')).query, {
    type: 'and',
    keys: [{ type: 'header', field: 'from', value: 'ann' }, { type: 'seq', set: { kind: 'ranges', ranges: [{ start: 1, end: 3 }] } }],
  });
});

test('parseSort refuses malformed commands with a parse error naming the problem', () => {
  assert.match(badText(() => parseSort(argsOf('(NOSUCH) UTF-8 ALL'))), /Unknown sort key NOSUCH/);
  assert.match(badText(() => parseSort(argsOf('(REVERSE) UTF-8 ALL'))), /REVERSE must be followed/);
  assert.match(badText(() => parseSort(argsOf('() UTF-8 ALL'))), /Empty list/);
  assert.match(badText(() => parseSort(argsOf('DATE UTF-8 ALL'))), /\(/);
  assert.match(badText(() => parseSort(argsOf('(DATE) UTF-8'))), /./);
  assert.match(badText(() => parseSort(argsOf('RETURN (SAVE) (DATE) UTF-8 ALL'))), /Unknown SORT RETURN option SAVE/);
  assert.match(badText(() => parseSort(argsOf('RETURN (ALL PARTIAL 1:5) (DATE) UTF-8 ALL'))), /PARTIAL and ALL cannot be combined/);
  assert.match(badText(() => parseSort(argsOf('RETURN (PARTIAL 0:5) (DATE) UTF-8 ALL'))), /Bad PARTIAL range/);
  try {
    parseSort(argsOf('(DATE) KOI8-R ALL'));
    assert.fail('KOI8-R accepted');
  } catch (e) {
    assert.ok(e instanceof ImapParseError);
    assert.equal(e.response, 'NO');
    assert.match(e.code ?? '', /^BADCHARSET/);
  }
});

test('parseSort: any input either parses or throws ImapParseError (property)', () => {
  const words = ['(', ')', ' ', 'REVERSE', 'DATE', 'SUBJECT', 'DISPLAYTO', 'RETURN', 'MIN', 'ALL', 'PARTIAL', '1:5', '-2:-1', 'UTF-8', 'US-ASCII', 'FROM', '"x"', '{1+}\r\na', '1:*', 'NOT', 'OR', '$', '\\'];
  assertParsesOrRejects((r) => parseSort(r), words, { maxWords: 20, stringRuns: 1000 });
});

test('parseThread reads the algorithm, charset and keys', () => {
  assert.deepEqual(parseThread(argsOf('references utf-8 ALL')), { algorithm: 'REFERENCES', charset: 'UTF-8', query: all });
  assert.deepEqual(parseThread(argsOf('ORDEREDSUBJECT "US-ASCII" ALL')), { algorithm: 'ORDEREDSUBJECT', charset: 'US-ASCII', query: all });
  assert.match(badText(() => parseThread(argsOf('REFSX UTF-8 ALL'))), /Unknown thread algorithm REFSX/);
  assert.equal(parseThread(argsOf('refs UTF-8 ALL')).algorithm, 'REFS');
  assert.match(badText(() => parseThread(argsOf('(REFERENCES) UTF-8 ALL'))), /./);
  assert.match(badText(() => parseThread(argsOf('REFERENCES UTF-8'))), /./);
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      let r;
      try {
        r = argsOf(s.replace(/[\r\n]/g, ''));
      } catch {
        return;
      }
      onlyParseErrors(() => parseThread(r));
    }),
    { numRuns: 1000 },
  );
});
