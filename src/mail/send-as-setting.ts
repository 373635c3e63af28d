/**
 * The per-user `send.as` setting: more addresses a user may send as (MAIL FROM and the
 * header From/Sender on submission), beyond their own and the aliases that reach them:
 * `a@example.test,@other.test` (an `@domain` entry allows the whole domain).
 */
import type { User } from '../store/types.js';
import { AddressError, parseAddress, normaliseDomain } from './address.js';

/** Per-user setting key (`mailroom user set ADDRESS send.as=a@x.test,@y.test`). */
export const SEND_AS_SETTING = 'send.as';

/** Checks a `send.as` value for `mailroom user set`; returns it normalised (lower-case, no spaces). */
export function normaliseSendAsSetting(value: string): string {
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) throw new Error(`${SEND_AS_SETTING}: expected addresses or @domains separated by commas`);
  try {
    return entries.map((e) => (e.startsWith('@') ? `@${normaliseDomain(e.slice(1))}` : parseAddress(e).address.toLowerCase())).join(',');
  } catch (err) {
    if (err instanceof AddressError) throw new Error(`${SEND_AS_SETTING}: ${err.message}`);
    throw err;
  }
}

/** Whether `address` (already parsed: local part and normalised domain) is in the user's `send.as`. */
export function allowedBySendAs(user: User, local: string, domain: string): boolean {
  const v = user.settings[SEND_AS_SETTING];
  if (!v) return false;
  let entries: string[];
  try {
    entries = normaliseSendAsSetting(v).split(',');
  } catch {
    return false; // a hand-edited bad value allows nothing, never fatal
  }
  const address = `${local}@${domain}`.toLowerCase();
  return entries.some((e) => e === address || e === `@${domain.toLowerCase()}`);
}
