/**
 * URLAUTH-authorized IMAP URLs (RFC 4467 3, 9; RFC 5092 3.1, 11): an absolute URL to one
 * message or part, with a mandatory owner (`imap://enc-user[;AUTH=…]@host/…`), then
 * `[;EXPIRE=date-time];URLAUTH=access[:mechanism:token]` at its very end.
 *
 * The rump (RFC 4467 6) is the text up to and including the access identifier, taken as it
 * is: no percent-decoding and no case-folding, since the token is computed over exactly
 * those bytes. Pure: no store, no crypto.
 */
import { parseMessageUrl, type MessageUrl } from './imap-url.js';

/** Who may use the URL (RFC 4467 3). Userids are percent-decoded. */
export type UrlAccess = { kind: 'submit'; user: string } | { kind: 'user'; user: string } | { kind: 'authuser' } | { kind: 'anonymous' };

export interface AuthUrl {
  /** The message part named, with its owner and mailbox (both mandatory here). */
  target: MessageUrl & { user: string; mailbox: string };
  /** The URL up to and including the access identifier, byte for byte as given. */
  rump: string;
  access: UrlAccess;
  /** `;EXPIRE=`: the last instant the URL is valid. */
  expire?: Date;
  /** Absent in a rump (GENURLAUTH's argument); as given, compare case-insensitively. */
  mechanism?: string;
  /** Hex digits as given (at least 32, RFC 4467 9 enc-urlauth). */
  token?: string;
}

const MARK = ';URLAUTH=';
// RFC 5092 achar (uchar / "&" / "=" / "~"): unreserved, pct-encoded and sub-delims-sh
const ENC_USER = /^[A-Za-z0-9\-._~!$'()*+,&=%]+$/;
const MECHANISM = /^[A-Za-z0-9.-]{1,64}$/;
// 32*HEXDIG; the upper bound keeps a hostile token from costing anything
const TOKEN = /^[0-9A-Fa-f]{32,256}$/;
// RFC 3339 5.6 date-time
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

function decodeUser(s: string): string | null {
  if (!ENC_USER.test(s) || /%(?![0-9A-Fa-f]{2})/.test(s)) return null;
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** An RFC 3339 date-time as an instant; null when malformed or out of range. */
export function parseDateTime(s: string): Date | null {
  const m = DATE_TIME.exec(s);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const leap = second === 60 ? 1 : 0; // RFC 3339 5.7: a leap second is the instant before the next minute
  const utc = Date.UTC(year, month - 1, day, hour, minute, second - leap, Math.floor(Number(`0${m[7] ?? ''}`) * 1000));
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  const zone = m[8].toUpperCase();
  if (zone === 'Z') return new Date(utc + leap * 1000);
  const zh = Number(zone.slice(1, 3));
  const zm = Number(zone.slice(4, 6));
  if (zh > 23 || zm > 59) return null;
  const offset = (zone[0] === '+' ? 1 : -1) * (zh * 60 + zm) * 60_000;
  return new Date(utc - offset + leap * 1000);
}

function parseAccess(s: string): UrlAccess | null {
  const lower = s.toLowerCase();
  if (lower === 'authuser') return { kind: 'authuser' };
  if (lower === 'anonymous') return { kind: 'anonymous' };
  const m = /^(submit|user)\+(.+)$/i.exec(s);
  const user = m ? decodeUser(m[2]) : null;
  if (!m || !user) return null;
  return { kind: m[1].toLowerCase() as 'submit' | 'user', user };
}

/**
 * The URLAUTH URL, or null when the text is not an absolute IMAP URL with an owner, to one
 * message or part, ending in a well-formed `;URLAUTH=` (with or without mechanism and token).
 */
export function parseAuthUrl(text: string): AuthUrl | null {
  if (text.length > 8192 || /[\s"\\?]/.test(text)) return null;
  const upper = text.toUpperCase();
  const at = upper.indexOf(MARK);
  if (at < 0 || upper.indexOf(MARK, at + 1) >= 0) return null;
  const fields = text.slice(at + MARK.length).split(':');
  if (fields.length !== 1 && fields.length !== 3) return null;
  const access = parseAccess(fields[0]);
  if (!access) return null;
  const rump = text.slice(0, at + MARK.length + fields[0].length);
  let mechanism: string | undefined;
  let token: string | undefined;
  if (fields.length === 3) {
    if (!MECHANISM.test(fields[1]) || !TOKEN.test(fields[2])) return null;
    [mechanism, token] = [fields[1], fields[2]];
  }
  let head = text.slice(0, at);
  let expire: Date | undefined;
  const exp = /;EXPIRE=([^;/]*)$/i.exec(head);
  if (exp) {
    const when = parseDateTime(exp[1]);
    if (!when) return null;
    expire = when;
    head = head.slice(0, exp.index);
  }
  // RFC 4467 7 (GENURLAUTH (2)): the owner (iuserinfo) is mandatory, and so is a host
  if (!/^imap:\/\/[^/@]+@[^/@]+\//i.test(head)) return null;
  const target = parseMessageUrl(head);
  if (!target || target.user === undefined || target.mailbox === undefined) return null;
  return { target: { ...target, user: target.user, mailbox: target.mailbox }, rump, access, expire, mechanism, token };
}
