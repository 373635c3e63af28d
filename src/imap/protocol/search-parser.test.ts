import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSearch, type SearchCommand, type SearchKey } from './search-parser.js';
import { ImapParseError } from './errors.js';
import { argsOf, assertParsesOrRejects } from './test-support.js';

const seq = (start: number | '*', end: number | '*' = start): SearchKey => ({ type: 'seq', set: { kind: 'ranges', ranges: [{ start, end }] } });
const flag = (f: string, present = true): SearchKey => ({ type: 'flag', flag: f, present });
const q = (query: SearchKey, extra: Partial<SearchCommand> = {}): SearchCommand => ({ charset: undefined, returnOptions: undefined, query, ...extra });
const d = (year: number, month: number, day: number) => ({ year, month, day });

const rows: [string, SearchCommand][] = [
  ['ALL', q({ type: 'all' })],
  ['ANSWERED', q(flag('\\Answered'))],
  ['BCC "boss"', q({ type: 'header', field: 'bcc', value: 'boss' })],
  ['BEFORE 1-Feb-1994', q({ type: 'date', field: 'internal', cmp: 'before', date: d(1994, 2, 1) })],
  ['BODY hello', q({ type: 'body', value: 'hello' })],
  ['CC {3+}\r\nbob', q({ type: 'header', field: 'cc', value: 'bob' })],
  ['DELETED', q(flag('\\Deleted'))],
  ['DRAFT', q(flag('\\Draft'))],
  ['FLAGGED', q(flag('\\Flagged'))],
  ['FROM "Smith"', q({ type: 'header', field: 'from', value: 'Smith' })],
  ['HEADER Message-ID "<x@y>"', q({ type: 'header', field: 'message-id', value: '<x@y>' })],
  ['HEADER X-Spam ""', q({ type: 'header', field: 'x-spam', value: '' })],
  ['KEYWORD $Forwarded', q(flag('$Forwarded'))],
  ['LARGER 1000', q({ type: 'size', cmp: 'larger', size: 1000 })],
  ['NEW', q({ type: 'and', keys: [flag('\\Recent'), flag('\\Seen', false)] })],
  ['NOT SEEN', q({ type: 'not', key: flag('\\Seen') })],
  ['OLD', q(flag('\\Recent', false))],
  ['ON "3-Mar-2020"', q({ type: 'date', field: 'internal', cmp: 'on', date: d(2020, 3, 3) })],
  ['OR SEEN FLAGGED', q({ type: 'or', left: flag('\\Seen'), right: flag('\\Flagged') })],
  ['RECENT', q(flag('\\Recent'))],
  ['SEEN', q(flag('\\Seen'))],
  ['SENTBEFORE 1-Jan-2000', q({ type: 'date', field: 'sent', cmp: 'before', date: d(2000, 1, 1) })],
  ['SENTON 1-Jan-2000', q({ type: 'date', field: 'sent', cmp: 'on', date: d(2000, 1, 1) })],
  ['SENTSINCE 1-Jan-2000', q({ type: 'date', field: 'sent', cmp: 'since', date: d(2000, 1, 1) })],
  ['SINCE 31-Dec-1999', q({ type: 'date', field: 'internal', cmp: 'since', date: d(1999, 12, 31) })],
  ['SMALLER 50', q({ type: 'size', cmp: 'smaller', size: 50 })],
  ['SUBJECT "re: x"', q({ type: 'header', field: 'subject', value: 're: x' })],
  ['TEXT "gr\u00fc\u00df"', q({ type: 'text', value: 'gr\u00fc\u00df' })],
  ['TO alice', q({ type: 'header', field: 'to', value: 'alice' })],
  ['UID 1:*', q({ type: 'uid', set: { kind: 'ranges', ranges: [{ start: 1, end: '*' }] } })],
  ['UID $', q({ type: 'uid', set: { kind: 'saved' } })],
  ['UNANSWERED', q(flag('\\Answered', false))],
  ['UNDELETED', q(flag('\\Deleted', false))],
  ['UNDRAFT', q(flag('\\Draft', false))],
  ['UNFLAGGED', q(flag('\\Flagged', false))],
  ['UNKEYWORD junk', q(flag('junk', false))],
  ['UNSEEN', q(flag('\\Seen', false))],
  ['2:4', q(seq(2, 4))],
  ['*', q(seq('*'))],
  ['$', q({ type: 'seq', set: { kind: 'saved' } })],
  ['(SEEN)', q(flag('\\Seen'))],
  ['(SEEN FLAGGED) DELETED', q({ type: 'and', keys: [{ type: 'and', keys: [flag('\\Seen'), flag('\\Flagged')] }, flag('\\Deleted')] })],
  ['seen unseen', q({ type: 'and', keys: [flag('\\Seen'), flag('\\Seen', false)] })],
  ['NOT (OR 1 2)', q({ type: 'not', key: { type: 'or', left: seq(1), right: seq(2) } })],
  ['OR (FROM a TO b) NOT 3', q({ type: 'or', left: { type: 'and', keys: [{ type: 'header', field: 'from', value: 'a' }, { type: 'header', field: 'to', value: 'b' }] }, right: { type: 'not', key: seq(3) } })],
  ['MODSEQ 620162338', q({ type: 'modseq', modseq: 620162338 })],
  ['MODSEQ "/flags/\\\\draft" all 620162338', q({ type: 'modseq', modseq: 620162338, entry: { flag: '\\draft', kind: 'all' } })],
  ['EMAILID M6d99ac3275bb4e', q({ type: 'emailid', id: 'M6d99ac3275bb4e' })],
  ['THREADID T64b478a75b7ea9', q({ type: 'threadid', id: 'T64b478a75b7ea9' })],
  ['SAVEDBEFORE 1-Jan-2020', q({ type: 'date', field: 'saved', cmp: 'before', date: d(2020, 1, 1) })],
  ['SAVEDON 1-Jan-2020', q({ type: 'date', field: 'saved', cmp: 'on', date: d(2020, 1, 1) })],
  ['SAVEDSINCE 1-Jan-2020', q({ type: 'date', field: 'saved', cmp: 'since', date: d(2020, 1, 1) })],
  ['SAVEDATESUPPORTED', q({ type: 'savedateSupported' })],
  ['OLDER 3600', q({ type: 'age', cmp: 'older', seconds: 3600 })],
  ['YOUNGER 60', q({ type: 'age', cmp: 'younger', seconds: 60 })],
  ['CHARSET UTF-8 SUBJECT {5+}\r\n\u00e9t\u00e9', q({ type: 'header', field: 'subject', value: '\u00e9t\u00e9' }, { charset: 'UTF-8' })],
  ['CHARSET "us-ascii" ALL', q({ type: 'all' }, { charset: 'US-ASCII' })],
  ['RETURN (MIN MAX) UNSEEN', q(flag('\\Seen', false), { returnOptions: ['MIN', 'MAX'] })],
  ['RETURN () ALL', q({ type: 'all' }, { returnOptions: ['ALL'] })],
  ['RETURN (PARTIAL 1:100) ALL', q({ type: 'all' }, { returnOptions: ['PARTIAL'], partial: { text: '1:100', fromEnd: false, low: 1, high: 100 } })],
  ['RETURN (min partial -1:-100 count save) SEEN', q(flag('\\Seen', true), { returnOptions: ['MIN', 'PARTIAL', 'COUNT', 'SAVE'], partial: { text: '-1:-100', fromEnd: true, low: 1, high: 100 } })],
  ['RETURN (count save all) CHARSET UTF-8 1:5', q(seq(1, 5), { returnOptions: ['COUNT', 'SAVE', 'ALL'], charset: 'UTF-8' })],
];

