import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexMessage } from '../../mime/index-message.js';
import { formatBodyStructure } from './body-structure.js';
import { formatEnvelope } from './envelope.js';
import { formatHumanString, formatString } from './imap-string.js';

test('strings: quoted when safe, literal for 8-bit, CR/LF or more than four escapes (as Dovecot)', () => {
  const rows: [string, string][] = [
    ['plain', '"plain"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['""""', '"\\"\\"\\"\\""'],
    ['"""""', '{5}\r\n"""""'],
    ['caf\xe9', '{4}\r\ncaf\xe9'],
    ['a\r\nb', '{4}\r\na\r\nb'],
  ];
  for (const [input, want] of rows) assert.equal(formatString(input), want, input);
});

test('strings for humans: whitespace collapsed and trimmed, literal when changed', () => {
  const rows: [string, string][] = [
    ['', '""'],
    [' \t ', '""'],
    ['foo', '"foo"'],
    [' foo ', '{3}\r\nfoo'],
    ['hello\n  world', '{11}\r\nhello world'],
    ['a"b', '{3}\r\na"b'],
  ];
  for (const [input, want] of rows) assert.equal(formatHumanString(input), want, input);
});

test('ENVELOPE and BODYSTRUCTURE of a small message', () => {
  const raw = Buffer.from(
    'Date: Mon, 6 Jan 2025 10:00:00 +0000\r\nSubject: Hi\r\nFrom: "A B" <a@x.test>\r\nTo: g: c@x.test;\r\n' +
      'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: TEXT/Plain\r\n\r\nhi\r\n' +
      '--b\r\nContent-Type: application/pdf; name=x.pdf\r\nContent-Transfer-Encoding: Base64\r\n' +
      'Content-Disposition: attachment; filename=x.pdf\r\nContent-Language: en, de\r\n\r\nAAAA\r\n--b--\r\n',
  );
  const idx = indexMessage(raw);
  assert.equal(
    formatEnvelope(idx.envelope),
    '("Mon, 6 Jan 2025 10:00:00 +0000" "Hi" (("A B" NIL "a" "x.test")) (("A B" NIL "a" "x.test")) (("A B" NIL "a" "x.test")) ' +
      '((NIL NIL "g" NIL)(NIL NIL "c" "x.test")(NIL NIL NIL NIL)) NIL NIL NIL NIL)',
  );
  assert.equal(
    formatBodyStructure(idx.body, false),
    '(("TEXT" "Plain" ("charset" "us-ascii") NIL NIL "7bit" 2 0)("application" "pdf" ("name" "x.pdf") NIL NIL "Base64" 4) "mixed")',
  );
  assert.equal(
    formatBodyStructure(idx.body, true),
    '(("TEXT" "Plain" ("charset" "us-ascii") NIL NIL "7bit" 2 0 NIL NIL NIL NIL)' +
      '("application" "pdf" ("name" "x.pdf") NIL NIL "Base64" 4 NIL ("attachment" ("filename" "x.pdf")) ("en" "de") NIL) ' +
      '"mixed" ("boundary" "b") NIL NIL NIL)',
  );
});
