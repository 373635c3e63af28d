/**
 * The per-user `new_login_notice` setting on its own, so `mailroom user set/show` can
 * check it without loading the delivery path (MIME, ingest) that sending a notice needs.
 */
import type { User } from '../store/types.js';

/** Per-user setting key (`mailroom user set ADDRESS new_login_notice=off`). */
export const NEW_LOGIN_NOTICE_SETTING = 'new_login_notice';

/** Checks a `new_login_notice` value for `mailroom user set`; returns 'on' or 'off'. */
export function normaliseNewLoginNotice(value: string): string {
  const v = value.trim().toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return 'on';
  if (['off', 'false', 'no', '0'].includes(v)) return 'off';
  throw new Error(`${NEW_LOGIN_NOTICE_SETTING}: expected on | off, got ${JSON.stringify(value)}`);
}

/** Whether the account wants notices: its own setting, else the server default (auth.new_login_notice). */
export function wantsNewLoginNotice(user: User, serverDefault: boolean): boolean {
  const v = user.settings[NEW_LOGIN_NOTICE_SETTING];
  if (v === undefined) return serverDefault;
  try {
    return normaliseNewLoginNotice(v) === 'on';
  } catch {
    return serverDefault; // a hand-edited bad value is ignored, never fatal
  }
}