const bad: [string, string][] = [
  ['', 'Expected search key at end of command'],
  ['FOO', 'Unknown search key FOO'],
  ['FROM', 'Expected SP after FROM'],
  ['BEFORE 1-Feb', 'Expected "-" in date at end of command'],
  ['LARGER x', 'Expected size near "x"'],
  ['OR SEEN', 'Expected SP between OR keys'],
  ['NOT', 'Expected SP after NOT'],
  ['()', 'Empty list of search keys'],
  ['(SEEN', 'Expected SP or ")" in list at end of command'],
  ['SEEN)', 'Unexpected extra arguments near ")"'],
  ['UID 1:x', 'Invalid sequence set "1:x"'],
  ['1:x', 'Invalid sequence set "1:x"'],
  ['KEYWORD \\Seen', 'Expected keyword near "\\Seen"'],
  ['RETURN (FIRST) ALL', 'Unknown RETURN option FIRST'],
  ['RETURN ALL', 'Expected "(" to open RETURN options near "ALL"'],
  ['RETURN (PARTIAL 1:10 ALL) ALL', 'PARTIAL and ALL cannot be combined'],
  ['RETURN (PARTIAL 1:10 UPDATE) ALL', 'PARTIAL cannot be combined with UPDATE'],
  ['RETURN (PARTIAL 1:10 PARTIAL 2:3) ALL', 'PARTIAL given twice'],
  ['RETURN (PARTIAL 1:-10) ALL', 'Bad PARTIAL range 1:-10: expected n:m or -n:-m'],
  ['RETURN (PARTIAL) ALL', 'Expected SP after PARTIAL'],
  ['MODSEQ "/flags/x" bogus 5', 'Invalid MODSEQ entry type bogus'],
  ['MODSEQ "/other/x" all 5', 'Invalid MODSEQ entry name "/other/x"'],
  ['EMAILID a.b', 'Invalid object id "a.b"'],
  ['OLDER 0', 'Expected interval in seconds, got 0'],
  ['CHARSET UTF-8', 'Expected SP after charset'],
  ['SEEN  FLAGGED', 'Expected search key near " FLAGGED"'],
  [`${'NOT '.repeat(70)}SEEN`, 'Search nested deeper than 64 levels'],
  [`${'('.repeat(70)}SEEN${')'.repeat(70)}`, 'Search nested deeper than 64 levels'],
];

