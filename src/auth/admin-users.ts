/**
 * Who may use the admin page: server-admin users, i.e. mail accounts with the per-user
 * setting `admin=yes` (`mailroom user set ADDRESS admin=yes`), signing in with the
 * account's own password (never a device password: those are for mail apps).
 */
import type { User } from '../store/types.js';

export const ADMIN_SETTING = 'admin';

/** Checks an `admin` value for `mailroom user set`; returns 'yes' or 'no'. */
export function normaliseAdminSetting(value: string): string {
  const v = value.trim().toLowerCase();
  if (['yes', 'on', 'true', '1'].includes(v)) return 'yes';
  if (['no', 'off', 'false', '0'].includes(v)) return 'no';
  throw new Error(`${ADMIN_SETTING}: expected yes | no, got ${JSON.stringify(value)}`);
}

export function isServerAdmin(user: User): boolean {
  return user.settings[ADMIN_SETTING] === 'yes';
}
