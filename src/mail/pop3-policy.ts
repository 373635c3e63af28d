/**
 * The per-user POP3 policies: config defaults (`[pop3]`) with per-user overrides kept
 * in the user's settings (`mailroom user set alice@example.test pop3.deleteMode=hide`).
 * One place decides what each value means, for the POP3 server and the CLI alike.
 */
import type { Config } from '../config/load.js';

export type DeleteMode = 'expunge' | 'hide';

export interface Pop3Policy {
  /** expunge: DELE removes the message for every client (RFC 1939); hide: POP3 stops seeing it, IMAP keeps it. */
  deleteMode: DeleteMode;
  /** RETR sets \Seen for IMAP devices. */
  markSeen: boolean;
  /** RFC 2449 6.7 EXPIRE: days a message stays; null = NEVER; 0 = retrieved messages go at QUIT. */
  keepDays: number | null;
  /** RFC 2449 6.8 LOGIN-DELAY: minimum seconds between two POP3 logins. */
  loginDelay: number;
}

/** The keyword that hides a message from POP3 (like Dovecot's pop3_deleted_flag); IMAP clients see it as a keyword. */
export const POP3_HIDDEN_KEYWORD = '$POP3Deleted';

/** Per-user setting keys with what they accept, for validation and `user show`. */
export const POP3_SETTINGS: Record<string, string> = {
  'pop3.deleteMode': 'expunge | hide',
  'pop3.markSeen': 'true | false',
  'pop3.keepDays': 'never | a number of days (0-99999)',
  'pop3.loginDelay': 'seconds (0-86400)',
};

const BOOL: Record<string, boolean> = { true: true, on: true, yes: true, '1': true, false: false, off: false, no: false, '0': false };

/**
 * Checks one per-user setting and returns its normalised text; throws an Error with a
 * one-line message (`pop3.keepDays: expected never | a number of days …, got "x"`).
 */
export function normalisePop3Setting(key: string, value: string): string {
  const v = value.trim().toLowerCase();
  const fail = (): never => {
    throw new Error(`${key}: expected ${POP3_SETTINGS[key] ?? '?'}, got ${JSON.stringify(value)}`);
  };
  switch (key) {
    case 'pop3.deleteMode':
      return v === 'expunge' || v === 'hide' ? v : fail();
    case 'pop3.markSeen':
      return v in BOOL ? String(BOOL[v]) : fail();
    case 'pop3.keepDays':
      return v === 'never' || /^\d{1,5}$/.test(v) ? (v === 'never' ? v : String(Number(v))) : fail();
    case 'pop3.loginDelay':
      return /^\d{1,5}$/.test(v) && Number(v) <= 86400 ? String(Number(v)) : fail();
    default:
      throw new Error(`unknown POP3 setting ${key}; known: ${Object.keys(POP3_SETTINGS).join(', ')}`);
  }
}

function keepDaysOf(text: string): number | null {
  return text === 'never' ? null : Number(text);
}

/**
 * The effective policy of one user: a valid per-user setting wins over the config
 * default; an invalid stored value (edited by hand) is ignored, never fatal.
 */
export function pop3Policy(config: Config['pop3'], settings: Record<string, string>): Pop3Policy {
  const policy: Pop3Policy = {
    deleteMode: config.delete_mode,
    markSeen: config.mark_seen,
    keepDays: keepDaysOf(config.keep_days),
    loginDelay: config.login_delay_s,
  };
  const own = (key: string): string | undefined => {
    const raw = settings[key];
    if (raw === undefined) return undefined;
    try {
      return normalisePop3Setting(key, raw);
    } catch {
      return undefined;
    }
  };
  const mode = own('pop3.deleteMode');
  if (mode) policy.deleteMode = mode as DeleteMode;
  const seen = own('pop3.markSeen');
  if (seen) policy.markSeen = seen === 'true';
  const keep = own('pop3.keepDays');
  if (keep) policy.keepDays = keepDaysOf(keep);
  const delay = own('pop3.loginDelay');
  if (delay) policy.loginDelay = Number(delay);
  return policy;
}

/** The EXPIRE argument (RFC 2449 6.7): NEVER or days. */
export function expireText(keepDays: number | null): string {
  return keepDays === null ? 'NEVER' : String(keepDays);
}
