// LIST pattern matching (RFC 9051 6.3.9): "*" matches across levels, "%" within one; any
// client pattern compiles to a regex without throwing (property test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { patternRegex } from './list.js';

test('table: * and % against names', () => {
  const rows: [string, string, boolean][] = [
    ['*', 'a/b/c', true],
    ['%', 'a', true],
    ['%', 'a/b', false],
    ['a/%', 'a/b', true],
    ['a/%', 'a/b/c', false],
    ['a*', 'a/b/c', true],
    ['a%c', 'abc', true],
    ['a%c', 'a/c', false],
    ['INBOX', 'INBOX', true],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['[a]', 'a', false],
  ];
  for (const [pattern, name, want] of rows) assert.equal(patternRegex(pattern).test(name), want, `${pattern} ~ ${name}`);
});

test('any pattern compiles and a literal pattern matches exactly itself', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (p) => {
      const re = patternRegex(p);
      if (!/[%*]/.test(p)) assert.equal(re.test(p), true);
    }),
  );
});
