/**
 * Issue 14: the SIGKILL soak in CI, 10 rounds on SQLite (test/security/kill-soak.ts);
 * `npm run bench -- kill-soak` runs 100 on SQLite and 20 on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { killSoak } from './kill-soak.js';

describe('SIGKILL soak', () => {
  it('10 rounds of mixed SMTP/LMTP/IMAP/POP3 load ended by kill -9: nothing acknowledged lost, nothing twice, quota exact, UIDs grow', { timeout: 300_000 }, async (t) => {
    const r = await killSoak({ rounds: 10, seed: 14, log: (l) => t.diagnostic(l) });
    t.diagnostic(JSON.stringify(r));
    assert.ok(r.acknowledged > 0, 'the load got acknowledgments');
  });
});
