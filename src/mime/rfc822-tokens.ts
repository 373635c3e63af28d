/**
 * RFC 5322 / RFC 2045 lexical tokens over a header value held as a latin1
 * ("binary") string, one char per byte. Lenient the way Dovecot's rfc822-parser is,
 * because BODYSTRUCTURE and ENVELOPE must come out byte for byte as Dovecot's do.
 *
 * Every reader returns the Dovecot convention: -1 broken, 0 end of input reached,
 * 1 more input follows. Nothing here throws.
 */

const enum Ch {
  Tab = 9,
  Lf = 10,
  Cr = 13,
  Space = 32,
  Quote = 34,
  LParen = 40,
  RParen = 41,
  Dot = 46,
  Slash = 47,
  Semicolon = 59,
  Equals = 61,
  At = 64,
  LBracket = 91,
  Backslash = 92,
  RBracket = 93,
}

/** 0: not atext; 1: atext; 2: alnum or 8-bit; 4: atext but a MIME tspecial ("/", "=", "?"). */
const ATEXT = new Uint8Array(256);
(() => {
  for (let c = 0; c < 256; c++) {
    if (c >= 128 || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) ATEXT[c] = 2;
  }
  for (const ch of "!#$%&'*+-^_`{|}~") ATEXT[ch.charCodeAt(0)] = 1;
  for (const ch of '/=?') ATEXT[ch.charCodeAt(0)] = 4;
})();

/** RFC 5322 3.2.3 atext (8-bit bytes included, as Dovecot does). */
export function isAtext(c: number): boolean {
  return c >= 0 && c < 256 && ATEXT[c] !== 0;
}

/** RFC 2045 5.1 token char (atext minus tspecials). */
function isTokenChar(c: number): boolean {
  return c >= 0 && c < 256 && (ATEXT[c] & 3) !== 0;
}

/** A cursor over one header value. */
export class Rfc822Reader {
  pos = 0;
  readonly end: number;
  /** When not null, the text of the last comment skipped (used for "addr (Name)"). */
  lastComment: string | null;

  constructor(
    readonly s: string,
    keepComments = false,
  ) {
    this.end = s.length;
    this.lastComment = keepComments ? '' : null;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Char code at the cursor, -1 at the end. */
  peek(): number {
    return this.pos < this.end ? this.s.charCodeAt(this.pos) : -1;
  }

  /** Skips a (possibly nested) comment starting at "(". */
  skipComment(): number {
    const s = this.s;
    let level = 1;
    let text = '';
    let start = ++this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = s.charCodeAt(this.pos);
      if (c === Ch.LParen) level++;
      else if (c === Ch.RParen) {
        if (--level === 0) {
          if (this.lastComment !== null) this.lastComment = text + s.slice(start, this.pos);
          this.pos++;
          return this.pos < this.end ? 1 : 0;
        }
      } else if (c === Ch.Backslash) {
        text += s.slice(start, this.pos);
        start = this.pos + 1;
        this.pos++;
        if (this.pos >= this.end) return -1;
      }
    }
    return -1; // missing ")"
  }

  /** Skips whitespace, CR, LF and comments (CFWS). */
  skipLwsp(): number {
    while (this.pos < this.end) {
      const c = this.s.charCodeAt(this.pos);
      if (c === Ch.Space || c === Ch.Tab || c === Ch.Cr || c === Ch.Lf) {
        this.pos++;
        continue;
      }
      if (c !== Ch.LParen) break;
      if (this.skipComment() < 0) return -1;
    }
    return this.pos < this.end ? 1 : 0;
  }

  /** atom = 1*atext, then CFWS. */
  atom(out: string[]): number {
    if (!isAtext(this.peek())) return -1;
    const start = this.pos++;
    while (this.pos < this.end && isAtext(this.s.charCodeAt(this.pos))) this.pos++;
    out.push(this.s.slice(start, this.pos));
    return this.pos < this.end ? this.skipLwsp() : 0;
  }

  /** dot-atom, allowing CFWS around the dots as RFC 822 did. */
  dotAtom(out: string[]): number {
    if (!isAtext(this.peek())) return -1;
    let start = this.pos++;
    while (this.pos < this.end) {
      if (isAtext(this.s.charCodeAt(this.pos))) {
        this.pos++;
        continue;
      }
      out.push(this.s.slice(start, this.pos));
      const ret = this.skipLwsp();
      if (ret <= 0) return ret;
      if (this.peek() !== Ch.Dot) return 1;
      this.pos++;
      out.push('.');
      const ret2 = this.skipLwsp();
      if (ret2 <= 0) return ret2;
      start = this.pos;
    }
    out.push(this.s.slice(start, this.pos));
    return 0;
  }

