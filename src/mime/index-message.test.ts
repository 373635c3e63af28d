import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { indexMessage } from './index-message.js';
import type { MimePart } from './types.js';
import { parseAddressList } from './address.js';
import { parseParams, decodeRfc2231Value } from './rfc2231.js';
import { Rfc822Reader } from './rfc822-tokens.js';
import { readHeaderBlock } from './header-block.js';
import { headerToText, bytesToText, decodeQuotedPrintable } from './decode.js';
import { searchText } from './search-text.js';
import { parseDate } from './date.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'latin1');
const slice = (raw: Buffer, s: number, e: number): string => raw.subarray(s, e).toString('latin1');

test('header block: unfolding, whitespace before colon, no-colon lines, bare LF, end kinds', () => {
  const rows: [string, { names: string[]; values: (string | null)[]; endedBy: string }][] = [
    ['A: 1\r\nB:   two\r\n\r\nbody', { names: ['A', 'B'], values: ['1', 'two'], endedBy: 'blank' }],
    ['A: x\r\n  y\r\n\tz\r\n\r\n', { names: ['A'], values: ['x\n  y\n\tz'], endedBy: 'blank' }],
    ['Subject : s\n\n', { names: ['Subject'], values: ['s'], endedBy: 'blank' }],
    ['no colon here\r\nA: 1\r\n', { names: ['no colon here', 'A'], values: [null, '1'], endedBy: 'eof' }],
    ['A:   \r\n\r\n', { names: ['A'], values: ['  '], endedBy: 'blank' }],
    ['A: caf\xe9\r\n\r\n', { names: ['A'], values: ['caf\xe9'], endedBy: 'blank' }],
    ['A: 1', { names: ['A'], values: ['1'], endedBy: 'eof' }],
  ];
  for (const [input, want] of rows) {
    const b = readHeaderBlock(Buffer.from(input, 'latin1'), 0, null);
    assert.deepEqual(b.fields.map((f) => f.name), want.names, input);
    assert.deepEqual(b.fields.map((f) => f.value), want.values, input);
    assert.equal(b.endedBy, want.endedBy, input);
  }
});

test('parameters: quoting, RFC 2231 continuations and charset values, garbage skipped', () => {
  const rows: [string, [string, string][]][] = [
    ['; charset=utf-8', [['charset', 'utf-8']]],
    ['; name="a \\"b\\"; c"; x=y', [['name', 'a "b"; c'], ['x', 'y']]],
    ["; title*=utf-8''%E2%82%AC", [['title*', "utf-8''%E2%82%AC"]]],
    ['; f*1="b"; f*0="a"', [['f', 'ab']]],
    ["; f*0*=utf-8''a%20; f*1=b%", [['f*', "utf-8''a%20b%25"]]],
    ['; f*0=a; f*2=c', [['f*0', 'a'], ['f*2', 'c']]],
    [' junk ; a=1', [['a', '1']]],
    ['; a=', [['a', '']]],
  ];
  for (const [input, want] of rows) assert.deepEqual(parseParams(new Rfc822Reader(input)), want, input);
  assert.equal(decodeRfc2231Value("utf-8''%E2%82%AC", (b, cs) => bytesToText(Buffer.from(b, 'latin1'), cs)), '€');
});

test('addresses: groups, comments as names, repairs of broken input', () => {
  const rows: [string, (string | null)[][] | null][] = [
    ['"Doe, John" <john@x.test>', [['Doe, John', null, 'john', 'x.test']]],
    ['john@x.test (John Doe)', [['John Doe', null, 'john', 'x.test']]],
    ['undisclosed-recipients:;', [[null, null, 'undisclosed-recipients', null], [null, null, null, null]]],
    ['team: a@x.test, b@x.test;', [[null, null, 'team', null], [null, null, 'a', 'x.test'], [null, null, 'b', 'x.test'], [null, null, null, null]]],
    ['<@route.test:u@x.test>', [[null, '@route.test', 'u', 'x.test']]],
    ['justaname', [[null, null, 'justaname', 'MISSING_DOMAIN']]],
    ['Name <broken', [['Name', null, 'broken', 'SYNTAX_ERROR']]],
    ['   ', null],
  ];
  for (const [input, want] of rows) {
    const got = parseAddressList(input);
    assert.deepEqual(got && got.map((a) => [a.name, a.adl, a.mailbox, a.host]), want, input);
  }
});

