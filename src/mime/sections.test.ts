import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { indexMessage } from './index-message.js';
import { decodeBinary, filterHeaderFields, parseSectionSpec, resolveSection, sectionBytes, toWire } from './sections.js';

const raw = Buffer.from(
  [
    'From: a@x.test', 'Received: one', 'Subject: hi', ' there', 'Content-Type: multipart/mixed; boundary=b', '',
    '--b', 'Content-Type: text/plain', '', 'first', '--b', 'Content-Type: message/rfc822', '',
    'Subject: inner', '', 'inner body', '--b--', '',
  ].join('\r\n'),
);
const index = indexMessage(raw);
const answer = (spec: string): string | null => {
  const a = resolveSection(index, spec);
  return a === null ? null : sectionBytes(raw, a).toString('latin1');
};

test('sections answer by byte range, the way Dovecot does', () => {
  const rows: [string, string | null][] = [
    ['1', 'first'],
    ['1.MIME', 'Content-Type: text/plain\r\n\r\n'],
    ['2.MIME', 'Content-Type: message/rfc822\r\n\r\n'],
    ['2.HEADER', 'Subject: inner\r\n\r\n'],
    ['2.TEXT', 'inner body'],
    ['2.1', 'inner body'],
    ['1.HEADER', ''], // HEADER of a part that is not message/rfc822: empty
    ['3', ''], // no such part: empty
    ['2.1.1', ''],
    ['HEADER.FIELDS (SUBJECT from)', 'From: a@x.test\r\nSubject: hi\r\n there\r\n\r\n'],
    ['HEADER.FIELDS.NOT (RECEIVED CONTENT-TYPE)', 'From: a@x.test\r\nSubject: hi\r\n there\r\n\r\n'],
    ['2.HEADER.FIELDS (X-NONE)', '\r\n'],
    ['0', null],
    ['1.', null],
    ['MIME', null],
  ];
  for (const [spec, want] of rows) assert.equal(answer(spec), want, spec);
  assert.equal(answer(''), raw.toString('latin1'));
  assert.equal(answer('TEXT'), raw.toString('latin1').slice(raw.indexOf('\r\n\r\n') + 4));
});

test('section specs parse', () => {
  assert.deepEqual(parseSectionSpec('1.2.MIME'), { path: [1, 2], text: 'MIME', names: [] });
  assert.deepEqual(parseSectionSpec('header.fields.not (A "B")'), { path: [], text: 'HEADER.FIELDS.NOT', names: ['A', 'B'] });
  assert.equal(parseSectionSpec('HEADER.FIELDS ()'), null);
});

test('header filtering keeps order and folding, ends with the blank line (RFC 9051 6.4.5)', () => {
  const header = Buffer.from('A: 1\nB: 2\n  cont\na: 3\n\n');
  assert.equal(filterHeaderFields(header, ['a'], false).toString(), 'A: 1\r\na: 3\r\n\r\n');
  assert.equal(filterHeaderFields(header, ['a'], true).toString(), 'B: 2\r\n  cont\r\n\r\n');
  assert.equal(filterHeaderFields(Buffer.from('A: 1\r\n'), ['z'], true).toString(), 'A: 1\r\n', 'no blank line to keep');
});

test('BINARY decoding (RFC 3516)', () => {
  const rows: [string, string, string | { code: string }][] = [
    ['aGVsbG8=', 'base64', 'hello'],
    ['aGVs\r\n bG8=\r\n', 'BASE64', 'hello'],
    ['aGVsbG8', 'base64', { code: 'PARSE' }],
    ['aGV*bG8=', 'base64', { code: 'PARSE' }],
    ['caf=C3=A9=\r\n!', 'quoted-printable', 'café!'],
    ['bad =ZZ', 'quoted-printable', { code: 'PARSE' }],
    ['a\nb\0', '7bit', 'a\r\nb\0'],
    ['a\nb\0\n', 'binary', 'a\nb\0\n'], // RFC 3516 4.2: binary content is returned octet for octet
    ['a\r\nb', 'BINARY', 'a\r\nb'],
    ['x', 'x-uuencode', { code: 'UNKNOWN-CTE' }],
  ];
  for (const [body, enc, want] of rows) {
    const got = decodeBinary(Buffer.from(body, 'latin1'), enc);
    if (typeof want === 'string') assert.deepEqual(got, { ok: true, bytes: Buffer.from(want, 'utf8') }, body);
    else assert.deepEqual(got, { ok: false, code: want.code }, body);
  }
});

test('toWire: bare LF becomes CRLF, NUL becomes 0x80, CRLF untouched', () => {
  assert.deepEqual(toWire(Buffer.from('a\nb\r\n\0')), Buffer.from([0x61, 13, 10, 0x62, 13, 10, 0x80]));
});

test('property: any section spec on any message answers or refuses, never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), fc.uint8Array({ maxLength: 200 }), (spec, bytes) => {
      const r = Buffer.from(bytes);
      const a = resolveSection(indexMessage(r), spec);
      if (a) assert.ok(sectionBytes(r, a).length >= 0);
    }),
    { numRuns: 300 },
  );
});
