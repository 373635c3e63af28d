/**
 * Brute-force protection shared by IMAP, POP3 and SMTP AUTH: failed logins are
 * counted per client IP and per account in a sliding window, and each new attempt
 * from a noisy IP or against a hammered account is slowed down, then refused.
 * Per-account pressure only slows (never locks out), so nobody can lock a user
 * out of their own mailbox by guessing wrong on purpose.
 *
 * The interface is async so a multi-node deployment can keep the counters in the
 * database (PostgreSQL issue); `MemoryThrottle` serves a single process.
 */

export interface ThrottleVerdict {
  /** Wait this long before answering the attempt (the caller sleeps; the session stays usable). */
  delayMs: number;
  /** Refuse without checking the password. */
  blocked: boolean;
}

export interface AuthThrottle {
  before(ip: string, account: string): Promise<ThrottleVerdict>;
  failed(ip: string, account: string): Promise<void>;
  succeeded(ip: string, account: string): Promise<void>;
}

export interface ThrottlePolicy {
  windowMs: number;
  /** Failures per IP that are free; each one past it doubles the delay. */
  ipFreeFailures: number;
  /** Failures per IP after which attempts are refused until the window passes. */
  ipBlockFailures: number;
  /** Failures per account (from any IP) after which every attempt waits accountDelayMs. */
  accountSlowFailures: number;
  accountDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  windowMs: 15 * 60_000,
  ipFreeFailures: 3,
  ipBlockFailures: 30,
  accountSlowFailures: 10,
  accountDelayMs: 3_000,
  maxDelayMs: 15_000,
};

/** Sliding-window failure counters in memory, bounded in size. */
export class MemoryThrottle implements AuthThrottle {
  private readonly ips = new Map<string, number[]>();
  private readonly accounts = new Map<string, number[]>();

  constructor(
    private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  async before(ip: string, account: string): Promise<ThrottleVerdict> {
    const p = this.policy;
    const ipFails = this.recent(this.ips, ip);
    const accountFails = this.recent(this.accounts, account.toLowerCase());
    if (ipFails >= p.ipBlockFailures) return { delayMs: p.maxDelayMs, blocked: true };
    let delay = ipFails > p.ipFreeFailures ? 250 * 2 ** (ipFails - p.ipFreeFailures) : 0;
    if (accountFails >= p.accountSlowFailures) delay = Math.max(delay, p.accountDelayMs);
    return { delayMs: Math.min(delay, p.maxDelayMs), blocked: false };
  }

  async failed(ip: string, account: string): Promise<void> {
    this.push(this.ips, ip);
    this.push(this.accounts, account.toLowerCase());
  }

  async succeeded(ip: string, _account: string): Promise<void> {
    // A good login from an IP forgives that IP (a user who mistyped), not the account.
    this.ips.delete(ip);
  }

  private recent(map: Map<string, number[]>, key: string): number {
    const list = map.get(key);
    if (!list) return 0;
    const cutoff = this.now() - this.policy.windowMs;
    while (list.length && list[0] <= cutoff) list.shift();
    if (list.length === 0) map.delete(key);
    return list.length;
  }

  private push(map: Map<string, number[]>, key: string): void {
    if (!map.has(key) && map.size >= this.maxKeys) {
      const oldest = map.keys().next().value; // Maps iterate in insertion order
      if (oldest !== undefined) map.delete(oldest);
    }
    const list = map.get(key) ?? [];
    list.push(this.now());
    if (list.length > this.policy.ipBlockFailures * 2) list.shift();
    map.set(key, list);
  }
}
