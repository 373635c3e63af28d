import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatSize, parseCount, parseSize } from './sizes.js';

describe('CLI sizes', () => {
  const sizes: [string, number | null][] = [
    ['0', 0], ['2048', 2048], ['1K', 1024], ['1kb', 1024], ['500M', 500 * 1024 ** 2], ['1.5G', 1.5 * 1024 ** 3], ['unlimited', null], ['NONE', null],
  ];
  for (const [input, want] of sizes) it(`parses ${input}`, () => assert.equal(parseSize(input), want));
  for (const bad of ['', 'abc', '-1', '1X', '1.2.3M']) it(`refuses size ${JSON.stringify(bad)}`, () => assert.throws(() => parseSize(bad), /invalid size/));
  const counts: [string, number | null][] = [['0', 0], ['10000', 10000], ['unlimited', null]];
  for (const [input, want] of counts) it(`parses count ${input}`, () => assert.equal(parseCount(input), want));
  for (const bad of ['1.5', '-3', 'x']) it(`refuses count ${bad}`, () => assert.throws(() => parseCount(bad), /invalid count/));
  it('formats', () => {
    assert.equal(formatSize(null), 'unlimited');
    assert.equal(formatSize(512), '512B');
    assert.equal(formatSize(1024 ** 3), '1G');
    assert.equal(formatSize(1536), '1.5K');
  });
});
