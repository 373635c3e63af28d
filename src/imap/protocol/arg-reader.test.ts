import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ArgReader, parseCommand, type ParserState } from './arg-reader.js';
import { argsOf, badText, frame, onlyParseErrors } from './test-support.js';

type Read = (r: ArgReader) => unknown;
/** Reads with `fn` and requires the end of the command, so rows prove nothing is left over. */
const whole = (fn: Read): Read => (r) => {
  const v = fn(r);
  r.end();
  return v;
};

const okRows: [args: string, read: Read, expected: unknown, state?: ParserState][] = [
  ['FOO', (r) => r.atom(), 'FOO'],
  ['a.b-c', (r) => r.atom(), 'a.b-c'],
  ['foo]bar', (r) => r.astring(), 'foo]bar'],
  ['"he said \\"hi\\" \\\\o/"', (r) => r.astring(), 'he said "hi" \\o/'],
  ['""', (r) => r.string(), ''],
  ['{5+}\r\nh\r\n\u00e9', (r) => r.astring(), 'h\r\n\u00e9'],
  ['"gr\u00fc\u00df"', (r) => r.string(), 'gr\u00fc\u00df'],
  ['NIL', (r) => r.nstring(), null],
  ['nil', (r) => r.nstring(), null],
  ['"NIL"', (r) => r.nstring(), 'NIL'],
  ['0', (r) => r.number(), 0],
  ['4294967295', (r) => r.number(), 4294967295],
  ['17', (r) => r.nzNumber(), 17],
  ['9007199254740991', (r) => r.number64(), 9007199254740991],
  ['(a b c)', (r) => r.list((x) => x.atom()), ['a', 'b', 'c']],
  ['()', (r) => r.list((x) => x.atom(), { allowEmpty: true }), []],
  [' (x y)', (r) => r.optionalList((x) => x.atom()), ['x', 'y']],
  ['', (r) => r.optionalList((x) => x.atom()), undefined],
  ['\\seen', (r) => r.flag(), '\\Seen'],
  ['\\ANSWERED', (r) => r.flag(), '\\Answered'],
  ['$Forwarded', (r) => r.flag(), '$Forwarded'],
  ['\\Custom', (r) => r.flag(), '\\Custom'],
  ['\\*', (r) => r.flag({ allowWildcard: true }), '\\*'],
  ['(\\Seen \\flagged $Label)', (r) => r.flagList(), ['\\Seen', '\\Flagged', '$Label']],
  ['()', (r) => r.flagList(), []],
  ['\\Seen \\Draft', (r) => r.storeFlags(), ['\\Seen', '\\Draft']],
  ['(\\Deleted)', (r) => r.storeFlags(), ['\\Deleted']],
  ['"17-Jul-1996 02:44:25 -0700"', (r) => r.dateTime().toISOString(), '1996-07-17T09:44:25.000Z'],
  ['" 1-jan-2024 00:00:00 +0000"', (r) => r.dateTime().toISOString(), '2024-01-01T00:00:00.000Z'],
  ['"29-Feb-2024 23:59:59 +0530"', (r) => r.dateTime().toISOString(), '2024-02-29T18:29:59.000Z'],
  ['1-Feb-1994', (r) => r.date(), { year: 1994, month: 2, day: 1 }],
  ['"01-DEC-2023"', (r) => r.date(), { year: 2023, month: 12, day: 1 }],
  ['inbox', (r) => r.mailbox(), 'INBOX'],
  ['"InBox"', (r) => r.mailbox(), 'INBOX'],
  ['Entw&APw-rfe', (r) => r.mailbox(), 'Entw\u00fcrfe'],
  ['"Entw\u00fcrfe"', (r) => r.mailbox(), 'Entw\u00fcrfe', { utf8: true }],
  ['Entw&APw-rfe', (r) => r.mailbox(), 'Entw&APw-rfe', { utf8: true }],
  ['{5}\r\nA&-B]', (r) => r.mailbox(), 'A&B]'],
  // valid astrings that are not modified UTF-7 come back marked, for a NO (never BAD, RFC 9051 7.1.3)
  ['&Jjo', (r) => r.mailbox(), '\u0000&Jjo'],
  ['"&AGE-"', (r) => r.mailbox(), '\u0000&AGE-'],
  ['"a&Jjo*"', (r) => r.listMailbox(), '\u0000a&Jjo*'],
  ['Archive/%', (r) => r.listMailbox(), 'Archive/%'],
  ['*', (r) => r.listMailbox(), '*'],
  ['"&ZeVnLIqe-/*"', (r) => r.listMailbox(), '\u65e5\u672c\u8a9e/*'],
  ['1:3,5', (r) => r.seqSet(), { kind: 'ranges', ranges: [{ start: 1, end: 3 }, { start: 5, end: 5 }] }],
  ['$', (r) => r.seqSet(), { kind: 'saved' }],
  ['~{3+}\r\na\0b', (r) => r.literal({ binary: true }).data?.toString('latin1'), 'a\0b'],
];