test('encoded words and charsets decode, bad ones degrade without throwing', () => {
  assert.equal(headerToText('=?UTF-8?B?w6lsw6h2ZQ==?= =?ISO-8859-1?Q?caf=E9?='), 'élèvecafé');
  assert.equal(headerToText('=?x-no-such?Q?abc?='), headerToText('=?x-no-such?Q?abc?='));
  assert.equal(bytesToText(Buffer.from([0xe9]), 'no-such-charset'), 'é');
  assert.equal(bytesToText(Buffer.from([0xc3, 0xa9]), 'utf-8'), 'é');
  assert.equal(decodeQuotedPrintable(Buffer.from('a=3D=\r\nb=ZZ'))?.toString('latin1'), 'a=b=ZZ');
  assert.equal(decodeQuotedPrintable(Buffer.from('b=ZZ'), true), null);
});

test('dates', () => {
  assert.equal(parseDate('Mon, 6 Jan 2025 10:00:00 +0100'), Date.UTC(2025, 0, 6, 9, 0, 0));
  assert.equal(parseDate('6 Jan 99 10:00 GMT'), Date.UTC(1999, 0, 6, 10, 0, 0));
  assert.equal(parseDate('yesterday'), null);
});

/** Every part's [headerStart, headerEnd) and [headerEnd, bodyEnd) as latin1 text. */
function parts(raw: Buffer, p: MimePart, out: [string, string, string][] = []): [string, string, string][] {
  out.push([p.section, slice(raw, p.headerStart, p.headerEnd), slice(raw, p.headerEnd, p.bodyEnd)]);
  for (const c of p.parts ?? []) parts(raw, c, out);
  if (p.message) parts(raw, p.message.body, out);
  return out;
}

test('offsets: boundaries own their CRLF, preamble/epilogue stay in the multipart, nested same boundary', () => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary=b\n\npre\n--b\nContent-Type: text/plain\n\none\n--b\n' +
      'Content-Type: multipart/alternative; boundary=b2\n\n--b2\n\ntwo\n--b2--\nepi2\n--b--\nepilogue\n',
  );
  const idx = indexMessage(raw);
  assert.deepEqual(parts(raw, idx.body).map(([s, , b]) => [s, b]), [
    ['', 'pre\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n\r\ntwo\r\n--b2--\r\nepi2\r\n--b--\r\nepilogue\r\n'],
    ['1', 'one'],
    ['2', '--b2\r\n\r\ntwo\r\n--b2--\r\nepi2'],
    ['2.1', 'two'],
  ]);
  assert.equal(idx.body.parts?.[0].lines, 0);
  assert.equal(idx.body.parts?.[0].size, 3);
});

test('offsets: missing final boundary, wrong boundary, missing boundary parameter, empty multipart', () => {
  const noFinal = crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\nlast part\n');
  assert.deepEqual(parts(noFinal, indexMessage(noFinal).body).map(([s, , b]) => [s, b]).slice(1), [['1', 'last part\r\n']]);
  const wrong = crlf('Content-Type: multipart/mixed; boundary=b\n\n--c\n\nx\n');
  const w = indexMessage(wrong).body;
  assert.equal(w.parts?.length, 1);
  assert.equal(w.parts?.[0].size, 0, 'a multipart without parts shows one empty text/plain');
  const noParam = crlf('Content-Type: multipart/mixed\n\n--b\n\nx\n');
  assert.equal(indexMessage(noParam).body.parts?.[0].size, 0);
});

test('message/rfc822 has its own envelope and body; bare LF sizes count CRLF', () => {
  const raw = Buffer.from('Content-Type: message/rfc822\n\nSubject: inner\nFrom: a@b.test\n\nhi\n');
  const idx = indexMessage(raw);
  assert.equal(idx.body.message?.envelope.subject, 'inner');
  assert.deepEqual(idx.body.message?.envelope.from, [{ name: null, adl: null, mailbox: 'a', host: 'b.test' }]);
  assert.equal(slice(raw, idx.body.message!.body.headerEnd, idx.body.message!.body.bodyEnd), 'hi\n');
  assert.equal(idx.size, raw.length + 6, 'six bare LFs count as CRLF');
  assert.equal(idx.body.lines, 4);
});

