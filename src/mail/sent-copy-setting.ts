/**
 * The per-user `sent.copy` setting on its own, so `mailroom user set/show` can check
 * it without loading the ingest path that storing a Sent copy needs.
 */
import type { User } from '../store/types.js';

/** Per-user setting key (`mailroom user set ADDRESS sent.copy=off`). */
export const SENT_COPY_SETTING = 'sent.copy';

/** Checks a `sent.copy` value for `mailroom user set`; returns 'on' or 'off'. */
export function normaliseSentCopySetting(value: string): string {
  const v = value.trim().toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return 'on';
  if (['off', 'false', 'no', '0'].includes(v)) return 'off';
  throw new Error(`${SENT_COPY_SETTING}: expected on | off, got ${JSON.stringify(value)}`);
}

/** Whether the user wants Sent copies: their own `sent.copy` setting, else the server default. */
export function wantsSentCopy(user: User, serverDefault: boolean): boolean {
  const v = user.settings[SENT_COPY_SETTING];
  if (v === undefined) return serverDefault;
  try {
    return normaliseSentCopySetting(v) === 'on';
  } catch {
    return serverDefault; // a hand-edited bad value is ignored, never fatal
  }
}
