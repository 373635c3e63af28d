import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activeVacation, buildVacationReply, whyNoReply } from './vacation.js';

const OWN = ['alice@example.test'];
const head = (fields: string) => Buffer.from(`${fields}\r\n\r\n`, 'latin1');
const personal = 'From: Bob <bob@example.net>\r\nTo: Alice <Alice@Example.test>\r\nSubject: lunch?\r\nMessage-ID: <m1@example.net>';

test('whyNoReply: RFC 3834 says who gets no automatic reply (table)', () => {
  const rows: [string, string, string | null][] = [
    ['bob@example.net', personal, null],
    ['bob@example.net', 'From: b@example.net\r\nTo: x@example.net\r\nCc: alice@example.test', null],
    ['', personal, 'null or invalid envelope sender'],
    ['MAILER-DAEMON@example.net', personal, 'sender is a system address'],
    ['noreply@example.net', personal, 'sender is a system address'],
    ['no-reply@example.net', personal, 'sender is a system address'],
    ['list-request@example.net', personal, 'sender is a system address'],
    ['owner-list@example.net', personal, 'sender is a system address'],
    ['bob@example.net', `${personal}\r\nAuto-Submitted: auto-replied`, 'message is automatic (Auto-Submitted)'],
    ['bob@example.net', `${personal}\r\nAuto-Submitted: auto-generated; x=y`, 'message is automatic (Auto-Submitted)'],
    ['bob@example.net', `${personal}\r\nAuto-Submitted: no`, null],
    ['bob@example.net', `${personal}\r\nList-Id: <list.example.net>`, 'message is from a mailing list'],
    ['bob@example.net', `${personal}\r\nList-Unsubscribe: <mailto:u@example.net>`, 'message is from a mailing list'],
    ['bob@example.net', `${personal}\r\nPrecedence: bulk`, 'message is bulk (Precedence)'],
    ['bob@example.net', `${personal}\r\nPrecedence: junk`, 'message is bulk (Precedence)'],
    ['bob@example.net', `${personal}\r\nX-Auto-Response-Suppress: OOF, AutoReply`, 'sender asked for no automatic replies'],
    ['bob@example.net', 'From: b@example.net\r\nTo: undisclosed-recipients:;', 'the user is not in To or Cc'],
    ['bob@example.net', 'From: b@example.net\r\nTo: other@example.test\r\nBcc: alice@example.test', 'the user is not in To or Cc'],
  ];
  for (const [sender, fields, why] of rows) assert.equal(whyNoReply({ envelopeSender: sender, head: head(fields), ownAddresses: OWN }), why, `${sender} | ${fields}`);
});

test('activeVacation: on with a message, off after --until, days default 7', () => {
  const now = new Date('2026-11-29T10:00:00Z');
  assert.equal(activeVacation({}, now), null);
  assert.deepEqual(activeVacation({ 'vacation.message': 'away' }, now), { subject: null, message: 'away', until: null, days: 7 });
  assert.equal(activeVacation({ 'vacation.message': 'away', 'vacation.until': '2026-11-29T10:00:00.000Z' }, now), null);
  assert.equal(activeVacation({ 'vacation.message': 'away', 'vacation.until': '2026-12-01T00:00:00.000Z', 'vacation.days': '3' }, now)?.days, 3);
});

test('buildVacationReply: Auto-Submitted, threading fields, Auto: subject, UTF-8', () => {
  const reply = buildVacationReply(
    { subject: null, message: 'Bin weg – zurück am Montag.\nGrüße', until: null, days: 7 },
    { from: 'alice@example.test', to: 'bob@example.net', head: head(`${personal}\r\nReferences: <m0@example.net>`), hostname: 'mx.example.test', now: new Date('2026-11-29T10:00:00Z') },
  ).toString('utf8');
  assert.match(reply, /^From: <alice@example.test>\r\nTo: <bob@example.net>\r\nSubject: Auto: lunch\?\r\n/);
  assert.match(reply, /\r\nIn-Reply-To: <m1@example.net>\r\nReferences: <m0@example.net> <m1@example.net>\r\n/);
  assert.match(reply, /\r\nAuto-Submitted: auto-replied\r\n/);
  assert.match(reply, /\r\nMessage-ID: <[0-9a-f]{24}\.vacation@mx\.example\.test>\r\n/);
  assert.match(reply, /\r\n\r\nBin weg – zurück am Montag.\r\nGrüße\r\n$/);
  const encoded = buildVacationReply({ subject: 'Abwesend – Urlaub', message: 'x', until: null, days: 7 }, { from: 'a@x.test', to: 'b@y.test', head: head('From: b@y.test'), hostname: 'h', now: new Date() }).toString('latin1');
  assert.match(encoded, /\r\nSubject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=\r\n/);
  assert.doesNotMatch(encoded, /In-Reply-To/);
});
