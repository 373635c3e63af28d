import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { codes, continuation, esearch, formatAstring, formatFlagList, formatMailbox, safeText, tagged, untagged, untaggedStatus } from './response.js';

test('response writers', () => {
  const rows: [string, string][] = [
    [tagged('a1', 'OK', 'LOGIN completed'), 'a1 OK LOGIN completed\r\n'],
    [tagged('a2', 'NO', 'No such mailbox', 'TRYCREATE'), 'a2 NO [TRYCREATE] No such mailbox\r\n'],
    [tagged('a3', 'BAD', 'line1\r\nline2'), 'a3 BAD line1 line2\r\n'],
    [tagged('a4', 'OK', ''), 'a4 OK Completed\r\n'],
    [tagged('a5', 'NO', '[odd] text'), 'a5 NO (odd] text\r\n'],
    [tagged('a6', 'OK', 'APPEND completed', codes.appendUid(38505, [3955])), 'a6 OK [APPENDUID 38505 3955] APPEND completed\r\n'],
    [tagged('a7', 'OK', 'Done', codes.copyUid(38505, [304, 319, 320], [3956, 3957, 3958])), 'a7 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n'],
    [tagged('a8', 'NO', 'x', 'BAD]CODE\r\n'), 'a8 NO [BAD CODE] x\r\n'],
    [untaggedStatus('OK', 'Flags permitted', codes.permanentFlags(['\\Seen', '\\*'])), '* OK [PERMANENTFLAGS (\\Seen \\*)] Flags permitted\r\n'],
    [untaggedStatus('NO', 'bad', codes.badCharset(['UTF-8', 'US-ASCII'])), '* NO [BADCHARSET (UTF-8 US-ASCII)] bad\r\n'],
    [untaggedStatus('BYE', 'Logging out'), '* BYE Logging out\r\n'],
    [untaggedStatus('OK', 'x', codes.uidNext(4392)), '* OK [UIDNEXT 4392] x\r\n'],
    [untaggedStatus('OK', 'x', codes.uidValidity(3857529045)), '* OK [UIDVALIDITY 3857529045] x\r\n'],
    [untaggedStatus('OK', 'x', codes.highestModSeq(715194045007)), '* OK [HIGHESTMODSEQ 715194045007] x\r\n'],
    [untaggedStatus('OK', 'x', codes.unseen(12)), '* OK [UNSEEN 12] x\r\n'],
    [tagged('a9', 'OK', 'x', codes.modified([7, 9, 8])), 'a9 OK [MODIFIED 7:9] x\r\n'],
    [tagged('b1', 'OK', 'x', codes.mailboxId('F2212ea87-6097')), 'b1 OK [MAILBOXID (F2212ea87-6097)] x\r\n'],
    [untaggedStatus('OK', 'hi', codes.capability(['IMAP4rev2', 'IDLE'])), '* OK [CAPABILITY IMAP4rev2 IDLE] hi\r\n'],
    [untagged('3 EXISTS'), '* 3 EXISTS\r\n'],
    [untagged('FLAGS (\\Seen)\r\n'), '* FLAGS (\\Seen)\r\n'],
    [continuation(), '+ Ready\r\n'],
    [continuation('go\r\non'), '+ go on\r\n'],
    [formatFlagList(['\\Seen', '$Junk']), '(\\Seen $Junk)'],
    [formatFlagList([]), '()'],
    [formatAstring('INBOX'), 'INBOX'],
    [formatAstring('a b'), '"a b"'],
    [formatAstring('NIL'), '"NIL"'],
    [formatAstring(''), '""'],
    [formatMailbox('Entwürfe'), '"Entw&APw-rfe"'],
    [formatMailbox('Entwürfe', true), '"Entwürfe"'],
    [formatMailbox('a"b'), '"a\\"b"'],
    [esearch({ tag: 'a1', uid: true, min: 2, max: 9, count: 3, all: [2, 9, 5] }), '* ESEARCH (TAG "a1") UID MIN 2 MAX 9 COUNT 3 ALL 2,5,9\r\n'],
    [esearch({ tag: 'a2', uid: false, count: 0, all: [] }), '* ESEARCH (TAG "a2") COUNT 0\r\n'],
    [esearch({ tag: 'a3', uid: false, all: [1, 2, 3], modseq: 917162500 }), '* ESEARCH (TAG "a3") ALL 1:3 MODSEQ 917162500\r\n'],
  ];
  for (const [got, expected] of rows) assert.equal(got, expected);
});

test('property: status lines are always exactly one line', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.option(fc.string({ maxLength: 20 }), { nil: undefined }), (text, code) => {
      const line = tagged('t', 'NO', text, code);
      return line.endsWith('\r\n') && !/[\r\n]/.test(line.slice(0, -2)) && safeText(text).length > 0;
    }),
  );
});
