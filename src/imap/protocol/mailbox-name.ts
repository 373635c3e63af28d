/**
 * Mailbox names: modified UTF-7 (RFC 3501 5.1.3) for IMAP4rev1 clients, and the
 * rules for which names Mailroom accepts at all. Pure; the store never sees mUTF-7.
 *
 * Decoding is strict so that every name has exactly one wire form: printable ASCII
 * must not be base64-encoded, padding bits must be zero, a shift must end with "-",
 * and two shifted runs must not touch (an encoder would have merged them). Thanks to
 * that, encodeMailboxUtf7(decodeMailboxUtf7(w)) === w for every accepted w.
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,'; // RFC 3501 5.1.3: "," replaces "/"

/** Thrown by decodeMailboxUtf7 on input that is not canonical modified UTF-7. */
export class MailboxNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MailboxNameError';
  }
}

function isPrintable(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

/** Encodes a Unicode mailbox name as modified UTF-7. Never throws. */
export function encodeMailboxUtf7(name: string): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const c = name.charCodeAt(i);
    if (c === 0x26) {
      out += '&-'; // RFC 3501 5.1.3: "&" is represented by "&-"
      i++;
    } else if (isPrintable(c)) {
      out += name[i];
      i++;
    } else {
      let j = i;
      while (j < name.length && !isPrintable(name.charCodeAt(j))) j++;
      out += `&${base64Units(name.slice(i, j))}-`;
      i = j;
    }
  }
  return out;
}

