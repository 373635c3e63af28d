import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatRights, parseModRights, RIGHTS } from './acl-rights.js';
import { ImapParseError } from './errors.js';

describe('RFC 4314 rights strings', () => {
  it('parses mod-rights: set, +, -, obsolete c and d', () => {
    const table: [string, ReturnType<typeof parseModRights>][] = [
      ['lr', { mode: 'set', rights: 'lr' }],
      ['rl', { mode: 'set', rights: 'lr' }],
      ['', { mode: 'set', rights: '' }],
      ['+sw', { mode: 'add', rights: 'sw' }],
      ['-a', { mode: 'remove', rights: 'a' }],
      ['c', { mode: 'set', rights: 'kx' }],
      ['d', { mode: 'set', rights: 'te' }],
      ['lrswipcda', { mode: 'set', rights: 'lrswipkxtea' }],
      ['+', { mode: 'add', rights: '' }],
    ];
    for (const [wire, want] of table) assert.deepEqual(parseModRights(wire), want, wire);
  });

  it('refuses letters that are no right with BAD', () => {
    for (const wire of ['lz', 'L', '+-', '0', 'l r', '++l']) {
      assert.throws(() => parseModRights(wire), (e: unknown) => e instanceof ImapParseError && e.response === 'BAD', wire);
    }
  });

  it('formats rights canonically with c and d when their replacements are all held', () => {
    assert.equal(formatRights('rl'), 'lr');
    assert.equal(formatRights(RIGHTS), `${RIGHTS}cd`);
    assert.equal(formatRights('lrk'), 'lrk');
    assert.equal(formatRights('lrte'), 'lrted');
    assert.equal(formatRights(''), '');
  });

  it('never throws anything but a BAD, and what it accepts formats back to itself', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        let parsed;
        try {
          parsed = parseModRights(text);
        } catch (e) {
          assert.ok(e instanceof ImapParseError && e.response === 'BAD');
          return;
        }
        assert.match(parsed.rights, /^l?r?s?w?i?p?k?x?t?e?a?n?$/);
        assert.deepEqual(parseModRights(formatRights(parsed.rights)).rights, parsed.rights);
      }),
    );
  });
});
