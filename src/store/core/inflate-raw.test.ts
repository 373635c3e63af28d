import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { inflateRaw } from './inflate-raw.js';

/** Bytes that compress in every way deflate can: runs, repeats far back, text, noise. */
const bytesArb = fc
  .array(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('the meeting report ', 'aaaaaaaaaaaaaaaaaaaaaaaa', '\r\n').map((s) => Buffer.from(s))), { maxLength: 200 })
  .map((parts) => Buffer.concat(parts.map((p) => Buffer.from(p))));

describe('inflateRaw (RFC 1951 with a preset dictionary)', () => {
  it('gives back what zlib deflated, at every level and strategy, with and without a dictionary (property)', () => {
    fc.assert(
      fc.property(bytesArb, bytesArb, fc.integer({ min: 0, max: 9 }), fc.constantFrom(zlib.constants.Z_DEFAULT_STRATEGY, zlib.constants.Z_FIXED, zlib.constants.Z_HUFFMAN_ONLY, zlib.constants.Z_RLE), (data, dict, level, strategy) => {
        const opts = dict.length > 0 ? { level, strategy, dictionary: dict } : { level, strategy };
        const packed = zlib.deflateRawSync(data, opts);
        assert.deepEqual(inflateRaw(packed, dict.length > 0 ? dict : undefined), data);
      }),
      { numRuns: 1500 },
    );
  });

  it('reads long inputs, matches up to 32 KiB back into a long dictionary, and stored blocks', () => {
    const dict = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7919) % 251));
    const data = Buffer.concat([dict.subarray(100, 5000), Buffer.alloc(70_000, 3), dict.subarray(39_000)]);
    assert.deepEqual(inflateRaw(zlib.deflateRawSync(data, { dictionary: dict.subarray(-32768) }), dict), data);
    assert.deepEqual(inflateRaw(zlib.deflateRawSync(data, { level: 0 })), data);
  });

  it('throws on malformed input instead of returning something', () => {
    const good = zlib.deflateRawSync(Buffer.from('hello hello hello'));
    assert.throws(() => inflateRaw(good.subarray(0, good.length - 2)));
    assert.throws(() => inflateRaw(Buffer.from([0x07])), /bad block type|ends early/);
    assert.throws(() => inflateRaw(zlib.deflateRawSync(Buffer.from('the dictionary words'), { dictionary: Buffer.from('the dictionary words') })), /too far back/, 'a match into a dictionary not given');
  });
});
