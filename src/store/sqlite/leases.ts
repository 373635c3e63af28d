/**
 * Leases (named locks with an expiry, e.g. the POP3 maildrop lock) and last-login
 * times. Both live in the database so they hold across processes on one file; the
 * clock is this process's, which is the only clock a single SQLite file has.
 */
import { StoreError } from '../errors.js';
import type { Id } from '../types.js';
import { requireUser } from './users.js';
import type { Tx } from './tx.js';

function checkLease(key: string, owner: string, ttlMs?: number): void {
  if (typeof key !== 'string' || key === '' || key.length > 500) throw new StoreError('invalid', 'lease key must be 1-500 characters');
  if (typeof owner !== 'string' || owner === '' || owner.length > 500) throw new StoreError('invalid', 'lease owner must be 1-500 characters');
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)) throw new StoreError('invalid', 'lease ttl must be a positive integer (ms)');
}

export function acquireLease(tx: Tx, key: string, owner: string, ttlMs: number): boolean {
  checkLease(key, owner, ttlMs);
  const now = Date.now();
  const held = tx.s.get('SELECT owner, expires_at FROM leases WHERE key = ?').get(key) as { owner: string; expires_at: number } | undefined;
  if (held && held.owner !== owner && held.expires_at > now) return false;
  tx.s.get('INSERT INTO leases (key, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at')
    .run(key, owner, now + ttlMs);
  return true;
}

export function renewLease(tx: Tx, key: string, owner: string, ttlMs: number): boolean {
  checkLease(key, owner, ttlMs);
  const now = Date.now();
  // An expired lease that nobody took meanwhile is still ours: renewing is harmless.
  return tx.s.get('UPDATE leases SET expires_at = ? WHERE key = ? AND owner = ?').run(now + ttlMs, key, owner).changes > 0;
}

export function releaseLease(tx: Tx, key: string, owner: string): void {
  checkLease(key, owner);
  tx.s.get('DELETE FROM leases WHERE key = ? AND owner = ?').run(key, owner);
}

export function recordLogin(tx: Tx, userId: Id, kind: string, at: Date, minIntervalMs: number): { ok: boolean; previous: Date | null } {
  requireUser(tx.s, userId);
  if (typeof kind !== 'string' || kind === '' || kind.length > 50) throw new StoreError('invalid', 'login kind must be 1-50 characters');
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new StoreError('invalid', 'login time is not a valid date');
  if (!Number.isSafeInteger(minIntervalMs) || minIntervalMs < 0) throw new StoreError('invalid', 'minimum interval must be a non-negative integer (ms)');
  const row = tx.s.get('SELECT at FROM user_logins WHERE user_id = ? AND kind = ?').get(userId, kind) as { at: number } | undefined;
  const previous = row ? new Date(row.at) : null;
  if (row && at.getTime() - row.at < minIntervalMs) return { ok: false, previous };
  tx.s.get('INSERT INTO user_logins (user_id, kind, at) VALUES (?, ?, ?) ON CONFLICT (user_id, kind) DO UPDATE SET at = excluded.at').run(userId, kind, at.getTime());
  return { ok: true, previous };
}

