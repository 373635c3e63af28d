import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { packIndex, packSearchText, unpackIndex, unpackSearchText, windowBitsFor } from './packed-text.js';

/** A plain-text message of about `size` bytes with a header, different for each n (words repeat, as in mail). */
function message(n: number, size: number): Buffer {
  const words = ['meeting', 'report', 'invoice', 'hello', 'thanks', 'project', 'update', 'budget', 'travel', 'lunch', 'Grüße', 'über'];
  let seed = n + 1;
  const next = () => (seed = (seed * 48271) % 2147483647);
  const lines: string[] = [];
  for (let len = 0; len < size; ) {
    const line = Array.from({ length: 10 }, () => words[next() % words.length]).join(' ');
    lines.push(line);
    len += line.length + 2;
  }
  return Buffer.from(`From: a@b.test\r\nSubject: test ${n}\r\nMessage-ID: <m${n}@b.test>\r\n\r\n${lines.join('\r\n')}\r\n`);
}

const SIZES = [0, 40, 300, 1_500, 3_800, 10_000, 16_000, 40_000];

describe('packed text (contents.idx, contents.search_text)', () => {
  it('fits the deflate window to the input: the same bytes as a full 32 KiB window', () => {
    for (const [i, size] of SIZES.entries()) {
      const raw = message(i, size);
      const text = raw.toString('utf8').replace(/\r\n/g, '\n');
      const json = JSON.stringify({ version: 1, size: raw.length, envelope: { subject: `test ${i}`, messageId: `<m${i}@b.test>` }, preview: text.slice(0, 200) });
      const window = raw.subarray(-32 * 1024);
      const full = zlib.deflateRawSync(Buffer.from(text), { level: 9, dictionary: window });
      assert.deepEqual(packSearchText(text, raw).subarray(1), full, `search text against the message, ${size} bytes`);
      assert.deepEqual(packSearchText(text).subarray(1), zlib.deflateRawSync(Buffer.from(text), { level: 6 }), `search text alone, ${size} bytes`);
      assert.equal(unpackSearchText(packSearchText(text, raw), 'c', () => raw), text);
      assert.equal(unpackSearchText(packSearchText(text), 'c', () => undefined), text);
      assert.equal(unpackIndex(packIndex(json), 'c'), json);
    }
  });

  it('picks the smallest window that holds its input and zlib lookahead', () => {
    assert.equal(windowBitsFor(0), 9);
    assert.equal(windowBitsFor(512 - 262), 9);
    assert.equal(windowBitsFor(512 - 261), 10);
    assert.equal(windowBitsFor(20_000), 15);
    assert.equal(windowBitsFor(1_000_000), 15, 'never past 32 KiB');
  });
});
