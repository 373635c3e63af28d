/**
 * IMAP string output (RFC 9051 4.3): quoted when every byte may appear in a
 * quoted string, a literal otherwise. Pure; shared by ENVELOPE, BODYSTRUCTURE
 * and every response that carries a string.
 */

/** Bytes that cannot be in a quoted string at all: CR, LF, NUL, and 8-bit (unless UTF-8 is enabled). */
function needsLiteral(s: string, utf8: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0x00) return true;
    if (c >= 0x80 && !utf8) return true;
  }
  return false;
}

/**
 * Formats `s` as an IMAP string. `s` holds raw header text: each char code is one
 * byte (latin1/"binary" decoding) unless `utf8` is set, in which case it is UTF-8 text.
 */
export function formatString(s: string, utf8 = false): string {
  if (needsLiteral(s, utf8)) {
    const bytes = Buffer.byteLength(s, utf8 ? 'utf8' : 'latin1');
    return `{${bytes}}\r\n${s}`;
  }
  return `"${s.replace(/[\\"]/g, (m) => `\\${m}`)}"`; // RFC 9051 4.3: quoted-specials are escaped
}

/** nstring: NIL for null. */
export function formatNString(s: string | null, utf8 = false): string {
  return s === null ? 'NIL' : formatString(s, utf8);
}
