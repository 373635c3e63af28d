import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatThreads, parseMessageIds, threadIdsOf, threadOrderedSubject, threadReferences, type ThreadFacts } from './thread.js';
import { extractSubject } from './base-subject.js';

let clock = 0;
const m = (id: number, subject: string, messageId: string | null, references: string | null = null, extra: { sentDate?: number; inReplyTo?: string } = {}): ThreadFacts => ({
  id,
  sentDate: extra.sentDate ?? (clock += 1000),
  ...threadIdsOf(subject, messageId, extra.inReplyTo ?? null, references),
});

test('parseMessageIds: <id@host> tokens only', () => {
  const rows: [string | null, string[]][] = [
    [null, []],
    ['<a@x> <b@x>', ['a@x', 'b@x']],
    ['<a@x>\t<b@x>  junk <c@x>', ['a@x', 'b@x', 'c@x']],
    ['broken refs <<m10@x>', []],
    ['<noat> <ok@x>', ['ok@x']],
    ['<a@x><b@x>', ['a@x', 'b@x']],
    ['', []],
  ];
  for (const [v, want] of rows) assert.deepEqual(parseMessageIds(v), want, String(v));
});

test('parseMessageIds never throws and returns ids without brackets or spaces (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('<', '>', '@', ' ', 'a', '\t', '"', '<a@b>'), { maxLength: 30 }), (parts) => {
      for (const id of parseMessageIds(parts.join(''))) assert.ok(id.includes('@') && !/[<>\s]/.test(id));
    }),
    { numRuns: 2000 },
  );
});

test('extractSubject tells replies and forwards apart', () => {
  const rows: [string, boolean][] = [['Plan', false], ['Re: Plan', true], ['plan (fwd)', true], ['[fwd: plan]', true], ['[list] plan', false], ['Fwd: x', true]];
  for (const [s, r] of rows) assert.equal(extractSubject(s).isReply, r, s);
});

test('REFERENCES: chains, missing parents as dummies, loops, duplicates, In-Reply-To', () => {
  clock = 0;
  const rows: [string, ThreadFacts[], string][] = [
    ['a plain chain', [m(1, 'a', '<1@x>'), m(2, 'Re: a', '<2@x>', '<1@x>'), m(3, 'Re: a', '<3@x>', '<1@x> <2@x>')], '(1 2 3)'],
    ['siblings sorted by date', [m(1, 'a', '<1@x>'), m(3, 'b', '<3@x>', '<1@x>', { sentDate: 99_000 }), m(2, 'c', '<2@x>', '<1@x>', { sentDate: 50_000 })], '(1 (2)(3))'],
    ['a missing parent with two children stays a dummy root', [m(1, 'x', '<1@x>', '<gone@x>'), m(2, 'y', '<2@x>', '<gone@x>')], '((1)(2))'],
    ['a missing parent with one child is dropped', [m(1, 'x', '<1@x>', '<gone@x>')], '(1)'],
    ['In-Reply-To when there is no References', [m(1, 'a', '<1@x>'), m(2, 'b', '<2@x>', null, { inReplyTo: '<1@x> <9@x>' })], '(1 2)'],
    ['a loop is not linked', [m(1, 'p', '<1@x>', '<2@x>'), m(2, 'q', '<2@x>', '<1@x>')], '(2 1)'],
    ['self reference', [m(1, 'p', '<1@x>', '<1@x>')], '(1)'],
    ['a duplicate Message-ID gets its own container', [m(1, 'p', '<1@x>'), m(2, 'q', '<1@x>'), m(3, 'r', '<3@x>', '<1@x>')], '(1 3)(2)'],
    ['same subject, no references: a dummy holds both', [m(1, 'topic', '<1@x>'), m(2, 'topic', '<2@x>')], '((1)(2))'],
    ['a reply by subject goes under the original', [m(1, 'topic', '<1@x>'), m(2, 'Re: topic', '<2@x>')], '(1 2)'],
    ['empty subjects are not grouped', [m(1, '', '<1@x>'), m(2, '', '<2@x>')], '(1)(2)'],
    ['no messages', [], ''],
  ];
  for (const [name, msgs, want] of rows) assert.equal(formatThreads(threadReferences(msgs)), want, name);
});

test('ORDEREDSUBJECT: by base subject, then date; threads by their first date', () => {
  clock = 0;
  const msgs = [m(1, 'b', null), m(2, 'Re: a', null), m(3, 'A', null), m(4, 'Fwd: b', null), m(5, 'a', null), m(6, 'c', null)];
  assert.equal(formatThreads(threadOrderedSubject(msgs)), '(1 4)(2 (3)(5))(6)');
  assert.equal(formatThreads(threadOrderedSubject([])), '');
});
