import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMailboxUtf7, encodeMailboxUtf7, MailboxNameError, normalizeMailboxName, validateMailboxName } from './mailbox-name.js';

// [decoded, wire]
const utf7Rows: [string, string][] = [
  ['INBOX', 'INBOX'],
  ['&', '&-'],
  ['a&b', 'a&-b'],
  ['Entwürfe', 'Entw&APw-rfe'],
  ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'], // RFC 3501 5.1.3 example
  ['Отправленные', '&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-'],
  ['😀', '&2D3eAA-'],
  ['x😀y', 'x&2D3eAA-y'],
  ['é&é', '&AOk-&-&AOk-'],
  ['tab\there', 'tab&AAk-here'],
  ['', ''],
];

const badUtf7: [string, string][] = [
  ['&AGE-', 'Printable US-ASCII must not be encoded in a mailbox name'], // "a" encoded
  ['&U,BTFw', 'Unterminated modified UTF-7 sequence in mailbox name'],
  ['&U/BTFw-', 'Invalid modified BASE64 character "/" in mailbox name'],
  ['&AOk=-', 'Invalid modified BASE64 character "=" in mailbox name'],
  ['&AOl-', 'Non-canonical modified BASE64 padding in mailbox name'], // nonzero padding bits
  ['&AOkA-', 'Non-canonical modified BASE64 padding in mailbox name'], // a whole extra sextet
  ['&AOk-&AOk-', 'Adjacent modified UTF-7 sequences in mailbox name'],
  ['&2D0-', 'Unpaired UTF-16 surrogate in mailbox name'],
  ['&3gA-', 'Unpaired UTF-16 surrogate in mailbox name'],
  ['caf\u00e9', 'Mailbox name has a character outside printable US-ASCII'],
  ['a\tb', 'Mailbox name has a character outside printable US-ASCII'],
];

test('modified UTF-7 encodes and decodes the table', () => {
  for (const [name, wire] of utf7Rows) {
    assert.equal(encodeMailboxUtf7(name), wire, name);
    assert.equal(decodeMailboxUtf7(wire), name, wire);
  }
});

test('modified UTF-7 rejects bad base64 and non-canonical forms', () => {
  for (const [wire, reason] of badUtf7) {
    assert.throws(() => decodeMailboxUtf7(wire), (e: unknown) => e instanceof MailboxNameError && e.message === reason, wire);
  }
});

test('property: decode(encode(s)) === s for well-formed strings', () => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => decodeMailboxUtf7(encodeMailboxUtf7(s)) === s));
});

test('property: every accepted wire form is canonical: encode(decode(w)) === w', () => {
  const unit = fc.constantFrom('&', '-', 'A', 'O', 'k', 'a', ',', '+', '2', 'D', '0', 'e', 'x', '/');
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 16 }), (w) => {
      let decoded: string;
      try {
        decoded = decodeMailboxUtf7(w);
      } catch (e) {
        return e instanceof MailboxNameError;
      }
      return encodeMailboxUtf7(decoded) === w;
    }),
  );
});

test('validateMailboxName explains every refusal', () => {
  const rows: [string, string | null][] = [
    ['INBOX', null],
    ['Archive/2024/Q1', null],
    ['Entwürfe', null],
    ['a.b', null],
    ['', 'Mailbox name is empty'],
    ['/', 'Mailbox name starts with "/"'],
    ['/a', 'Mailbox name starts with "/"'],
    ['a/', 'Mailbox name ends with "/"'],
    ['a//b', 'Mailbox name has an empty level'],
    ['a/../b', 'Mailbox name has a ".." level'],
    ['..', 'Mailbox name has a ".." level'],
    ['./x', 'Mailbox name has a "." level'],
    ['a\nb', 'Mailbox name contains a control character'],
    ['a\u0085b', 'Mailbox name contains a control character'],
    ['a*b', 'Mailbox name contains a wildcard character (% or *)'],
    ['100%', 'Mailbox name contains a wildcard character (% or *)'],
    ['x'.repeat(256), 'Mailbox name level is longer than 255 bytes'],
    ['x'.repeat(255), null],
    [Array(34).fill('a').join('/'), 'Mailbox name has more than 32 levels'],
    [Array(5).fill('y'.repeat(250)).join('/'), 'Mailbox name is longer than 1024 bytes'],
    ['\ud800x', 'Mailbox name is not valid Unicode'],
  ];
  for (const [name, reason] of rows) assert.equal(validateMailboxName(name), reason, JSON.stringify(name).slice(0, 40));
  assert.equal(validateMailboxName('a.b', { delimiter: '.' }), null);
  assert.equal(validateMailboxName('a..b', { delimiter: '.' }), 'Mailbox name has an empty level');
});

test('normalizeMailboxName makes INBOX canonical', () => {
  assert.equal(normalizeMailboxName('inbox'), 'INBOX');
  assert.equal(normalizeMailboxName('InBox/Sub'), 'INBOX/Sub');
  assert.equal(normalizeMailboxName('inboxes'), 'inboxes');
  assert.equal(normalizeMailboxName('Other'), 'Other');
});