test('search parser: every search key', () => {
  for (const [wire, expected] of rows) assert.deepEqual(parseSearch(argsOf(wire)), expected, wire);
});

test('search parser: BAD texts', () => {
  const wrong: string[] = [];
  for (const [wire, text] of bad) {
    try {
      parseSearch(argsOf(wire));
      wrong.push(`${wire}: no error`);
    } catch (e) {
      if (!(e instanceof ImapParseError) || e.text !== text || e.response !== 'BAD') wrong.push(`${wire}: ${String(e)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('search parser: unknown charset is NO [BADCHARSET] (RFC 9051 6.4.4)', () => {
  assert.throws(
    () => parseSearch(argsOf('CHARSET ISO-8859-1 ALL')),
    (e: unknown) => e instanceof ImapParseError && e.response === 'NO' && e.code === 'BADCHARSET (UTF-8 US-ASCII)' && e.text === 'Unsupported charset ISO-8859-1',
  );
  assert.throws(() => parseSearch(argsOf('RETURN (MIN) ALL'), { esearch: false }), /RETURN is not supported/);
});

const words = ['PARTIAL', '1:100', '-1:-5', '-3:2', 'ALL', 'OR', 'NOT', '(', ')', ' ', 'SEEN', 'FROM', '"x"', '1:*', '$', 'UID', 'HEADER', 'BEFORE', '1-Jan-2000', 'MODSEQ', '5', 'CHARSET', 'UTF-8', 'RETURN', '{1+}\r\na', 'KEYWORD', 'x'];

test('fuzz: search parser throws only ImapParseError', () => {
  assertParsesOrRejects((r) => parseSearch(r), words);
});
