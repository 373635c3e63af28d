import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchSetsSeen, parseFetch, type FetchItem } from './fetch-parser.js';
import { ImapParseError } from './errors.js';
import { argsOf, assertParsesOrRejects } from './test-support.js';

/** Wire att list → the response names, the compact view most rows need. */
const names = (wire: string, uid = false): string[] => parseFetch(argsOf(`1 ${wire}`), { uid }).items.map((i) => i.name);

const nameRows: [string, string[]][] = [
  ['ALL', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']],
  ['FAST', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']],
  ['full', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']],
  ['FLAGS', ['FLAGS']],
  ['(INTERNALDATE RFC822.SIZE ENVELOPE)', ['INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']],
  ['BODY', ['BODY']],
  ['BODYSTRUCTURE', ['BODYSTRUCTURE']],
  ['uid', ['UID']],
  ['(RFC822 RFC822.HEADER RFC822.TEXT)', ['RFC822', 'RFC822.HEADER', 'RFC822.TEXT']],
  ['BODY[]', ['BODY[]']],
  ['BODY.PEEK[]', ['BODY[]']],
  ['body[header]', ['BODY[HEADER]']],
  ['BODY[TEXT]', ['BODY[TEXT]']],
  ['BODY[1]', ['BODY[1]']],
  ['BODY[1.2.3]', ['BODY[1.2.3]']],
  ['BODY[1.MIME]', ['BODY[1.MIME]']],
  ['BODY[2.HEADER]', ['BODY[2.HEADER]']],
  ['BODY[2.1.TEXT]', ['BODY[2.1.TEXT]']],
  ['BODY[HEADER.FIELDS (FROM)]', ['BODY[HEADER.FIELDS (FROM)]']],
  ['BODY.PEEK[header.fields (From To "X Y")]', ['BODY[HEADER.FIELDS (From To "X Y")]']],
  ['BODY[HEADER.FIELDS.NOT (Received)]', ['BODY[HEADER.FIELDS.NOT (Received)]']],
  ['BODY[3.HEADER.FIELDS (Subject)]', ['BODY[3.HEADER.FIELDS (Subject)]']],
  ['BODY[]<0.2048>', ['BODY[]<0>']],
  ['BODY.PEEK[TEXT]<100.5>', ['BODY[TEXT]<100>']],
  ['BINARY[1]', ['BINARY[1]']],
  ['BINARY.PEEK[1.2]<0.10>', ['BINARY[1.2]<0>']],
  ['BINARY[]', ['BINARY[]']],
  ['BINARY.SIZE[1]', ['BINARY.SIZE[1]']],
  ['MODSEQ', ['MODSEQ']],
  ['(EMAILID THREADID)', ['EMAILID', 'THREADID']],
  ['SAVEDATE', ['SAVEDATE']],
  ['PREVIEW', ['PREVIEW']],
  ['(PREVIEW (LAZY) FLAGS)', ['PREVIEW', 'FLAGS']],
];

test('fetch parser: every attribute and its response name', () => {
  for (const [wire, expected] of nameRows) assert.deepEqual(names(wire), expected, wire);
});

test('fetch parser: typed items', () => {
  const rows: [string, FetchItem[]][] = [
    ['BODY.PEEK[1.2.HEADER.FIELDS (a b)]<5.10>', [{ type: 'section', peek: true, section: { part: [1, 2], text: 'HEADER.FIELDS', fields: ['a', 'b'] }, partial: { offset: 5, length: 10 }, name: 'BODY[1.2.HEADER.FIELDS (a b)]<5>' }]],
    ['BODY[]', [{ type: 'section', peek: false, section: { part: [] }, partial: undefined, name: 'BODY[]' }]],
    ['BINARY.PEEK[3]', [{ type: 'binary', peek: true, part: [3], partial: undefined, name: 'BINARY[3]' }]],
    ['BINARY.SIZE[]', [{ type: 'binary.size', part: [], name: 'BINARY.SIZE[]' }]],
    ['PREVIEW (LAZY)', [{ type: 'preview', lazy: true, name: 'PREVIEW' }]],
    ['ENVELOPE', [{ type: 'simple', attr: 'ENVELOPE', name: 'ENVELOPE' }]],
  ];
  for (const [wire, expected] of rows) assert.deepEqual(parseFetch(argsOf(`1 ${wire}`)).items, expected, wire);
});

test('fetch parser: UID FETCH adds UID, CHANGEDSINCE adds MODSEQ, VANISHED needs both', () => {
  assert.deepEqual(names('FLAGS', true), ['FLAGS', 'UID']);
  assert.deepEqual(names('(UID FLAGS)', true), ['UID', 'FLAGS']);
  const c = parseFetch(argsOf('1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)'), { uid: true });
  assert.deepEqual([c.changedSince, c.vanished, c.items.map((i) => i.name)], [12345, true, ['FLAGS', 'UID', 'MODSEQ']]);
  assert.deepEqual(c.set, { kind: 'ranges', ranges: [{ start: 1, end: '*' }] });
  const s = parseFetch(argsOf('$ FAST (CHANGEDSINCE 7)'));
  assert.deepEqual([s.set, s.changedSince, s.vanished], [{ kind: 'saved' }, 7, false]);
  const p = parseFetch(argsOf('1:* (FLAGS) (PARTIAL -1:-30 CHANGEDSINCE 3)'), { uid: true });
  assert.deepEqual([p.partial, p.changedSince], [{ text: '-1:-30', fromEnd: true, low: 1, high: 30 }, 3]);
  assert.throws(() => parseFetch(argsOf('1:* FLAGS (PARTIAL 1:2 PARTIAL 3:4)')), /PARTIAL given twice/);
  assert.throws(() => parseFetch(argsOf('1:* FLAGS (PARTIAL 0:2)')), /Bad PARTIAL range 0:2/);
});

test('fetch parser: which items set \\Seen', () => {
  const rows: [string, boolean][] = [
    ['BODY[]', true], ['BODY.PEEK[]', false], ['RFC822', true], ['RFC822.TEXT', true], ['RFC822.HEADER', false],
    ['BINARY[1]', true], ['BINARY.PEEK[1]', false], ['BINARY.SIZE[1]', false], ['ALL', false], ['(FLAGS BODY[TEXT])', true],
  ];
  for (const [wire, seen] of rows) assert.equal(fetchSetsSeen(parseFetch(argsOf(`1 ${wire}`)).items), seen, wire);
});

const bad: [string, string][] = [
  ['1', 'Expected SP after sequence set'],
  ['x FLAGS', 'Invalid sequence set "x"'],
  ['1 FOO', 'Unknown fetch attribute FOO'],
  ['1 (FLAGS ALL)', 'Unknown fetch attribute ALL'],
  ['1 ()', 'Empty list of fetch attributes'],
  ['1 (FLAGS', 'Expected SP or ")" in list at end of command'],
  ['1 BODY.PEEK', 'Expected "[" after BODY.PEEK'],
  ['1 BODY[MIME]', 'MIME requires a part number'],
  ['1 BODY[0]', 'Invalid section part number 0'],
  ['1 BODY[1.FOO]', 'Invalid section FOO'],
  ['1 BODY[HEADER.FIELDS]', 'Expected SP after HEADER.FIELDS'],
  ['1 BODY[HEADER.FIELDS ()]', 'Empty list of header field names'],
  ['1 BODY[TEXT', 'Expected "]" to close section at end of command'],
  ['1 BODY[]<5>', 'Expected "." in partial near ">"'],
  ['1 BODY[]<5.0>', 'Partial length must not be 0'],
  ['1 BODY[]<5.10', 'Expected ">" to close partial at end of command'],
  ['1 BINARY[1.MIME]', 'BINARY takes only part numbers'],
  ['1 BINARY', 'Expected "[" after BINARY'],
  ['1 UID[1]', 'Unexpected "[" after UID'],
  ['1 PREVIEW (FAST)', 'Unknown PREVIEW modifier FAST'],
  ['1 FLAGS (CHANGEDSINCE)', 'Expected SP after CHANGEDSINCE'],
  ['1 FLAGS (FOO)', 'Unknown fetch modifier FOO'],
  ['1 FLAGS (VANISHED)', 'VANISHED requires UID FETCH with CHANGEDSINCE'],
  ['1 FLAGS extra', 'Expected "(" to open fetch modifiers near "extra"'],
  ['1 FLAGS (CHANGEDSINCE 1) x', 'Unexpected extra arguments near " x"'],
];

test('fetch parser: BAD texts', () => {
  const wrong: string[] = [];
  for (const [wire, text] of bad) {
    try {
      parseFetch(argsOf(wire));
      wrong.push(`${wire}: no error`);
    } catch (e) {
      if (!(e instanceof ImapParseError) || e.text !== text) wrong.push(`${wire}: ${String(e)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

const words = ['1', ':', '*', ' ', '(', ')', 'BODY', '.PEEK', '[', ']', '1.2', 'HEADER.FIELDS', '.MIME', 'TEXT', '<', '>', '0', '.', '5', 'FLAGS', 'ALL', 'CHANGEDSINCE', 'VANISHED', 'BINARY', '.SIZE', 'PREVIEW', '"a"'];

test('fuzz: fetch parser throws only ImapParseError', () => {
  assertParsesOrRejects((r, uid) => parseFetch(r, { uid }), words);
});
