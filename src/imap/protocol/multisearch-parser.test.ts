import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMultiSearch, type MultiSearchCommand } from './multisearch-parser.js';
import { argsOf, assertParsesOrRejects, badText } from './test-support.js';

/** A command in a compact form: `sources | return options | key types`. */
function shape(c: MultiSearchCommand): string {
  const sources = c.sources === null ? '-' : c.sources.map((s) => ('names' in s ? `${s.kind}=${s.names.join(',')}` : s.kind)).join(' ');
  const opts = c.search.returnOptions ? c.search.returnOptions.join(',') + (c.search.partial ? `:${c.search.partial.text}` : '') : '-';
  return `${sources} | ${opts} | ${c.search.query.type}`;
}

const parses: [string, string][] = [
  ['ALL', '- | - | all'],
  ['RETURN (COUNT) UNSEEN', '- | COUNT | flag'],
  ['IN (personal) ALL', 'personal | - | all'],
  ['in (SELECTED inboxes Subscribed) return (min max) all', 'selected inboxes subscribed | MIN,MAX | all'],
  ['IN (mailboxes (inbox Sent "a b")) SUBJECT x', 'mailboxes=INBOX,Sent,a b | - | header'],
  ['IN (subtree Work subtree-one (Lists Archive)) RETURN () SEEN', 'subtree=Work subtree-one=Lists,Archive | ALL | flag'],
  ['IN (personal) RETURN (COUNT PARTIAL -1:-10) CHARSET UTF-8 FROM bob', 'personal | COUNT,PARTIAL:-1:-10 | header'],
];

test('ESEARCH (RFC 7377) arguments that parse', () => {
  for (const [wire, want] of parses) assert.equal(shape(parseMultiSearch(argsOf(wire))), want, wire);
});

const bad: [string, RegExp][] = [
  ['', /./],
  ['IN', /SP/],
  ['IN ()', /mailbox filter/],
  ['IN (personal (depth 1)) ALL', /scope option/],
  ['IN (selected-delayed) ALL', /Unknown mailbox filter SELECTED-DELAYED/],
  ['IN (nowhere) ALL', /Unknown mailbox filter/],
  ['IN (subtree) ALL', /SP/],
  ['IN (mailboxes ()) ALL', /Empty list/],
  ['IN (personal) RETURN (NOSUCH) ALL', /Unknown RETURN option/],
  ['IN (personal)', /SP/],
  ['IN (personal) ALL extra', /./],
];

test('ESEARCH arguments that are BAD', () => {
  for (const [wire, want] of bad) assert.match(badText(() => parseMultiSearch(argsOf(wire))), want, wire);
});

test('ESEARCH parser: random input parses or is a protocol error, never a crash', () => {
  const words = ['IN', ' ', '(', ')', 'SELECTED', 'PERSONAL', 'INBOXES', 'SUBSCRIBED', 'SUBTREE', 'SUBTREE-ONE', 'MAILBOXES', 'INBOX', '"a b"', 'RETURN', 'MIN', 'COUNT', 'PARTIAL', '1:5', 'ALL', 'UNSEEN', 'CHARSET', 'UTF-8', '{3}'];
  assertParsesOrRejects((r) => parseMultiSearch(r), words);
});
