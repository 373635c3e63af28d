import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSetQuota, quotaResponse, quotaRootResponse, type SetQuotaLimits } from './quota.js';
import { argsOf, badText, onlyParseErrors } from './test-support.js';

const rows: [string, string, SetQuotaLimits][] = [
  ['"" (STORAGE 512)', '', { STORAGE: 512 }],
  ['"" (storage 1 Message 2)', '', { STORAGE: 1, MESSAGE: 2 }],
  ['"" ()', '', {}],
  ['bob@example.test (MESSAGE 0)', 'bob@example.test', { MESSAGE: 0 }],
  ['{3+}\r\nabc (MESSAGE 9007199254740991)', 'abc', { MESSAGE: 9007199254740991 }],
];

test('parseSetQuota reads the root and the resource limits', () => {
  for (const [wire, root, limits] of rows) assert.deepEqual(parseSetQuota(argsOf(wire)), { root, limits }, wire);
});

test('parseSetQuota refuses malformed lists with a parse error naming the problem', () => {
  const bad: [string, RegExp][] = [
    ['"" (FOO 1)', /Unknown quota resource FOO/],
    ['"" (STORAGE 1 STORAGE 2)', /STORAGE given twice/],
    ['"" (STORAGE)', /SP/],
    ['"" (STORAGE -1)', /quota limit/],
    ['"" (STORAGE 99999999999999999)', /too large/],
    ['"" STORAGE 1', /\(/],
    ['""', /SP/],
    ['"" (STORAGE 1) extra', /./],
  ];
  for (const [wire, re] of bad) assert.match(badText(() => parseSetQuota(argsOf(wire))), re, wire);
});

test('QUOTA and QUOTAROOT responses quote the root and never have an empty resource list', () => {
  assert.equal(quotaResponse('', [{ name: 'STORAGE', usage: 3, limit: 100 }, { name: 'MESSAGE', usage: 1, limit: 10 }]), '* QUOTA "" (STORAGE 3 100 MESSAGE 1 10)\r\n');
  assert.equal(quotaResponse('bob@example.test', [{ name: 'MESSAGE', usage: 0, limit: 5 }]), '* QUOTA "bob@example.test" (MESSAGE 0 5)\r\n');
  assert.throws(() => quotaResponse('', []));
  assert.equal(quotaRootResponse('"INBOX"', ['']), '* QUOTAROOT "INBOX" ""\r\n');
  assert.equal(quotaRootResponse('"INBOX"', []), '* QUOTAROOT "INBOX"\r\n');
});

test('parseSetQuota: any input either parses or throws ImapParseError (property)', () => {
  const words = ['(', ')', ' ', '""', 'STORAGE', 'MESSAGE', 'storage', 'X', '0', '12', '99999999999999999999', '{1+}\r\na', '"a b"', '\\', '*'];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...words), { maxLength: 16 }), (parts) => {
      let r;
      try {
        r = argsOf(parts.join(''));
      } catch {
        return;
      }
      onlyParseErrors(() => {
        const got = parseSetQuota(r);
        for (const v of Object.values(got.limits)) assert.ok(Number.isSafeInteger(v) && v >= 0);
      });
    }),
    { numRuns: 1000 },
  );
});
