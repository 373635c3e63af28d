import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseMessageUrl, type MessageUrl } from './imap-url.js';

const good: [string, MessageUrl][] = [
  [';UID=7', { uid: 7 }],
  [';uid=7/;section=1.2', { uid: 7, section: { part: [1, 2], text: undefined } }],
  [';UID=7/;SECTION=TEXT/;PARTIAL=10.20', { uid: 7, section: { part: [], text: 'TEXT' }, partial: { offset: 10, length: 20 } }],
  [';UID=7/;PARTIAL=5', { uid: 7, partial: { offset: 5, length: 0xffffffff } }],
  ['/INBOX/;UID=1', { mailbox: 'INBOX', uid: 1 }],
  ['/INBOX/Sub/;UID=1', { mailbox: 'INBOX/Sub', uid: 1 }],
  ['/INBOX;UIDVALIDITY=385759045/;UID=20', { mailbox: 'INBOX', uidValidity: 385759045, uid: 20 }],
  ['/Entw%C3%BCrfe/;UID=3', { mailbox: 'Entwürfe', uid: 3 }],
  ['/a%20b/;UID=3/;SECTION=2.MIME', { mailbox: 'a b', uid: 3, section: { part: [2], text: 'MIME' } }],
  ['/INBOX/;UID=3/;SECTION=HEADER.FIELDS%20(From%20To)', { mailbox: 'INBOX', uid: 3, section: { part: [], text: 'HEADER.FIELDS', fields: ['From', 'To'] } }],
  ['imap://joe@example.com/INBOX/;UID=4', { user: 'joe', mailbox: 'INBOX', uid: 4 }],
  ['imap://joe%40example.com;AUTH=*@mail.example.com:143/INBOX;UIDVALIDITY=9/;UID=4', { user: 'joe@example.com', mailbox: 'INBOX', uidValidity: 9, uid: 4 }],
  ['IMAP://host/Drafts/;UID=4', { mailbox: 'Drafts', uid: 4 }],
];

const bad = [
  '',
  ';UID=0',
  ';UID=x',
  ';UID=99999999999',
  ';UID=1/;SECTION=',
  ';UID=1/;SECTION=0',
  ';UID=1/;SECTION=1.x',
  ';UID=1/;PARTIAL=1.0',
  ';UID=1/;PARTIAL=1/;SECTION=1', // order is SECTION then PARTIAL
  ';UID=1/extra',
  '/INBOX;UIDVALIDITY=0/;UID=1',
  '/INBOX',
  '/INBOX/;UID=1;URLAUTH=anonymous',
  '/INBOX?SUBJECT%20x',
  '/%ZZ/;UID=1',
  '/%FF/;UID=1', // not UTF-8
  'imap://host',
  'imap:///INBOX/;UID=1',
  'http://host/INBOX/;UID=1',
  'INBOX/;UID=1',
  '/IN BOX/;UID=1',
];

test('IMAP URLs to one message: table', () => {
  for (const [text, want] of good) assert.deepEqual(parseMessageUrl(text), want, text);
  for (const text of bad) assert.equal(parseMessageUrl(text), null, text);
});

test('any string: a URL or null, never an exception; a parsed UID is a non-zero 32-bit number', () => {
  const piece = fc.constantFrom('imap://', 'u@h', '/', ';UID=', ';SECTION=', ';PARTIAL=', ';UIDVALIDITY=', 'INBOX', '1', '2.3', '.', '%41', '%', 'TEXT', '0', '4294967296');
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.array(piece).map((p) => p.join(''))), (text) => {
      const url = parseMessageUrl(text);
      if (url) assert.ok(url.uid >= 1 && url.uid <= 0xffffffff);
    }),
    { numRuns: 2000 },
  );
});