  /** MIME token (RFC 2045 5.1), dots allowed; may be empty. */
  mimeToken(out: string[]): number {
    const start = this.pos;
    while (this.pos < this.end) {
      const c = this.s.charCodeAt(this.pos);
      if (isTokenChar(c) || c === Ch.Dot) this.pos++;
      else {
        out.push(this.s.slice(start, this.pos));
        return this.skipLwsp();
      }
    }
    out.push(this.s.slice(start, this.pos));
    return 0;
  }

  /** quoted-string: unescapes quoted-pairs and removes folding (CR)LF. */
  quotedString(out: string[]): number {
    const s = this.s;
    this.pos++;
    let start = this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = s.charCodeAt(this.pos);
      if (c === Ch.Quote) {
        out.push(s.slice(start, this.pos));
        this.pos++;
        return this.skipLwsp();
      } else if (c === Ch.Lf) {
        let len = this.pos - start;
        if (len > 0 && s.charCodeAt(start + len - 1) === Ch.Cr) len--;
        out.push(s.slice(start, start + len));
        start = this.pos + 1;
      } else if (c === Ch.Backslash) {
        this.pos++;
        if (this.pos >= this.end) return -1;
        out.push(s.slice(start, this.pos - 1));
        start = this.pos;
      }
    }
    return -1; // missing closing quote
  }

  /** Like an atom but dots allowed and without skipping inner whitespace. */
  private atomOrDot(out: string[]): number {
    const start = this.pos;
    while (this.pos < this.end) {
      const c = this.s.charCodeAt(this.pos);
      if (isAtext(c) || c === Ch.Dot) this.pos++;
      else {
        out.push(this.s.slice(start, this.pos));
        return this.skipLwsp();
      }
    }
    out.push(this.s.slice(start, this.pos));
    return 0;
  }

  /** phrase = 1*word / obs-phrase; words are joined with single spaces. */
  phrase(out: string[]): number {
    if (this.pos >= this.end) return 0;
    if (this.peek() === Ch.Dot) return -1;
    for (;;) {
      const ret = this.peek() === Ch.Quote ? this.quotedString(out) : this.atomOrDot(out);
      if (ret <= 0) return ret;
      const c = this.peek();
      if (!isAtext(c) && c !== Ch.Quote && c !== Ch.Dot) break;
      out.push(' ');
    }
    return this.skipLwsp();
  }

  private domainLiteral(out: string[]): number {
    const start = this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = this.s.charCodeAt(this.pos);
      if (c === Ch.Backslash) {
        this.pos++;
        if (this.pos >= this.end) break;
      } else if (c === Ch.RBracket) {
        this.pos++;
        out.push(this.s.slice(start, this.pos));
        return this.skipLwsp();
      }
    }
    return -1; // missing "]"
  }

  /** "@" domain, the cursor being on the "@". */
  domain(out: string[]): number {
    this.pos++;
    if (this.skipLwsp() <= 0) return -1;
    return this.peek() === Ch.LBracket ? this.domainLiteral(out) : this.dotAtom(out);
  }

  /** type "/" subtype (RFC 2045 5.1); `out` gets what could be read even when broken. */
  contentType(out: string[]): number {
    if (this.skipLwsp() <= 0) return -1;
    if (this.mimeToken(out) <= 0) return -1;
    if (this.peek() !== Ch.Slash) return -1;
    this.pos++;
    if (this.skipLwsp() <= 0) return -1;
    out.push('/');
    return this.mimeToken(out);
  }

  /** One `; attribute = value`; 0 at the end, -1 broken, 1 read (key/value set). */
  contentParam(result: { key: string; value: string }): number {
    result.key = '';
    result.value = '';
    if (this.pos >= this.end) return 0;
    if (this.peek() !== Ch.Semicolon) return -1;
    this.pos++;
    if (this.skipLwsp() <= 0) return -1;
    const key: string[] = [];
    if (this.mimeToken(key) <= 0) return -1;
    if (this.peek() !== Ch.Equals) return -1;
    this.pos++;
    const value: string[] = [];
    let ret = this.skipLwsp();
    if (ret <= 0) {
      // broken or no value: an empty value
    } else if (this.peek() === Ch.Quote) {
      ret = this.quotedString(value);
    } else if (this.peek() === Ch.Equals) {
      // broken senders write name==?utf-8?b?...?= unquoted: take it up to ";" or space
      const start = this.pos;
      while (this.pos < this.end) {
        const c = this.s.charCodeAt(this.pos);
        if (c === Ch.Semicolon || c === Ch.Space || c === Ch.Tab || c === Ch.Cr || c === Ch.Lf) break;
        this.pos++;
      }
      value.push(this.s.slice(start, this.pos));
    } else {
      ret = this.mimeToken(value);
    }
    result.key = key.join('');
    result.value = value.join('');
    return ret < 0 ? -1 : 1;
  }
}
