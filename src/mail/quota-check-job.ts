/**
 * The scheduled quota check: every interval, one node (a store lease) recounts every
 * user's usage from the rows and repairs counters that drifted (Store.checkQuota with fix).
 * Running on several nodes at once would still be correct: each repair recounts under
 * the user's row lock.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Leases, QuotaCheck, Store } from '../store/types.js';

const LEASE_KEY = 'quota:check';
const LEASE_MS = 10 * 60 * 1000;

type QuotaStore = Pick<Store, 'listUsers' | 'checkQuota'> & Leases;

/** Checks (and with `fix` repairs) every user; null when another node holds the lease. */
export async function checkAllQuotas(store: QuotaStore, fix: boolean, owner: string): Promise<QuotaCheck[] | null> {
  if (!(await store.acquireLease(LEASE_KEY, owner, LEASE_MS))) return null;
  try {
    const out: QuotaCheck[] = [];
    let since = Date.now();
    for (const u of await store.listUsers()) {
      out.push(await store.checkQuota(u.id, fix));
      if (Date.now() - since > LEASE_MS / 3) {
        await store.renewLease(LEASE_KEY, owner, LEASE_MS);
        since = Date.now();
      }
    }
    return out;
  } finally {
    await store.releaseLease(LEASE_KEY, owner);
  }
}

export function drifted(c: QuotaCheck): boolean {
  return c.recorded.bytes !== c.actual.bytes || c.recorded.messages !== c.actual.messages;
}

export interface QuotaCheckJob {
  stop(): Promise<void>;
}

/** Runs the check-and-repair every intervalMs (the first run one interval after start); stop() waits for a run. */
export function startQuotaCheck(o: { store: QuotaStore; intervalMs: number; onRepaired: (fixed: QuotaCheck[]) => void; onError: (err: unknown) => void }): QuotaCheckJob {
  const owner = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = checkAllQuotas(o.store, true, owner).then(
      (checks) => {
        const fixed = (checks ?? []).filter((c) => c.fixed);
        if (fixed.length > 0) o.onRepaired(fixed);
      },
      (err: unknown) => o.onError(err),
    );
  }, o.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
