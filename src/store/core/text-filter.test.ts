import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { filterProbe, mayContain, textFilter } from './text-filter.js';
import { indexForm } from './text-search.js';

/** Characters whose case folding or UTF-16 form is unusual (surrogate pairs and halves, final sigma, dotted I). */
const TRICKY = ['a', 'B', 'Σ', 'σ', 'ς', 'İ', 'ı', 'ß', 'É', '😀', '𝔸', ' ', '\n', '"', '\uD800'];
const textArb = fc.array(fc.oneof(fc.constantFrom(...TRICKY), fc.string({ maxLength: 4 }), fc.string({ unit: 'grapheme', maxLength: 3 })), { maxLength: 80 }).map((a) => a.join(''));

const may = (text: string, term: string) => mayContain(textFilter(indexForm(text)), filterProbe(indexForm(term)));

describe('text filter (messages.text_filter)', () => {
  it('never drops a text that holds the term, as the exact rule says it (property)', () => {
    fc.assert(
      fc.property(textArb, fc.nat(), fc.nat(), (text, a, b) => {
        const lower = indexForm(text);
        const from = Math.min(a, b) % (lower.length + 1);
        const term = lower.slice(from, from + 3 + (Math.max(a, b) % 12));
        fc.pre([...term].length >= 3);
        assert.ok(may(text, term), `${JSON.stringify(term)} in ${JSON.stringify(text)}`);
        assert.ok(may(text, term.toUpperCase()) || !indexForm(text).includes(indexForm(term.toUpperCase())));
      }),
      { numRuns: 2000 },
    );
  });

  it('drops texts without the term (not every row reaches the exact check)', () => {
    const text = 'Subject: Quarterly report\n\nThe meeting moved to Monday; please review the attached budget.';
    assert.ok(may(text, 'QUARTERLY'));
    assert.ok(may(text, 'ting moved'));
    for (const absent of ['zygomorphic', 'xylophone', 'unrelated words', 'Köln']) assert.equal(may(text, absent), false, absent);
  });

  it('keeps about two bits per distinct trigram, and at most 16 KiB', () => {
    const small = textFilter(indexForm('abcdefghij')); // 8 trigrams → 16 bits
    assert.equal(small.length, 1 + 2);
    let seed = 7;
    const cjk = Array.from({ length: 100_000 }, () => String.fromCharCode(0x4e00 + ((seed = (seed * 48271) % 2147483647) % 3000))).join('');
    assert.equal(textFilter(cjk).length, 1 + 16 * 1024);
    assert.ok(mayContain(textFilter(''), filterProbe('abc')) === false, 'an empty text holds no term');
  });

  it('finds a term holding half a surrogate pair where it matches half of one (UTF-16 units, as includes compares)', () => {
    assert.ok('𐀀  a'.includes('\uDC00  a'));
    assert.ok(may('𐀀  a', '\uDC00  a'));
    assert.ok(may('x😀b', 'x\uD83D'));
  });

  it('lets a missing or unknown filter pass every term', () => {
    assert.ok(mayContain(null, filterProbe('abc')));
    assert.ok(mayContain(Buffer.from([9, 0, 0]), filterProbe('abc')));
  });
  it('gives the same filter whatever was filtered before (the trigram table is reused between calls)', () => {
    const texts = ['the meeting moved to monday', 'x'.repeat(70_000), 'a quick brown fox', 'report on budget '.repeat(1_500), '', 'ab', 'σς😀 über köln', 'the meeting moved to monday'];
    const first = texts.map((t) => textFilter(indexForm(t)));
    const again = [...texts].reverse().map((t) => textFilter(indexForm(t))).reverse();
    assert.deepEqual(again, first);
    assert.deepEqual(first[0], first[7]);
    const long = Array.from({ length: 40_000 }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7919) % 20000))).join('');
    assert.deepEqual(textFilter(long), textFilter(long), 'a text past the kept table allocates its own and leaves the kept one free');
    assert.deepEqual(textFilter(indexForm(texts[2])), first[2]);
  });
});
