import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadEventError, parseNotify, type NotifyRequest } from './notify-parser.js';
import { argsOf, assertParsesOrRejects, badText } from './test-support.js';

/** A request in a compact form: `status | filter:events[:fetch] ...`. */
function shape(req: NotifyRequest): string {
  if (req.kind === 'none') return 'none';
  const groups = req.groups.map((g) => {
    const f = g.filter;
    const name = f.kind === 'selected' ? (f.delayed ? 'selected-delayed' : 'selected') : f.kind === 'subtree' || f.kind === 'mailboxes' ? `${f.kind}=${f.names.join(',')}` : f.kind;
    return `${name}:${[...g.events].join(',')}${g.fetchText ? `:${g.fetchText}` : ''}`;
  });
  return [req.status ? 'status' : '', ...groups].filter(Boolean).join(' ');
}

const parses: [string, string][] = [
  ['NONE', 'none'],
  ['none', 'none'],
  ['SET (SELECTED (MessageNew MessageExpunge))', 'selected:MessageNew,MessageExpunge'],
  ['SET STATUS (PERSONAL (MailboxName SubscriptionChange))', 'status personal:MailboxName,SubscriptionChange'],
  ['set (selected-delayed (messagenew (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)]) messageexpunge flagchange))', 'selected-delayed:MessageNew,MessageExpunge,FlagChange:(UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])'],
  ['SET (INBOXES NONE) (SUBSCRIBED (MailboxName))', 'inboxes: subscribed:MailboxName'],
  ['SET (SUBTREE Work (MailboxName))', 'subtree=Work:MailboxName'],
  ['SET (SUBTREE (Work "Lists/a b") (MailboxName))', 'subtree=Work,Lists/a b:MailboxName'],
  ['SET (MAILBOXES (inbox Sent) (MessageNew MessageExpunge)) (MAILBOXES Drafts NONE)', 'mailboxes=INBOX,Sent:MessageNew,MessageExpunge mailboxes=Drafts:'],
];

test('NOTIFY arguments that parse', () => {
  for (const [wire, want] of parses) assert.equal(shape(parseNotify(argsOf(wire))), want, wire);
});

const bad: [string, RegExp][] = [
  ['', /SET or NONE/],
  ['SET', /SP/],
  ['SET ()', /mailbox filter/],
  ['SET (PERSONAL)', /SP/],
  ['SET (PERSONAL ())', /Empty list/],
  ['SET (PERSONAL (MessageNew))', /together/],
  ['SET (PERSONAL (MessageExpunge))', /together/],
  ['SET (PERSONAL (FlagChange MailboxName))', /FlagChange needs/],
  ['SET (PERSONAL (MessageNew (UID) MessageExpunge))', /SELECTED/],
  ['SET (SELECTED (MessageNew (BODY[]) MessageExpunge))', /Seen/],
  ['SET (SELECTED (MessageNew (NOSUCH) MessageExpunge))', /./],
  ['SET (PERSONAL (MailboxName MailboxName))', /twice/],
  ['SET (PERSONAL (MailboxName)) (PERSONAL NONE)', /twice/],
  ['SET (SELECTED NONE) (SELECTED-DELAYED NONE)', /twice/],
  ['SET (ELSEWHERE (MailboxName))', /Unknown mailbox filter/],
  ['SET (PERSONAL (MailboxName)) extra', /./],
  ['NONE extra', /extra/],
  ['MAYBE', /SET or NONE/],
];

test('NOTIFY arguments that are BAD', () => {
  for (const [wire, want] of bad) assert.match(badText(() => parseNotify(argsOf(wire))), want, wire);
});

test('events Mailroom does not deliver are BADEVENT, not BAD', () => {
  for (const ev of ['AnnotationChange', 'MailboxMetadataChange', 'ServerMetadataChange', 'X-Something']) {
    assert.throws(() => parseNotify(argsOf(`SET (PERSONAL (MailboxName ${ev}))`)), BadEventError, ev);
  }
});

test('NOTIFY parser: random input parses or is a protocol error, never a crash', () => {
  const words = ['SET', 'NONE', 'STATUS', ' ', '(', ')', 'SELECTED', 'SELECTED-DELAYED', 'PERSONAL', 'INBOXES', 'SUBSCRIBED', 'SUBTREE', 'MAILBOXES', 'INBOX', '"a b"', 'MessageNew', 'MessageExpunge', 'FlagChange', 'MailboxName', 'SubscriptionChange', 'UID', 'FLAGS', 'BODY[]', 'BODY.PEEK[]', '{3}'];
  assertParsesOrRejects((r) => {
    try {
      parseNotify(r);
    } catch (err) {
      if (!(err instanceof BadEventError)) throw err;
    }
  }, words);
});
