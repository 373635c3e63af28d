/**
 * Recently Deleted as the protocols and the server see it: the store settings from the
 * config, the deletion record a session passes to the store, and the purge job.
 *
 * Never imports: protocol code, a store backend. The rules (what is kept, quota, restore)
 * live once in src/store/core/deleted.ts; this file only decides when and with what.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import type { DeletedBy, Leases, RetentionSettings, Store } from '../store/types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export function retentionSettings(config: Pick<Config, 'retention'>): RetentionSettings {
  const r = config.retention;
  return { keepDeleted: r.deleted_days > 0, countQuota: r.deleted_counts_quota, mailboxName: r.deleted_mailbox };
}

/** The record of a deletion by a logged-in session; `actor` from actorOf. */
export function deletedBy(protocol: 'imap' | 'pop3' | 'cli' | 'retention', actor: string): DeletedBy {
  return { protocol, actor };
}

/**
 * Who deleted, as people read it in `deleted list`: the device's name and its person
 * ("Alice's phone (alice)"), a person on the account password, or the account address.
 */
export function actorOf(address: string, login?: { member: string; device: { name: string } | null }): string {
  if (login?.device) return `${login.device.name} (${login.member})`;
  if (login && login.member !== 'owner') return login.member;
  return address;
}

/** The cutoff of the purge at `now`: kept mail deleted before it goes. With 0 days, all of it. */
export function purgeCutoff(days: number, now: Date): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

const LEASE_KEY = 'retention:purge-deleted';
const LEASE_MS = 10 * 60 * 1000;
/** Messages purged per store call: bounds one run's transactions, the next batch follows at once. */
const BATCH = 1000;

/**
 * One purge run at `now`: under a store lease, so one node of several does the work (two at
 * once would still be correct: the store removes each row once). Returns how many were purged,
 * or null when another node holds the lease.
 */
export async function purgeDeletedOnce(store: Pick<Store, 'purgeDeleted'> & Leases, days: number, now: Date, owner: string): Promise<number | null> {
  if (!(await store.acquireLease(LEASE_KEY, owner, LEASE_MS))) return null;
  try {
    const cutoff = purgeCutoff(days, now);
    let total = 0;
    for (;;) {
      const n = await store.purgeDeleted(cutoff, BATCH);
      total += n;
      if (n < BATCH) return total;
      await store.renewLease(LEASE_KEY, owner, LEASE_MS);
    }
  } finally {
    await store.releaseLease(LEASE_KEY, owner);
  }
}

export interface PurgeJob {
  stop(): Promise<void>;
}

export interface PurgeJobOptions {
  store: Pick<Store, 'purgeDeleted'> & Leases;
  days: number;
  intervalMs: number;
  /** The clock (tests pass a fixed or moved one). */
  now?: () => Date;
  onRun?: (purged: number | null) => void;
  onError?: (err: unknown) => void;
}

/** Runs the purge at start and every intervalMs; stop() waits for a run in progress. */
export function startDeletedPurge(o: PurgeJobOptions): PurgeJob {
  const owner = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  const now = o.now ?? (() => new Date());
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = () => {
    running = purgeDeletedOnce(o.store, o.days, now(), owner).then(
      (n) => o.onRun?.(n),
      (err: unknown) => o.onError?.(err),
    );
  };
  const timer = setInterval(run, o.intervalMs);
  timer.unref();
  run();
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
