import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { filterCondition, filterProbe, mayContain, textFilter } from '../core/text-filter.js';

/** The filter test SEARCH runs inside SQLite must answer exactly as the JavaScript one. */
describe('text filter in SQL (SQLite)', () => {
  it('filterCondition agrees with mayContain on random filters and terms (property)', () => {
    const db = new Database(':memory:');
    try {
      const words = fc.constantFrom('the', 'meeting', 'report', 'Köln', 'σοφία', '😀x', 'zz', 'budget', 'ab', 'quarter');
      fc.assert(
        fc.property(fc.array(words, { maxLength: 40 }), fc.array(words, { minLength: 1, maxLength: 3 }), (text, termWords) => {
          const filter = textFilter(text.join(' '));
          const term = termWords.join(' ');
          fc.pre([...term].length >= 3);
          const probe = filterProbe(term);
          const c = filterCondition('f', probe);
          const row = db.prepare(`SELECT ${c.sql} AS ok FROM (SELECT ? AS f)`).get(...c.params, filter) as { ok: number }; // the condition's parameters come first in the text
          assert.equal(row.ok === 1, mayContain(filter, probe), `${term} in ${text.join(' ')}`);
        }),
        { numRuns: 1500 },
      );
      const c = filterCondition('f', filterProbe('abc'));
      assert.equal((db.prepare(`SELECT ${c.sql} AS ok FROM (SELECT NULL AS f)`).get(...c.params) as { ok: number }).ok, 1, 'a row without a filter passes');
    } finally {
      db.close();
    }
  });
});