const badRows: [args: string, read: Read, text: string][] = [
  ['(x', (r) => r.atom(), 'Expected atom near "(x"'],
  ['', (r) => r.atom(), 'Expected atom at end of command'],
  ['"abc', (r) => r.string(), 'Unterminated quoted string'],
  ['"a\\b"', (r) => r.string(), 'Invalid escape in quoted string'],
  ['abc', (r) => r.string(), 'Expected string near "abc"'],
  ['foo', (r) => r.nstring(), 'Expected string or NIL at end of command'],
  ['4294967296', (r) => r.number(), 'Number too large: 4294967296'],
  ['x1', (r) => r.number(), 'Expected number near "x1"'],
  ['0', (r) => r.nzNumber(), 'Expected non-zero number, got 0'],
  ['9007199254740992', (r) => r.number64(), 'Number too large: 9007199254740992'],
  ['(a  b)', (r) => r.list((x) => x.atom()), 'Expected atom near " b)"'],
  ['(a b', (r) => r.list((x) => x.atom()), 'Expected SP or ")" in list at end of command'],
  ['()', (r) => r.list((x) => x.atom()), 'Empty list'],
  ['a b', (r) => r.list((x) => x.atom()), 'Expected "(" near "a b"'],
  ['\\*', (r) => r.flag(), '\\* is not allowed here'],
  ['\\', (r) => r.flag(), 'Expected flag name after "\\" at end of command'],
  ['(\\Seen', (r) => r.flagList(), 'Expected SP or ")" in list at end of command'],
  ['"17-Jul-1996 02:44:25"', (r) => r.dateTime(), 'Expected SP before zone in date-time'],
  ['"7-Jul-1996 02:44:25 -0700"', (r) => r.dateTime(), 'Expected two-digit day near "-Jul-1996 02:44:25 -..."'],
  ['"30-Feb-2024 02:44:25 -0700"', (r) => r.dateTime(), 'Invalid date: day 30 of month 2'],
  ['"17-Jux-1996 02:44:25 -0700"', (r) => r.dateTime(), 'Expected month name (Jan..Dec) near "Jux-1996 02:44:25 -0..."'],
  ['"17-Jul-1996 24:00:00 -0700"', (r) => r.dateTime(), 'Invalid time in date-time'],
  ['"17-Jul-1996 02:44:25 -0790"', (r) => r.dateTime(), 'Invalid zone in date-time'],
  ['17-Jul-1996', (r) => r.dateTime(), 'Expected DQUOTE to open date-time near "17-Jul-1996"'],
  ['123-Jul-1996', (r) => r.date(), 'Expected date (d-Mon-yyyy) near "-Jul-1996"'],
  ['1-Jul-96', (r) => r.date(), 'Expected four-digit year at end of command'],
  ['"1-Jul-1996', (r) => r.date(), 'Expected DQUOTE to close date at end of command'],
  ['31-Apr-2020', (r) => r.date(), 'Invalid date: day 31 of month 4'],
  ['1:x', (r) => r.seqSet(), 'Invalid sequence set "1:x"'],
  ['(1)', (r) => r.seqSet(), 'Expected sequence set near "(1)"'],
  ['a b', (r) => r.end(), 'Unexpected extra arguments near "a b"'],
  ['x', (r) => r.sp('after mailbox'), 'Expected SP after mailbox'],
  ['{2+}\r\n\0a', (r) => r.string(), 'NUL octet in literal (use literal8)'],
  ['~{2+}\r\nab', (r) => r.string(), 'literal8 is not allowed here'],
  ['"a"', (r) => r.literal(), 'Expected literal near ""a""'],
];

test('arg reader reads every grammar element', () => {
  for (const [args, read, expected, state] of okRows) {
    assert.deepEqual(whole(read)(argsOf(args, state)), expected, args);
  }
});

