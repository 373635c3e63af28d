/**
 * IMAP string output (RFC 9051 4.3): quoted when every byte may appear in a
 * quoted string, a literal otherwise. Pure; shared by ENVELOPE, BODYSTRUCTURE
 * and every response that carries a string. The choice between quoted and literal
 * follows Dovecot's imap-quote.c, so our answers compare byte for byte with its.
 */

/**
 * More than this many quoted-specials and a literal is shorter than escaping
 * (Dovecot's QUOTED_MAX_ESCAPE_CHARS).
 */
const MAX_ESCAPES = 4;

/** True when `s` must be sent as a literal: CR, LF, NUL, 8-bit (unless UTF-8), or many escapes. */
function needsLiteral(s: string, utf8: boolean): boolean {
  let escapes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0x00) return true; // RFC 9051 4.3: not in quoted strings
    if (c >= 0x80 && !utf8) return true;
    if ((c === 0x22 || c === 0x5c) && ++escapes > MAX_ESCAPES) return true;
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

/**
 * A string meant for people (ENVELOPE subject and display names), cleaned as Dovecot
 * does: runs of SP, TAB, CR and LF become one space, leading and trailing whitespace
 * is dropped, NUL becomes 0x80. Anything changed, escaped or 8-bit is sent as a
 * literal; otherwise a plain quoted string.
 */
export function formatHumanString(s: string, utf8 = false): string {
  let out = '';
  let lastSpace = true;
  let modified = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
      if (c !== 0x20 || lastSpace) modified = true;
      if (!lastSpace) out += ' ';
      lastSpace = true;
      continue;
    }
    lastSpace = false;
    if (c === 0) {
      out += '\x80';
      modified = true;
    } else {
      if (c === 0x22 || c === 0x5c || (c >= 0x80 && !utf8)) modified = true;
      out += ch;
    }
  }
  if (lastSpace && out.length > 0) {
    out = out.slice(0, -1);
    modified = true;
  }
  if (!modified) return `"${s}"`;
  if (out === '') return '""';
  return `{${Buffer.byteLength(out, utf8 ? 'utf8' : 'latin1')}}\r\n${out}`;
}
