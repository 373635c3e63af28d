import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressError, normaliseDomain, parseAddress, parseAliasSource, subaddressBase } from './address.js';

describe('parseAddress', () => {
  const good: [string, string][] = [
    ['alice@example.test', 'alice@example.test'],
    ['Alice@Example.TEST', 'Alice@example.test'],
    ['  bob@example.test  ', 'bob@example.test'],
    ['first.last@sub.example.test', 'first.last@sub.example.test'],
    ["o'neil+tag@example.test", "o'neil+tag@example.test"],
    ['x@localhost', 'x@localhost'],
    ['x@example.test.', 'x@example.test'],
    ['user@bücher.example', 'user@xn--bcher-kva.example'],
  ];
  for (const [input, want] of good) it(`accepts ${JSON.stringify(input)}`, () => assert.equal(parseAddress(input).address, want));

  const bad: [string, RegExp][] = [
    ['', /expected local@domain/],
    ['alice', /expected local@domain/],
    ['@example.test', /expected local@domain/],
    ['alice@', /expected local@domain/],
    ['.alice@example.test', /bad local part/],
    ['al..ice@example.test', /bad local part/],
    ['al ice@example.test', /bad local part/],
    ['"quoted"@example.test', /bad local part/],
    [`${'a'.repeat(65)}@example.test`, /longer than 64/],
    ['alice@-bad.test', /invalid domain/],
    ['alice@bad-.test', /invalid domain/],
    ['alice@exa mple.test', /invalid domain/],
    ['alice@a..b', /invalid domain/],
    [`alice@${'a'.repeat(64)}.test`, /invalid domain/],
  ];
  for (const [input, want] of bad) {
    it(`refuses ${JSON.stringify(input)}`, () => assert.throws(() => parseAddress(input), (e: unknown) => e instanceof AddressError && want.test(e.message)));
  }

  it('never throws anything but AddressError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        try {
          parseAddress(s);
        } catch (e) {
          assert.ok(e instanceof AddressError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('alias sources and sub-addresses', () => {
  const rows: [string, string][] = [
    ['@Example.TEST', '@example.test'],
    ['Sales@Example.test', 'Sales@example.test'],
  ];
  for (const [input, want] of rows) it(`alias source ${input}`, () => assert.equal(parseAliasSource(input), want));
  it('splits user+tag', () => {
    assert.equal(subaddressBase('user+tag', '+'), 'user');
    assert.equal(subaddressBase('user+a+b', '+'), 'user');
    assert.equal(subaddressBase('+tag', '+'), null);
    assert.equal(subaddressBase('user', '+'), null);
    assert.equal(subaddressBase('user-tag', ''), null);
  });
  it('normalises domains', () => assert.equal(normaliseDomain('MAIL.Example.Test.'), 'mail.example.test'));
});
