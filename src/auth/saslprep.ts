/**
 * SASLprep (RFC 4013) as SCRAM normalizes passwords (RFC 5802 2.2): non-ASCII spaces map to
 * SPACE, "commonly mapped to nothing" characters go, then NFKC. A password that stays
 * unchanged by this (every ASCII one) hashes the same as without it. Prohibited
 * characters are not rejected here: a password is only ever compared, never displayed,
 * and clients that do reject them simply never send them.
 * Never imports: anything.
 */

/** RFC 3454 C.1.2: non-ASCII space characters. */
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
/** RFC 3454 B.1: commonly mapped to nothing. */
const MAPPED_TO_NOTHING = new Set([0x00ad, 0x034f, 0x1806, 0x180b, 0x180c, 0x180d, 0x200c, 0x200d, 0x2060, 0xfeff, ...Array.from({ length: 16 }, (_, i) => 0xfe00 + i)]);

export function saslPrep(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text; // the common case, unchanged by every step
  const mapped = Array.from(text.replace(NON_ASCII_SPACE, ' ')).filter((ch) => !MAPPED_TO_NOTHING.has(ch.codePointAt(0)!));
  return mapped.join('').normalize('NFKC');
}
