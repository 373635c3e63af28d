/**
 * Who tried to log in and from where: failed logins (the newest FAILED_KEEP per account,
 * and the newest UNKNOWN_KEEP for names that are no account, so a dictionary attack cannot
 * grow the table), and the origins an account logged in from (a device, or a client
 * address), so the first login from a new one can be told apart from the rest.
 *
 * Both are ephemeral writes (store/core/core-store.ts): losing the last one in a crash is harmless.
 */
import { StoreError } from '../errors.js';
import type { FailedLogin, Id, NewFailedLogin } from '../types.js';
import type { ReadTx, Tx } from './tx.js';
import { validId } from './names.js';

/** Failed logins kept per account (`mailroom user show`). */
export const FAILED_KEEP = 20;
/** Failed logins kept for names that are no account. */
export const UNKNOWN_KEEP = 200;
/** Origins kept per account: an account seen from more places forgets its oldest (the next login from one is noticed again). */
export const ORIGINS_KEEP = 500;

interface FailureRecord {
  id: number;
  user_id: number | null;
  at: number;
  username: string;
  protocol: string;
  address: string;
  device: string | null;
  reason: string;
}

function toFailure(r: FailureRecord): FailedLogin {
  return {
    userId: r.user_id === null ? null : Number(r.user_id),
    at: new Date(Number(r.at)),
    username: r.username,
    protocol: r.protocol,
    address: r.address,
    device: r.device,
    reason: r.reason,
  };
}

/** Text from the network, cut to a size a row and a page can show. */
function clip(v: unknown, max: number): string {
  return String(v ?? '').slice(0, max);
}

export async function recordFailedLogin(tx: Tx, f: NewFailedLogin): Promise<void> {
  if (!(f.at instanceof Date) || Number.isNaN(f.at.getTime())) throw new StoreError('invalid', 'failed login time is not a valid date');
  if (f.userId !== null && !validId(f.userId)) throw new StoreError('invalid', 'failed login user id is not an id');
  await tx.exec('INSERT INTO login_failures (user_id, at, username, protocol, address, device, reason) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    f.userId, f.at.getTime(), clip(f.username, 320), clip(f.protocol, 20), clip(f.address, 100), f.device === null ? null : clip(f.device, 100), clip(f.reason, 100),
  ]);
  // Keep the newest N of this account (or of the unknown names): delete what fell off the end.
  const owner = f.userId === null ? 'user_id IS NULL' : 'user_id = ?';
  const params = f.userId === null ? [] : [f.userId];
  const keep = f.userId === null ? UNKNOWN_KEEP : FAILED_KEEP;
  const edge = await tx.get<{ id: number }>(`SELECT id FROM login_failures WHERE ${owner} ORDER BY id DESC LIMIT 1 OFFSET ?`, [...params, keep - 1]);
  if (edge) await tx.exec(`DELETE FROM login_failures WHERE ${owner} AND id < ?`, [...params, edge.id]);
}

/** The newest failed logins of one account, or (userId null) of every account and unknown name together; newest first. */
export async function listFailedLogins(tx: ReadTx, userId: Id | null, limit: number): Promise<FailedLogin[]> {
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new StoreError('invalid', 'limit must be a positive integer');
  if (userId === null) return (await tx.query<FailureRecord>('SELECT * FROM login_failures ORDER BY id DESC LIMIT ?', [limit])).map(toFailure);
  if (!validId(userId)) throw new StoreError('invalid', 'user id is not an id');
  return (await tx.query<FailureRecord>('SELECT * FROM login_failures WHERE user_id = ? ORDER BY id DESC LIMIT ?', [userId, limit])).map(toFailure);
}

/**
 * Records that the account logged in from `origin` (e.g. `device:12`, `address:192.0.2.7`).
 * `isNew`: never seen before (exactly one of two concurrent first logins gets it);
 * `firstForAccount`: the account had no origin at all before this one (its first login).
 */
export async function noteLoginOrigin(tx: Tx, userId: Id, origin: string, at: Date): Promise<{ isNew: boolean; firstForAccount: boolean }> {
  if (!validId(userId)) throw new StoreError('invalid', 'user id is not an id');
  if (typeof origin !== 'string' || origin === '' || origin.length > 200) throw new StoreError('invalid', 'login origin must be 1-200 characters');
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new StoreError('invalid', 'login time is not a valid date');
  await tx.lockUsers([userId]); // two first logins at once: one sees the other's origin
  if (!(await tx.get('SELECT 1 FROM users WHERE id = ?', [userId]))) throw new StoreError('notfound', `no user ${userId}`);
  if (await tx.get('SELECT 1 FROM login_origins WHERE user_id = ? AND origin = ?', [userId, origin])) return { isNew: false, firstForAccount: false };
  const firstForAccount = !(await tx.get('SELECT 1 FROM login_origins WHERE user_id = ?', [userId]));
  await tx.exec('INSERT INTO login_origins (user_id, origin, first_at) VALUES (?, ?, ?)', [userId, origin, at.getTime()]);
  const edge = await tx.get<{ first_at: number }>('SELECT first_at FROM login_origins WHERE user_id = ? ORDER BY first_at DESC LIMIT 1 OFFSET ?', [userId, ORIGINS_KEEP]);
  if (edge) await tx.exec('DELETE FROM login_origins WHERE user_id = ? AND first_at <= ? AND origin <> ?', [userId, edge.first_at, origin]);
  return { isNew: true, firstForAccount };
}
