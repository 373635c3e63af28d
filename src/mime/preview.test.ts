// cleanPreview works on a prefix of the text; it must answer exactly what the whole-text rule
// answers (the rule as it was before: collapse, trim, first 256 code points).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cleanPreview } from './preview.js';

function wholeTextRule(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trim();
  return Array.from(flat).slice(0, 256).join('');
}

test('cleanPreview equals the whole-text rule, around every prefix boundary (property)', () => {
  const piece = fc.oneof(
    fc.constantFrom(' ', '\r\n', '\t', '\u0000', '\u0085', '\u00a0', '😀', 'é', 'a', 'word ', '\u2028'),
    fc.string({ maxLength: 40 }),
    fc.nat({ max: 3000 }).map((n) => ' '.repeat(n)),
    fc.nat({ max: 3000 }).map((n) => 'x'.repeat(n)),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 60 }), (parts) => {
      const text = parts.join('');
      assert.equal(cleanPreview(text), wholeTextRule(text));
    }),
    { numRuns: 400 },
  );
});

test('cleanPreview: short, long, whitespace-only and surrogate pairs at the cut', () => {
  assert.equal(cleanPreview(''), '');
  assert.equal(cleanPreview('  \r\n\t '), '');
  assert.equal(cleanPreview(' hello\r\n  world \u0000'), 'hello world');
  for (const lead of [2047, 2048, 2049, 8191, 8192]) {
    const text = `${' '.repeat(lead)}${'😀'.repeat(300)}`;
    assert.equal(cleanPreview(text), wholeTextRule(text), `lead ${lead}`);
    const dense = `${'a'.repeat(lead - 255)}${'😀'.repeat(300)}`;
    assert.equal(cleanPreview(dense), wholeTextRule(dense), `dense ${lead}`);
  }
  assert.equal([...cleanPreview('x'.repeat(100_000))].length, 256);
});
