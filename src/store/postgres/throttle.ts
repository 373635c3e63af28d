/**
 * The brute-force throttle (src/auth/throttle.ts) with its counters in PostgreSQL, so
 * every node sees every failure: an attacker spreading guesses over nodes behind a load
 * balancer meets the same limits as against one. Same policy and verdicts as
 * MemoryThrottle; old rows are pruned as the window slides. A database error never
 * locks anybody out: the verdict is then "no delay" and the failure is not counted.
 */
import { DEFAULT_THROTTLE, type AuthThrottle, type ThrottlePolicy, type ThrottleVerdict } from '../../auth/throttle.js';
import type { Pool } from './db.js';

export class PgThrottle implements AuthThrottle {
  private lastPrune = 0;

  constructor(
    private readonly pool: Pool,
    private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  async before(ip: string, account: string): Promise<ThrottleVerdict> {
    const p = this.policy;
    const cutoff = this.now() - p.windowMs;
    let ipFails = 0;
    let accountFails = 0;
    try {
      const r = await this.pool.query<{ kind: string; n: number }>(
        `SELECT kind, count(*)::int AS n FROM auth_failures
         WHERE at > $3 AND ((kind = 'ip' AND key = $1) OR (kind = 'account' AND key = $2)) GROUP BY kind`,
        [ip, account.toLowerCase(), cutoff],
      );
      for (const row of r.rows) {
        if (row.kind === 'ip') ipFails = row.n;
        else accountFails = row.n;
      }
    } catch {
      return { delayMs: 0, blocked: false };
    }
    if (ipFails >= p.ipBlockFailures) return { delayMs: p.maxDelayMs, blocked: true };
    let delay = ipFails > p.ipFreeFailures ? 250 * 2 ** (ipFails - p.ipFreeFailures) : 0;
    if (accountFails >= p.accountSlowFailures) delay = Math.max(delay, p.accountDelayMs);
    return { delayMs: Math.min(delay, p.maxDelayMs), blocked: false };
  }

  async failed(ip: string, account: string): Promise<void> {
    const at = this.now();
    try {
      await this.pool.query(`INSERT INTO auth_failures (kind, key, at) VALUES ('ip', $1, $3), ('account', $2, $3)`, [ip, account.toLowerCase(), at]);
      if (at - this.lastPrune > 60_000) {
        this.lastPrune = at;
        await this.pool.query('DELETE FROM auth_failures WHERE at <= $1', [at - this.policy.windowMs]);
      }
    } catch {
      // Counting is best effort; a database outage already refuses logins elsewhere.
    }
  }

  async succeeded(ip: string, _account: string): Promise<void> {
    try {
      // A good login from an IP forgives that IP (a user who mistyped), not the account.
      await this.pool.query(`DELETE FROM auth_failures WHERE kind = 'ip' AND key = $1`, [ip]);
    } catch {
      // best effort, as above
    }
  }
}
