/**
 * Leases (named locks with an expiry, e.g. the POP3 maildrop lock held across nodes)
 * and last-login times, on PostgreSQL. Lease times come from the database clock, the
 * one clock every node shares, so a node with a skewed clock cannot steal or keep a lease.
 */
import { StoreError } from '../errors.js';
import type { Id } from '../types.js';
import type { PgTx } from './tx.js';
import { requireUser } from './users.js';

const NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

function checkLease(key: string, owner: string, ttlMs?: number): void {
  if (typeof key !== 'string' || key === '' || key.length > 500) throw new StoreError('invalid', 'lease key must be 1-500 characters');
  if (typeof owner !== 'string' || owner === '' || owner.length > 500) throw new StoreError('invalid', 'lease owner must be 1-500 characters');
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)) throw new StoreError('invalid', 'lease ttl must be a positive integer (ms)');
}

/** One statement: insert, or take over when ours or expired; the row lock makes concurrent acquires queue up. */
export async function acquireLease(tx: PgTx, key: string, owner: string, ttlMs: number): Promise<boolean> {
  checkLease(key, owner, ttlMs);
  const r = await tx.one(
    `INSERT INTO leases (key, owner, expires_at) VALUES ($1, $2, ${NOW_MS} + $3)
     ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE leases.owner = excluded.owner OR leases.expires_at <= ${NOW_MS}
     RETURNING owner`,
    [key, owner, ttlMs],
  );
  return r !== undefined;
}

export async function renewLease(tx: PgTx, key: string, owner: string, ttlMs: number): Promise<boolean> {
  checkLease(key, owner, ttlMs);
  return (await tx.run(`UPDATE leases SET expires_at = ${NOW_MS} + $3 WHERE key = $1 AND owner = $2`, [key, owner, ttlMs])) > 0;
}

export async function releaseLease(tx: PgTx, key: string, owner: string): Promise<void> {
  checkLease(key, owner);
  await tx.run('DELETE FROM leases WHERE key = $1 AND owner = $2', [key, owner]);
}

export async function recordLogin(tx: PgTx, userId: Id, kind: string, at: Date, minIntervalMs: number): Promise<{ ok: boolean; previous: Date | null }> {
  await requireUser(tx, userId);
  if (typeof kind !== 'string' || kind === '' || kind.length > 50) throw new StoreError('invalid', 'login kind must be 1-50 characters');
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new StoreError('invalid', 'login time is not a valid date');
  if (!Number.isSafeInteger(minIntervalMs) || minIntervalMs < 0) throw new StoreError('invalid', 'minimum interval must be a non-negative integer (ms)');
  await tx.lockUsers([userId]); // two nodes logging the same user in: one check-and-set after the other
  const row = await tx.one<{ at: number }>('SELECT at FROM user_logins WHERE user_id = $1 AND kind = $2', [userId, kind]);
  const previous = row ? new Date(row.at) : null;
  if (row && at.getTime() - row.at < minIntervalMs) return { ok: false, previous };
  await tx.run('INSERT INTO user_logins (user_id, kind, at) VALUES ($1, $2, $3) ON CONFLICT (user_id, kind) DO UPDATE SET at = excluded.at', [userId, kind, at.getTime()]);
  return { ok: true, previous };
}
