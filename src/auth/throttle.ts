/**
 * Brute-force protection shared by IMAP, POP3 and SMTP AUTH (PLAIN, LOGIN and SCRAM alike).
 * Failed logins are counted in a sliding window per client address, per network (/24 for
 * IPv4, /64 for IPv6), per account across all addresses, and per account-and-address pair.
 * A noisy address or network is slowed down, then refused; an account attacked from
 * everywhere is slowed (never locked: nobody can lock a user out by guessing wrong on purpose).
 *
 * Known-good: an address (IPv6: its /64) an account logged in from successfully before is
 * let through at once, whatever its address, network or account counters say, unless that
 * very pair keeps failing. So the owner still gets in while their account is under attack,
 * and a block on an office NAT stops only the accounts that never logged in from there.
 *
 * The interface is async so a multi-node deployment can keep the counters in the database
 * (src/store/postgres/throttle.ts); `MemoryThrottle` serves a single process. Both decide
 * with `verdictFor`.
 */
import { networkOf, placeOf } from './network.js';

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
  /** Failures per address that are free; each one past it doubles the delay. */
  ipFreeFailures: number;
  /** Failures per address after which attempts are refused until the window passes. */
  ipBlockFailures: number;
  /** The same for the address's /24 (IPv4) or /64 (IPv6). */
  netFreeFailures: number;
  netBlockFailures: number;
  /** Failures per account (from any address) after which every attempt waits accountDelayMs. */
  accountSlowFailures: number;
  accountDelayMs: number;
  maxDelayMs: number;
  /** How long a successful login keeps its address known-good for that account. */
  knownGoodMs: number;
  /** Failures of the known-good pair itself after which it is throttled like anyone. */
  knownGoodMaxFailures: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  windowMs: 15 * 60_000,
  ipFreeFailures: 3,
  ipBlockFailures: 30,
  netFreeFailures: 10,
  netBlockFailures: 100,
  accountSlowFailures: 10,
  accountDelayMs: 3_000,
  maxDelayMs: 15_000,
  knownGoodMs: 30 * 24 * 3600_000,
  knownGoodMaxFailures: 5,
};

/** Recent failures of one attempt's address, network, account and pair, and whether the pair is known-good. */
export interface FailureCounts {
  ip: number;
  net: number;
  account: number;
  pair: number;
  knownGood: boolean;
}

/** The one policy decision, shared by every throttle backend. */
export function verdictFor(p: ThrottlePolicy, c: FailureCounts): ThrottleVerdict {
  if (c.knownGood && c.pair < p.knownGoodMaxFailures) return { delayMs: 0, blocked: false };
  if (c.ip >= p.ipBlockFailures || c.net >= p.netBlockFailures) return { delayMs: p.maxDelayMs, blocked: true };
  const backoff = (fails: number, free: number) => (fails > free ? 250 * 2 ** Math.min(fails - free, 16) : 0);
  let delay = Math.max(backoff(c.ip, p.ipFreeFailures), backoff(c.net, p.netFreeFailures));
  if (c.account >= p.accountSlowFailures) delay = Math.max(delay, p.accountDelayMs);
  return { delayMs: Math.min(delay, p.maxDelayMs), blocked: false };
}

/** The counter keys of one attempt. */
export function throttleKeys(ip: string, account: string): { ip: string; net: string; account: string; pair: string; good: string } {
  const a = account.trim().toLowerCase();
  return { ip, net: networkOf(ip), account: a, pair: `${a} ${ip}`, good: `${a} ${placeOf(ip)}` };
}

/** Sliding-window failure counters in memory, each map bounded in size. */
export class MemoryThrottle implements AuthThrottle {
  private readonly ips = new Map<string, number[]>();
  private readonly nets = new Map<string, number[]>();
  private readonly accounts = new Map<string, number[]>();
  private readonly pairs = new Map<string, number[]>();
  /** account+place → time of the last successful login, oldest first. */
  private readonly good = new Map<string, number>();

  constructor(
    private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  async before(ip: string, account: string): Promise<ThrottleVerdict> {
    const k = throttleKeys(ip, account);
    const goodAt = this.good.get(k.good);
    return verdictFor(this.policy, {
      ip: this.recent(this.ips, k.ip),
      net: this.recent(this.nets, k.net),
      account: this.recent(this.accounts, k.account),
      pair: this.recent(this.pairs, k.pair),
      knownGood: goodAt !== undefined && this.now() - goodAt < this.policy.knownGoodMs,
    });
  }

  async failed(ip: string, account: string): Promise<void> {
    const k = throttleKeys(ip, account);
    this.push(this.ips, k.ip);
    this.push(this.nets, k.net);
    this.push(this.accounts, k.account);
    this.push(this.pairs, k.pair);
  }

  async succeeded(ip: string, account: string): Promise<void> {
    const k = throttleKeys(ip, account);
    // The user who mistyped is forgiven; the address's and network's counts stay (others may be guessing there).
    this.pairs.delete(k.pair);
    this.good.delete(k.good); // re-insert: the map stays ordered oldest first
    this.evictFor(this.good);
    this.good.set(k.good, this.now());
  }

  private recent(map: Map<string, number[]>, key: string): number {
    const list = map.get(key);
    if (!list) return 0;
    const cutoff = this.now() - this.policy.windowMs;
    while (list.length && list[0] <= cutoff) list.shift();
    if (list.length === 0) map.delete(key);
    return list.length;
  }

  private evictFor(map: Map<string, unknown>): void {
    if (map.size < this.maxKeys) return;
    const oldest = map.keys().next().value; // Maps iterate in insertion order
    if (oldest !== undefined) map.delete(oldest);
  }

  private push(map: Map<string, number[]>, key: string): void {
    if (!map.has(key)) this.evictFor(map);
    const list = map.get(key) ?? [];
    list.push(this.now());
    if (list.length > this.policy.netBlockFailures * 2) list.shift();
    map.set(key, list);
  }
}
