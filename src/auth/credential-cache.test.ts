import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialCache } from './credential-cache.js';

const HASH_A = '$scrypt$ln=15,r=8,p=1$c2FsdEE=$aGFzaEFoYXNoQWhhc2hBaGFzaEE=';
const HASH_B = '$scrypt$ln=15,r=8,p=1$c2FsdEI=$aGFzaEJoYXNoQmhhc2hCaGFzaEI=';

type Step =
  | { remember: [number, string, string] }
  | { has: [number, string, string]; want: boolean }
  | { advance: number }
  | { forget: number };

/** [name, options, steps]: each row drives one cache with a fake clock starting at 0. */
const rows: [string, { size: number; ttlMs: number }, Step[]][] = [
  ['miss when nothing was verified', { size: 10, ttlMs: 1000 }, [{ has: [1, 'pw', HASH_A], want: false }]],
  ['hit after a verification', { size: 10, ttlMs: 1000 }, [{ remember: [1, 'pw', HASH_A] }, { has: [1, 'pw', HASH_A], want: true }, { has: [1, 'pw', HASH_A], want: true }]],
  ['wrong password never hits', { size: 10, ttlMs: 1000 }, [{ remember: [1, 'pw', HASH_A] }, { has: [1, 'pW', HASH_A], want: false }, { has: [1, 'pw ', HASH_A], want: false }, { has: [1, '', HASH_A], want: false }]],
  ['another user with the same password misses', { size: 10, ttlMs: 1000 }, [{ remember: [1, 'pw', HASH_A] }, { has: [2, 'pw', HASH_A], want: false }]],
  ['a changed stored hash misses', { size: 10, ttlMs: 1000 }, [{ remember: [1, 'pw', HASH_A] }, { has: [1, 'pw', HASH_B], want: false }]],
  ['NUL in a password does not alias the separators', { size: 10, ttlMs: 1000 }, [{ remember: [1, 'a\0b', HASH_A] }, { has: [1, 'a', HASH_A], want: false }, { has: [1, 'a\0b', HASH_A], want: true }]],
  ['valid until just before the TTL', { size: 10, ttlMs: 1000 }, [{ remember: [1, 'pw', HASH_A] }, { advance: 999 }, { has: [1, 'pw', HASH_A], want: true }]],
  ['expired at the TTL', { size: 10, ttlMs: 1000 }, [{ remember: [1, 'pw', HASH_A] }, { advance: 1000 }, { has: [1, 'pw', HASH_A], want: false }]],
  ['a hit does not extend the TTL', { size: 10, ttlMs: 1000 }, [{ remember: [1, 'pw', HASH_A] }, { advance: 600 }, { has: [1, 'pw', HASH_A], want: true }, { advance: 600 }, { has: [1, 'pw', HASH_A], want: false }]],
  ['a new verification starts a new TTL', { size: 10, ttlMs: 1000 }, [{ remember: [1, 'pw', HASH_A] }, { advance: 600 }, { remember: [1, 'pw', HASH_A] }, { advance: 600 }, { has: [1, 'pw', HASH_A], want: true }]],
  [
    'LRU: the least recently used entry is dropped first',
    { size: 2, ttlMs: 1000 },
    [{ remember: [1, 'a', HASH_A] }, { remember: [2, 'b', HASH_A] }, { has: [1, 'a', HASH_A], want: true }, { remember: [3, 'c', HASH_A] }, { has: [2, 'b', HASH_A], want: false }, { has: [1, 'a', HASH_A], want: true }, { has: [3, 'c', HASH_A], want: true }],
  ],
  ['forgetUser drops only that user', { size: 10, ttlMs: 1000 }, [{ remember: [1, 'a', HASH_A] }, { remember: [1, 'b', HASH_A] }, { remember: [2, 'a', HASH_A] }, { forget: 1 }, { has: [1, 'a', HASH_A], want: false }, { has: [1, 'b', HASH_A], want: false }, { has: [2, 'a', HASH_A], want: true }]],
  ['size 0 turns it off', { size: 0, ttlMs: 1000 }, [{ remember: [1, 'pw', HASH_A] }, { has: [1, 'pw', HASH_A], want: false }]],
  ['TTL 0 turns it off', { size: 10, ttlMs: 0 }, [{ remember: [1, 'pw', HASH_A] }, { has: [1, 'pw', HASH_A], want: false }]],
];

describe('CredentialCache', () => {
  for (const [name, options, steps] of rows) {
    it(name, () => {
      let now = 0;
      const cache = new CredentialCache({ ...options, now: () => now });
      steps.forEach((step, i) => {
        if ('remember' in step) cache.remember(...step.remember);
        else if ('advance' in step) now += step.advance;
        else if ('forget' in step) cache.forgetUser(step.forget);
        else assert.equal(cache.has(...step.has), step.want, `step ${i}: has(${JSON.stringify(step.has)})`);
      });
    });
  }

  it('never holds more than size entries', () => {
    const cache = new CredentialCache({ size: 100, ttlMs: 60_000 });
    for (let i = 0; i < 1000; i++) cache.remember(i, `pw${i}`, HASH_A);
    assert.equal(cache.count, 100);
    assert.equal(cache.has(999, 'pw999', HASH_A), true);
    assert.equal(cache.has(0, 'pw0', HASH_A), false);
  });

  it('two processes (two secrets) share nothing, and no key contains the password', () => {
    const a = new CredentialCache({ size: 10, ttlMs: 1000 });
    const b = new CredentialCache({ size: 10, ttlMs: 1000 });
    a.remember(1, 'hunter2-secret', HASH_A);
    assert.equal(b.has(1, 'hunter2-secret', HASH_A), false);
    const keys = [...(a as unknown as { entries: Map<string, unknown> }).entries.keys()];
    assert.equal(keys.length, 1);
    assert.ok(!keys[0].includes('hunter2'), 'the key is an HMAC, not the password');
    assert.equal(Buffer.from(keys[0], 'base64').length, 32, 'HMAC-SHA256');
  });
});
