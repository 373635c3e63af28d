import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isStoreError } from '../errors.js';
import { applyFlagOp, mergeFlags, normalizeFlags, sameFlags } from './flags.js';

describe('normalizeFlags', () => {
  const ok: [string[], string[]][] = [
    [['\\seen', '\\ANSWERED', '\\flagged', '\\deleted', '\\dRaFt'], ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft']],
    [['$Work', '$work', '\\Seen', '\\SEEN'], ['$Work', '\\Seen']],
    [['\\Recent', '\\recent'], []],
    [['$MDNSent', 'NonJunk', 'a}b', '[x'], ['$MDNSent', 'NonJunk', 'a}b', '[x']],
  ];
  for (const [input, expected] of ok) it(`${input.join(' ')} → ${expected.join(' ')}`, () => assert.deepEqual(normalizeFlags(input), expected));

  const bad = ['', 'a b', '\\Bogus', 'x(', 'x)', 'x{', 'x%', 'x*', 'x"', 'x]', 'back\\slash', '\u00e9', 'tab\t', 'k'.repeat(201)];
  for (const flag of bad) it(`refuses ${JSON.stringify(flag)}`, () => assert.throws(() => normalizeFlags([flag]), (e) => isStoreError(e, 'invalid')));

  it('never throws anything but StoreError invalid, and is idempotent', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { maxLength: 8 }), (flags) => {
        let once: string[];
        try {
          once = normalizeFlags(flags);
        } catch (e) {
          assert.ok(isStoreError(e, 'invalid'));
          return;
        }
        assert.deepEqual(normalizeFlags(once), once);
        assert.equal(new Set(once.map((f) => f.toLowerCase())).size, once.length);
      }),
      { numRuns: 500 },
    );
  });
});

describe('applyFlagOp', () => {
  const kw = fc.constantFrom('\\Seen', '\\Deleted', '$A', '$a', '$B', 'Junk', 'junk');
  const list = fc.array(kw, { maxLength: 6 }).map((l) => normalizeFlags(l));
  it('add ⊇ both, remove removes, set equals the change (case-insensitively)', () => {
    fc.assert(
      fc.property(list, list, (current, change) => {
        const keys = (l: string[]) => new Set(l.map((f) => f.toLowerCase()));
        const added = applyFlagOp(current, 'add', change);
        assert.deepEqual(keys(added), new Set([...keys(current), ...keys(change)]));
        const removed = keys(applyFlagOp(current, 'remove', change));
        for (const f of keys(change)) assert.ok(!removed.has(f));
        assert.ok(sameFlags(applyFlagOp(current, 'set', change), change));
        for (const f of added) if (current.some((c) => c.toLowerCase() === f.toLowerCase())) assert.ok(current.includes(f), 'first spelling kept');
      }),
    );
  });

  it('mergeFlags adds private flags the shared list lacks', () => {
    assert.deepEqual(mergeFlags(['\\Answered'], ['\\Seen', '\\answered']), ['\\Answered', '\\Seen']);
    assert.deepEqual(mergeFlags(['$x'], []), ['$x']);
  });
});
