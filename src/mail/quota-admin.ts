/**
 * Who may change quotas over IMAP (SETQUOTA, RFC 9208 4.1.3): a user with the setting
 * `imap.quota_admin=yes` (`mailroom user set ADDRESS imap.quota_admin=yes`), logged in with
 * the account's own password (not a member's or a device's, which are narrower credentials).
 * Such a user may read and set the quota of any user, naming them by address as the quota
 * root; everyone else sees only their own root "" and gets NO [NOPERM] for SETQUOTA.
 * A server admin (`admin=yes`, who may use the admin page) may do the same.
 */
import type { User } from '../store/types.js';
import { ADMIN_SETTING } from '../auth/admin-users.js';

export const QUOTA_ADMIN = 'imap.quota_admin';

/** Normalises the user setting `imap.quota_admin`. */
export function normaliseQuotaAdmin(value: string): string {
  const v = value.trim().toLowerCase();
  if (v === 'yes' || v === 'no') return v;
  throw new Error(`${QUOTA_ADMIN} must be yes or no, got ${JSON.stringify(value)}`);
}

/** The login is the quota admin's own (account password, no member, no device). */
export function isQuotaAdmin(user: Pick<User, 'settings'>, login: { memberId: number | null; device: unknown } | undefined): boolean {
  return (user.settings[QUOTA_ADMIN] === 'yes' || user.settings[ADMIN_SETTING] === 'yes') && login !== undefined && login.memberId === null && login.device === null;
}