test('arg reader errors say what was expected and where', () => {
  const wrong: string[] = [];
  for (const [args, read, text] of badRows) {
    let got: string;
    try {
      got = badText(() => whole(read)(argsOf(args)));
    } catch (e) {
      got = `(not an ImapParseError: ${(e as Error).message})`;
    }
    if (got !== text) wrong.push(`${JSON.stringify(args)}: got ${JSON.stringify(got)}, want ${JSON.stringify(text)}`);
  }
  assert.deepEqual(wrong, []);
});

test('strings must be valid UTF-8', () => {
  const raw = frame(Buffer.from('T1 X "\xff"\r\n', 'latin1'));
  assert.equal(badText(() => parseCommand(raw).args.string()), 'Invalid UTF-8 in string');
});

test('parseCommand reads tag, name and UID prefix; errors carry the tag', () => {
  const rows: [string, { tag: string; name: string; uid: boolean }][] = [
    ['a1 NOOP', { tag: 'a1', name: 'NOOP', uid: false }],
    ['A.2 select INBOX', { tag: 'A.2', name: 'SELECT', uid: false }],
    ['t] uid fetch 1:* FLAGS', { tag: 't]', name: 'FETCH', uid: true }],
    ['x UID EXPUNGE 1', { tag: 'x', name: 'EXPUNGE', uid: true }],
  ];
  for (const [wire, expected] of rows) {
    const { tag, name, uid } = parseCommand(frame(wire));
    assert.deepEqual({ tag, name, uid }, expected, wire);
  }
  const c = parseCommand(frame('a1 SELECT INBOX'));
  assert.equal(c.args.mailbox(), 'INBOX');
  c.args.end();
  const bad: [string, string, string | undefined][] = [
    ['a1', 'Expected SP after tag', 'a1'],
    ['+ NOOP', 'Missing or invalid tag', undefined],
    ['a1  NOOP', 'Expected command name near " NOOP"', 'a1'],
    ['a1 UID LIST', 'Unknown UID command LIST', 'a1'],
    ['a1 UID', 'Expected SP after UID', 'a1'],
    ['a1 NOOP(', 'Expected SP after command name', 'a1'],
  ];
  for (const [wire, text, tag] of bad) {
    try {
      parseCommand(frame(wire));
      assert.fail(`no error for ${wire}`);
    } catch (e) {
      assert.equal((e as Error).message, text, wire);
      assert.equal((e as { tag?: string }).tag, tag, wire);
    }
  }
  assert.equal(badText(() => parseCommand(frame('a7 X 1:x')).args.seqSet()), 'Invalid sequence set "1:x"');
  try {
    parseCommand(frame('a7 X 1:x')).args.seqSet();
  } catch (e) {
    assert.equal((e as { tag?: string }).tag, 'a7');
  }
});

const tokens = ['a1', ' ', 'UID', 'FETCH', 'SELECT', '"x\\"y"', '{3+}\r\nabc', '(', ')', '\\Seen', '1:*', '$', 'NIL', '"17-Jul-1996 02:44:25 -0700"', '1-Jan-2000', '&AOk-', '~{1+}\r\n\0', '\u00e9', '\\', '"'];

test('fuzz: mutated commands read with any method throw only ImapParseError', () => {
  const methods: Read[] = [
    (r) => r.astring(), (r) => r.nstring(), (r) => r.number(), (r) => r.number64(), (r) => r.flagList({ allowWildcard: true }),
    (r) => r.dateTime(), (r) => r.date(), (r) => r.mailbox(), (r) => r.listMailbox(), (r) => r.seqSet(),
    (r) => r.list((x) => x.astring()), (r) => r.storeFlags(), (r) => r.literal({ binary: true }), (r) => r.end(),
  ];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 12 }), fc.array(fc.integer({ min: 0, max: methods.length - 1 }), { maxLength: 6 }), fc.boolean(), (parts, picks, utf8) => {
      let raw;
      try {
        raw = frame(parts.join(''));
      } catch {
        return; // not exactly one framed command: the reader's own fuzz covers that
      }
      onlyParseErrors(() => {
        const { args } = parseCommand(raw, { utf8 });
        for (const p of picks) {
          methods[p](args);
          args.optionalSp();
        }
      });
    }),
    { numRuns: 500 },
  );
});
