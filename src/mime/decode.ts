/**
 * Content decoding: Content-Transfer-Encoding (RFC 2045 6), charsets (iconv-lite),
 * RFC 2047 encoded words (libmime) and a small HTML-to-text. Lenient and total:
 * bad input degrades to best-effort text, nothing throws.
 */
import iconv from 'iconv-lite';
import libmime from 'libmime';

const LF = 10;
const CR = 13;

/** Transfer encodings BINARY may decode (RFC 3516 4.2); anything else is UNKNOWN-CTE. */
export function isKnownEncoding(encoding: string): boolean {
  return ['7BIT', '8BIT', 'BINARY', 'BASE64', 'QUOTED-PRINTABLE'].includes(encoding.toUpperCase());
}

const B64 = new Int16Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => {
  B64[c.charCodeAt(0)] = i;
});

/** RFC 2045 6.8: characters outside the alphabet are ignored; decoding stops at "=" padding. */
export function decodeBase64(src: Buffer): Buffer {
  const out = Buffer.allocUnsafe(Math.floor((src.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x3d) break;
    const v = B64[c];
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * RFC 2045 6.7: soft breaks removed, trailing whitespace dropped. Bad escapes are kept as
 * written, or make the result null when `strict` (BINARY must refuse them, RFC 3516 4.3).
 */
export function decodeQuotedPrintable(src: Buffer, strict = false): Buffer | null {
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  let i = 0;
  while (i < src.length) {
    const lf = src.indexOf(LF, i);
    const lineEnd = lf < 0 ? src.length : lf;
    let contentEnd = lineEnd > i && src[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    while (contentEnd > i && (src[contentEnd - 1] === 0x20 || src[contentEnd - 1] === 0x09)) contentEnd--;
    let soft = false;
    for (let j = i; j < contentEnd; j++) {
      const c = src[j];
      if (c !== 0x3d) {
        out[n++] = c;
        continue;
      }
      if (j + 1 === contentEnd) {
        soft = true;
        break;
      }
      const h = hexVal(src[j + 1]);
      const l = j + 2 < contentEnd ? hexVal(src[j + 2]) : -1;
      if (h >= 0 && l >= 0) {
        out[n++] = (h << 4) | l;
        j += 2;
      } else if (strict) return null;
      else out[n++] = c;
    }
    if (lf >= 0 && !soft) {
      out[n++] = CR;
      out[n++] = LF;
    }
    i = lf < 0 ? src.length : lf + 1;
  }
  return out.subarray(0, n);
}

/**
 * Whether `src` is well-formed base64 (RFC 4648 4): alphabet and whitespace only, whole
 * 4-character groups, padding only at the very end.
 */
export function isStrictBase64(src: Buffer): boolean {
  let count = 0;
  let pad = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x20 || c === 0x09 || c === CR || c === LF) continue;
    if (c === 0x3d) {
      if (count % 4 < 2 || ++pad > 2) return false;
    } else if (B64[c] < 0 || pad > 0) return false;
    count++;
  }
  return count % 4 === 0;
}

/** Decodes a body by its transfer encoding; null for an encoding RFC 2045 does not define. */
export function decodeTransfer(body: Buffer, encoding: string): Buffer | null {
  switch (encoding.toUpperCase()) {
    case 'BASE64':
      return decodeBase64(body);
    case 'QUOTED-PRINTABLE':
      return decodeQuotedPrintable(body) as Buffer;
    case '7BIT':
    case '8BIT':
    case 'BINARY':
      return body;
    default:
      return null;
  }
}

function isValidUtf8(buf: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

/** Bytes in `charset` to text; unknown or missing charsets fall back to UTF-8, then Latin-1. */
export function bytesToText(buf: Buffer, charset: string | null): string {
  const cs = (charset ?? '').trim().toLowerCase();
  if (cs && cs !== 'us-ascii' && cs !== 'utf-8' && cs !== 'utf8' && iconv.encodingExists(cs)) {
    try {
      return iconv.decode(buf, cs);
    } catch {
      // fall through to the guess below
    }
  }
  return isValidUtf8(buf) ? buf.toString('utf8') : buf.toString('latin1');
}

/** A raw header value (latin1 string of the bytes) to text, RFC 2047 encoded words decoded. */
export function headerToText(raw: string): string {
  const text = bytesToText(Buffer.from(raw, 'latin1'), null);
  if (text.indexOf('=?') < 0) return text;
  try {
    return libmime.decodeWords(text);
  } catch {
    return text;
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** HTML to plain text for search and preview: scripts/styles dropped, tags removed, entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(br|p|div|tr|li|h[1-6])\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/[ \t\u00a0]+/g, ' ');
}