function base64Units(s: string): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (let i = 0; i < s.length; i++) {
    acc = (acc << 16) | s.charCodeAt(i);
    bits += 16;
    while (bits >= 6) {
      bits -= 6;
      out += B64[(acc >> bits) & 0x3f];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B64[(acc << (6 - bits)) & 0x3f];
  return out;
}

/**
 * Decodes modified UTF-7. Throws MailboxNameError with a reason on anything that is
 * not the canonical encoding of some name (RFC 3501 5.1.3).
 */
export function decodeMailboxUtf7(wire: string): string {
  let out = '';
  let i = 0;
  let lastShiftEnd = -1;
  while (i < wire.length) {
    const c = wire.charCodeAt(i);
    if (!isPrintable(c)) throw new MailboxNameError('Mailbox name has a character outside printable US-ASCII');
    if (c !== 0x26) {
      out += wire[i];
      i++;
      continue;
    }
    const dash = wire.indexOf('-', i + 1);
    if (dash < 0) throw new MailboxNameError('Unterminated modified UTF-7 sequence in mailbox name');
    if (dash === i + 1) {
      out += '&';
      i += 2;
      continue;
    }
    if (lastShiftEnd === i) throw new MailboxNameError('Adjacent modified UTF-7 sequences in mailbox name');
    out += decodeRun(wire.slice(i + 1, dash));
    i = dash + 1;
    lastShiftEnd = i;
  }
  return out;
}

function decodeRun(run: string): string {
  let acc = 0;
  let bits = 0;
  const units: number[] = [];
  for (const ch of run) {
    const v = B64.indexOf(ch);
    if (v < 0) throw new MailboxNameError(`Invalid modified BASE64 character "${ch}" in mailbox name`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 16) {
      bits -= 16;
      units.push((acc >> bits) & 0xffff);
    }
  }
  if (bits >= 6 || (acc & ((1 << bits) - 1)) !== 0) throw new MailboxNameError('Non-canonical modified BASE64 padding in mailbox name');
  let out = '';
  for (let k = 0; k < units.length; k++) {
    const u = units[k];
    if (isPrintable(u)) throw new MailboxNameError('Printable US-ASCII must not be encoded in a mailbox name'); // RFC 3501 5.1.3
    if (u >= 0xd800 && u <= 0xdbff) {
      const lo = units[k + 1];
      if (lo === undefined || lo < 0xdc00 || lo > 0xdfff) throw new MailboxNameError('Unpaired UTF-16 surrogate in mailbox name');
      out += String.fromCharCode(u, lo);
      k++;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      throw new MailboxNameError('Unpaired UTF-16 surrogate in mailbox name');
    } else {
      out += String.fromCharCode(u);
    }
  }
  return out;
}

/**
 * Marks a mailbox argument that is a valid astring but not valid modified UTF-7. Such a name
 * names no mailbox: the answer is NO (or an empty LIST), never BAD, which is for syntax only
 * (RFC 9051 7.1.3 BAD, 7.1.2 NO). ArgReader returns `UNDECODABLE + wire` instead of throwing;
 * U+0000 can be in no stored name (validateMailboxName and the store refuse control
 * characters), so every lookup misses and every LIST pattern built from it matches nothing.
 */
export const UNDECODABLE = '\u0000';

/** True for a name ArgReader could not decode (see UNDECODABLE). */
export function isUndecodableName(name: string): boolean {
  return name.startsWith(UNDECODABLE);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Limits for validateMailboxName; the defaults are what Mailroom enforces. */
export interface MailboxNameLimits {
  /** Hierarchy delimiter (Mailroom uses "/"). */
  delimiter?: string;
  /** Bytes of UTF-8 per level (default 255, like a file name). */
  maxLevelBytes?: number;
  /** Bytes of UTF-8 for the whole name (default 1024). */
  maxNameBytes?: number;
  /** Levels (default 32). */
  maxDepth?: number;
}

/**
 * Checks a decoded mailbox name for CREATE/RENAME. Returns null when it is fine, or
 * a reason for a NO response. Refused: empty, leading/trailing delimiter, empty
 * levels (`a//b`), `.` or `..` levels, control characters, the LIST wildcards `%`
 * and `*` (such a name could never be listed unambiguously), unpaired surrogates,
 * and names over the limits.
 * The caller strips one trailing delimiter first (RFC 9051 6.3.4: `CREATE a/` declares a parent).
 */
export function validateMailboxName(name: string, limits: MailboxNameLimits = {}): string | null {
  const delim = limits.delimiter ?? '/';
  const maxLevel = limits.maxLevelBytes ?? 255;
  const maxName = limits.maxNameBytes ?? 1024;
  const maxDepth = limits.maxDepth ?? 32;
  if (name === '') return 'Mailbox name is empty';
  if (LONE_SURROGATE.test(name)) return 'Mailbox name is not valid Unicode';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'Mailbox name contains a control character';
  if (/[%*]/.test(name)) return 'Mailbox name contains a wildcard character (% or *)';
  if (Buffer.byteLength(name, 'utf8') > maxName) return `Mailbox name is longer than ${maxName} bytes`;
  if (name.startsWith(delim)) return `Mailbox name starts with "${delim}"`;
  if (name.endsWith(delim)) return `Mailbox name ends with "${delim}"`;
  const levels = name.split(delim);
  if (levels.length > maxDepth) return `Mailbox name has more than ${maxDepth} levels`;
  for (const level of levels) {
    if (level === '') return 'Mailbox name has an empty level';
    if (level === '.' || level === '..') return `Mailbox name has a "${level}" level`;
    if (Buffer.byteLength(level, 'utf8') > maxLevel) return `Mailbox name level is longer than ${maxLevel} bytes`;
  }
  return null;
}

/**
 * Canonical form of a decoded name: `INBOX` in any case becomes `INBOX`, also as the
 * first level (`inbox/x` → `INBOX/x`) (RFC 9051 5.1: INBOX is case-insensitive).
 */
export function normalizeMailboxName(name: string, delimiter = '/'): string {
  if (name.length >= 5 && name.slice(0, 5).toUpperCase() === 'INBOX' && (name.length === 5 || name.startsWith(delimiter, 5))) {
    return `INBOX${name.slice(5)}`;
  }
  return name;
}
