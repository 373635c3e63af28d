/**
 * The brute-force throttle (src/auth/throttle.ts) with its counters in PostgreSQL, so
 * every node sees every failure: an attacker spreading guesses over nodes behind a load
 * balancer meets the same limits as against one. Same policy and verdicts as
 * MemoryThrottle (kinds ip, net, account, pair; 'good' rows mark known-good logins); old rows are pruned as the window slides. A database error never
 * locks anybody out: the verdict is then "no delay" and the failure is not counted.
 */
import { DEFAULT_THROTTLE, throttleKeys, verdictFor, type AuthThrottle, type ThrottlePolicy, type ThrottleVerdict } from '../../auth/throttle.js';
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
    const now = this.now();
    const k = throttleKeys(ip, account);
    const counts = { ip: 0, net: 0, account: 0, pair: 0, knownGood: false };
    try {
      // Failure rows count inside the window; a 'good' row (a past successful login) for knownGoodMs.
      const r = await this.pool.query<{ kind: string; n: number }>(
        `SELECT kind, count(*)::int AS n FROM auth_failures
         WHERE ((kind = 'ip' AND key = $1) OR (kind = 'net' AND key = $2) OR (kind = 'account' AND key = $3) OR (kind = 'pair' AND key = $4)) AND at > $6
            OR (kind = 'good' AND key = $5 AND at > $7)
         GROUP BY kind`,
        [k.ip, k.net, k.account, k.pair, k.good, now - p.windowMs, now - p.knownGoodMs],
      );
      for (const row of r.rows) {
        if (row.kind === 'good') counts.knownGood = true;
        else counts[row.kind as 'ip' | 'net' | 'account' | 'pair'] = row.n;
      }
    } catch {
      return { delayMs: 0, blocked: false };
    }
    return verdictFor(p, counts);
  }

  async failed(ip: string, account: string): Promise<void> {
    const at = this.now();
    const k = throttleKeys(ip, account);
    try {
      await this.pool.query(
        `INSERT INTO auth_failures (kind, key, at) VALUES ('ip', $1, $5), ('net', $2, $5), ('account', $3, $5), ('pair', $4, $5)`,
        [k.ip, k.net, k.account, k.pair, at],
      );
      await this.prune(at);
    } catch {
      // Counting is best effort; a database outage already refuses logins elsewhere.
    }
  }

  async succeeded(ip: string, account: string): Promise<void> {
    const at = this.now();
    const k = throttleKeys(ip, account);
    try {
      // The user who mistyped is forgiven; the address's and network's counts stay (others may be guessing there).
      await this.pool.query(`DELETE FROM auth_failures WHERE (kind = 'pair' AND key = $1) OR (kind = 'good' AND key = $2)`, [k.pair, k.good]);
      await this.pool.query(`INSERT INTO auth_failures (kind, key, at) VALUES ('good', $1, $2)`, [k.good, at]);
      await this.prune(at);
    } catch {
      // best effort, as above
    }
  }

  private async prune(at: number): Promise<void> {
    if (at - this.lastPrune <= 60_000) return;
    this.lastPrune = at;
    await this.pool.query(`DELETE FROM auth_failures WHERE (kind <> 'good' AND at <= $1) OR at <= $2`, [at - this.policy.windowMs, at - this.policy.knownGoodMs]);
  }
}
