/**
 * MIME parameters with RFC 2231 continuations (`name*0=`, `name*1*=`) joined.
 * Like Dovecot, the charset'language' prefix and %XX escapes are kept as written
 * (IMAP BODYSTRUCTURE shows `"filename*" "utf-8''..."`); decode with
 * {@link decodeRfc2231Value} when text is wanted.
 */
import type { Params } from './types.js';
import { Rfc822Reader } from './rfc822-tokens.js';

interface Piece {
  key: string;
  value: string;
  idx: number;
  extended: boolean;
}

/** Reads `; a=b; c*0=d ...` from the reader; never throws, skips garbage bytes. */
export function parseParams(r: Rfc822Reader): Params {
  const result: Params = [];
  const pieces: Piece[] = [];
  const kv = { key: '', value: '' };
  for (;;) {
    const ret = r.contentParam(kv);
    if (ret === 0) break;
    if (ret < 0) {
      // try to continue anyway, one byte further
      if (r.atEnd) break;
      r.pos++;
      continue;
    }
    const piece = splitContinuationKey(kv.key, kv.value);
    if (piece) pieces.push(piece);
    else result.push([kv.key, kv.value]);
  }
  if (pieces.length > 0) mergePieces(pieces, result);
  return result;
}

/** `name*3*` → {key: name, idx: 3, extended: true}; null when not RFC 2231 syntax. */
function splitContinuationKey(key: string, value: string): Piece | null {
  const star = key.indexOf('*');
  if (star < 0) return null;
  let p = star;
  let idx = 0;
  if (star + 1 < key.length) {
    p++;
    while (p < key.length && key.charCodeAt(p) >= 48 && key.charCodeAt(p) <= 57) {
      idx = idx * 10 + key.charCodeAt(p) - 48;
      p++;
    }
  }
  let extended = false;
  if (key[p] === '*') {
    extended = true;
    p++;
  }
  if (p !== key.length) return null;
  return { key: key.slice(0, star), value, idx, extended };
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** RFC 2231 3: sort by name then index; a gap in the indexes means "not RFC 2231", kept raw. */
function mergePieces(pieces: Piece[], out: Params): void {
  pieces.sort((a, b) => byteCompare(a.key, b.key) || a.idx - b.idx);
  for (let i = 0; i < pieces.length; ) {
    let j = i;
    let ok = true;
    let haveExtended = false;
    const name = pieces[i].key.toLowerCase();
    for (let next = 0; j < pieces.length && pieces[j].key.toLowerCase() === name; j++, next++) {
      if (pieces[j].idx !== next) ok = false;
      if (pieces[j].extended) haveExtended = true;
    }
    if (!ok) {
      for (let k = i; k < j; k++) {
        const p = pieces[k];
        out.push([`${p.key}*${p.idx}${p.extended ? '*' : ''}`, p.value]);
      }
    } else {
      // unencoded pieces mixed with encoded ones are %-escaped so the whole value decodes as one
      let value = !pieces[i].extended && haveExtended ? "''" : '';
      for (let k = i; k < j; k++) {
        const p = pieces[k];
        value += !p.extended && haveExtended ? p.value.replace(/%/g, '%25') : p.value;
      }
      out.push([haveExtended ? `${pieces[i].key}*` : pieces[i].key, value]);
    }
    i = j;
  }
}

/**
 * Decodes an RFC 2231 extended value `charset'lang'%XX...` to text; `toText`
 * converts the bytes (latin1 string) from the charset. Returns null when malformed.
 */
export function decodeRfc2231Value(value: string, toText: (bytes: string, charset: string) => string): string | null {
  const m = /^([^']*)'[^']*'(.*)$/s.exec(value);
  if (!m) return null;
  const bytes = m[2].replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return toText(bytes, m[1] || 'us-ascii');
}

/** Finds a parameter by name, case-insensitively (RFC 2045 5.1). */
export function getParam(params: Params, name: string): string | null {
  const lower = name.toLowerCase();
  for (const [k, v] of params) if (k.toLowerCase() === lower) return v;
  return null;
}
