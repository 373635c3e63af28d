import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from '../../mime/types.js';
import type { SortCriterion, SortKey } from '../protocol/index.js';
import { sortMessages, sortValue, type SortFacts } from './sort-order.js';

const addr = (name: string | null, mailbox: string, host: string | null = 'x.test'): Address => ({ name, adl: null, mailbox, host });
const msg = (seq: number, f: Partial<SortFacts> & { subject?: string | null; from?: Address[] | null; to?: Address[] | null; cc?: Address[] | null }): SortFacts => ({
  seq,
  internalDate: f.internalDate ?? 0,
  sentDate: f.sentDate ?? null,
  size: f.size ?? 0,
  envelope: { subject: f.subject ?? null, from: f.from ?? null, to: f.to ?? null, cc: f.cc ?? null },
});
const by = (...keys: string[]): SortCriterion[] => keys.map((k) => (k.startsWith('-') ? { key: k.slice(1) as SortKey, reverse: true } : { key: k as SortKey, reverse: false }));
const order = (ms: SortFacts[], ...keys: string[]) => sortMessages(ms, by(...keys)).map((m) => m.seq);

test('sortValue per key', () => {
  const m = msg(1, {
    internalDate: 5,
    sentDate: 7,
    size: 9,
    subject: '=?utf-8?B?UmU6IMOEcmdlcg==?=',
    from: [addr('=?utf-8?Q?=C3=89mile?=', 'emile')],
    to: [addr(null, 'list', null), addr(null, 'ann')],
    cc: null,
  });
  const table: [SortKey, number | string][] = [
    ['ARRIVAL', 5],
    ['DATE', 7],
    ['SIZE', 9],
    ['SUBJECT', 'A\u0308RGER'],
    ['FROM', 'EMILE'],
    ['DISPLAYFROM', 'E\u0301MILE'],
    ['TO', 'LIST'], // a group's name is its first entry's mailbox, as Dovecot
    ['DISPLAYTO', 'LIST'],
    ['CC', ''],
  ];
  for (const [k, v] of table) assert.equal(sortValue(k, m), v, k);
  assert.equal(sortValue('DATE', msg(1, { internalDate: 3 })), 3, 'no Date: header: INTERNALDATE');
  assert.equal(sortValue('DISPLAYTO', msg(1, { to: [addr('  ', 'bo', 'b.test')] })), 'BO@B.TEST', 'blank name: addr-spec');
});

test('ties keep mailbox order, also under REVERSE; later keys break ties', () => {
  const ms = [msg(1, { size: 2, subject: 'b' }), msg(2, { size: 1, subject: 'a' }), msg(3, { size: 2, subject: 'a' }), msg(4, { size: 1, subject: 'Re: A' })];
  assert.deepEqual(order(ms, 'SIZE'), [2, 4, 1, 3]);
  assert.deepEqual(order(ms, '-SIZE'), [1, 3, 2, 4]);
  assert.deepEqual(order(ms, 'SUBJECT'), [2, 3, 4, 1]);
  assert.deepEqual(order(ms, '-SUBJECT'), [1, 2, 3, 4]);
  assert.deepEqual(order(ms, 'SUBJECT', '-SIZE'), [3, 2, 4, 1]);
  assert.deepEqual(order(ms, 'SIZE', '-SUBJECT'), [2, 4, 1, 3]);
  assert.deepEqual(order([], 'DATE'), []);
});