test('nesting deeper than maxDepth is opaque', () => {
  let msg = 'Subject: deep\n\nx\n';
  for (let i = 0; i < 5; i++) msg = `Content-Type: message/rfc822\n\n${msg}`;
  const idx = indexMessage(Buffer.from(msg), { maxDepth: 3 });
  let p: MimePart = idx.body;
  let depth = 0;
  while (p.message) {
    p = p.message.body;
    depth++;
  }
  assert.equal(depth, 2);
  assert.equal(`${p.type}/${p.subtype}`, 'application/octet-stream');
});

test('envelope: sender/reply-to default to from, preview, thread keys, large bodies', () => {
  const big = 'A'.repeat(70000);
  const raw = crlf(
    'From: a@x.test\nMessage-ID: <m@x>\nIn-Reply-To: <p@x>\nReferences: <r@x> <p@x>\nDate: Mon, 6 Jan 2025 10:00:00 +0000\n' +
      'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n\n<p>Hello&nbsp;<b>world</b></p>\n--b\n' +
      `Content-Type: application/octet-stream\n\n${big}\n--b--\n`,
  );
  const idx = indexMessage(raw, { largeBodyThreshold: 65536 });
  assert.deepEqual(idx.envelope.sender, idx.envelope.from);
  assert.deepEqual(idx.envelope.replyTo, idx.envelope.from);
  assert.equal(idx.preview, 'Hello world');
  assert.deepEqual(idx.threadKeys, ['<m@x>', '<p@x>', '<r@x>']);
  assert.equal(idx.sentDate, Date.UTC(2025, 0, 6, 10));
  assert.equal(idx.largeBodies.length, 1);
  assert.equal(slice(raw, idx.largeBodies[0].start, idx.largeBodies[0].end), big);
  assert.match(searchText(raw, idx), /Hello world/);
});

/** Checks the structural invariants the store and FETCH rely on. */
function checkInvariants(raw: Buffer, p: MimePart, lo: number, hi: number): void {
  assert.ok(lo <= p.headerStart && p.headerStart <= p.headerEnd && p.headerEnd <= p.bodyEnd && p.bodyEnd <= hi, p.section);
  assert.ok(p.size >= p.bodyEnd - p.headerEnd && Number.isInteger(p.size));
  for (const c of p.parts ?? []) checkInvariants(raw, c, p.headerEnd, p.bodyEnd);
  if (p.message) checkInvariants(raw, p.message.body, p.headerEnd, p.bodyEnd);
}

test('property: any bytes index without throwing, fast, with nested in-bounds offsets', () => {
  const pieces = fc.constantFrom(
    'Content-Type: multipart/mixed; boundary=b\r\n', 'Content-Type: message/rfc822\r\n', 'Content-Type: text/plain\r\n',
    '--b\r\n', '--b--\r\n', '\r\n', '\n', 'Subject: =?utf-8?q?x?=\r\n', 'From: a@b, "c" <d@e>\r\n', ' folded\r\n',
    'x', '\r', '--', 'MIME-Version: 1.0\r\n', 'Content-Type: multipart/digest; boundary="b"\r\n',
  );
  const message = fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
    fc.array(pieces, { maxLength: 60 }).map((a) => Buffer.from(a.join(''), 'latin1')),
  );
  fc.assert(
    fc.property(message, (raw) => {
      const started = Date.now();
      const idx = indexMessage(raw);
      checkInvariants(raw, idx.body, 0, raw.length);
      assert.equal(idx.body.headerStart, 0);
      assert.equal(idx.body.bodyEnd, raw.length);
      assert.ok(idx.preview.length <= 256);
      searchText(raw, idx);
      assert.ok(Date.now() - started < 1000);
    }),
    { numRuns: 300 },
  );
});

test('a 50 MB message with a base64 attachment indexes in well under a second or two', () => {
  const line = 'QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n';
  const body = line.repeat(Math.ceil((50 * 1024 * 1024) / line.length));
  const raw = Buffer.from(`Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}--XX--\r\n`);
  const started = Date.now();
  const idx = indexMessage(raw);
  const ms = Date.now() - started;
  assert.equal(idx.largeBodies.length, 1);
  assert.ok(ms < 2000, `${ms} ms`);
});
