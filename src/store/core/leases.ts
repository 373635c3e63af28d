/**
 * Leases (named locks with an expiry, e.g. the POP3 maildrop lock held across
 * processes and nodes) and last-login times. Lease times come from the database clock
 * (Dialect.nowMs), the one clock every node on a database shares, so a node with a
 * skewed clock cannot steal or keep a lease.
 */
import { StoreError } from '../errors.js';
import type { Id } from '../types.js';
import type { ReadTx, Tx } from './tx.js';
import { requireUser } from './users.js';

function checkLease(key: string, owner: string, ttlMs?: number): void {
  if (typeof key !== 'string' || key === '' || key.length > 500) throw new StoreError('invalid', 'lease key must be 1-500 characters');
  if (typeof owner !== 'string' || owner === '' || owner.length > 500) throw new StoreError('invalid', 'lease owner must be 1-500 characters');
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)) throw new StoreError('invalid', 'lease ttl must be a positive integer (ms)');
}

/** One statement: insert, or take over when ours or expired; the row lock makes concurrent acquires queue up. */
export async function acquireLease(tx: Tx, key: string, owner: string, ttlMs: number): Promise<boolean> {
  checkLease(key, owner, ttlMs);
  const now = tx.d.nowMs;
  const r = await tx.get(
    `INSERT INTO leases (key, owner, expires_at) VALUES (?, ?, ${now} + ?)
     ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE leases.owner = excluded.owner OR leases.expires_at <= ${now}
     RETURNING owner`,
    [key, owner, ttlMs],
  );
  return r !== undefined;
}

export async function renewLease(tx: Tx, key: string, owner: string, ttlMs: number): Promise<boolean> {
  checkLease(key, owner, ttlMs);
  // An expired lease that nobody took meanwhile is still ours: renewing is harmless.
  return (await tx.exec(`UPDATE leases SET expires_at = ${tx.d.nowMs} + ? WHERE key = ? AND owner = ?`, [ttlMs, key, owner])).changes > 0;
}

export async function releaseLease(tx: Tx, key: string, owner: string): Promise<void> {
  checkLease(key, owner);
  await tx.exec('DELETE FROM leases WHERE key = ? AND owner = ?', [key, owner]);
}

export async function listLeases(tx: ReadTx, ownerPrefix: string): Promise<{ key: string; owner: string }[]> {
  if (typeof ownerPrefix !== 'string' || ownerPrefix === '' || ownerPrefix.length > 500) throw new StoreError('invalid', 'lease owner prefix must be 1-500 characters');
  return tx.query<{ key: string; owner: string }>('SELECT key, owner FROM leases WHERE substr(owner, 1, ?) = ? ORDER BY key', [ownerPrefix.length, ownerPrefix]);
}

export async function recordLogin(tx: Tx, userId: Id, kind: string, at: Date, minIntervalMs: number): Promise<{ ok: boolean; previous: Date | null }> {
  await requireUser(tx, userId);
  if (typeof kind !== 'string' || kind === '' || kind.length > 50) throw new StoreError('invalid', 'login kind must be 1-50 characters');
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new StoreError('invalid', 'login time is not a valid date');
  if (!Number.isSafeInteger(minIntervalMs) || minIntervalMs < 0) throw new StoreError('invalid', 'minimum interval must be a non-negative integer (ms)');
  await tx.lockUsers([userId]); // two nodes logging the same user in: one check-and-set after the other
  const row = await tx.get<{ at: number }>('SELECT at FROM user_logins WHERE user_id = ? AND kind = ?', [userId, kind]);
  const previous = row ? new Date(row.at) : null;
  if (row && at.getTime() - row.at < minIntervalMs) return { ok: false, previous };
  await tx.exec('INSERT INTO user_logins (user_id, kind, at) VALUES (?, ?, ?) ON CONFLICT (user_id, kind) DO UPDATE SET at = excluded.at', [userId, kind, at.getTime()]);
  return { ok: true, previous };
}
