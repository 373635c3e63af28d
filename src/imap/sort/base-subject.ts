/**
 * RFC 5256 2.1 base subject: what SORT SUBJECT and THREAD compare, so that "Re: [list] Fwd:
 * Plan (fwd)" and "plan" sort together. Pure; the input is the decoded subject.
 */

const TRAILER = /(?:[ \t]+|\(fwd\))$/i;
// subj-leader = (*subj-blob subj-refwd) / WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
const LEADER = /^(?:(?:\[[^[\]]*\][ \t]*)*(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:|[ \t]+)/i;
const BLOB = /^\[[^[\]]*\][ \t]*/;

/** The base subject of a decoded subject (case kept: the collation folds case). */
export function baseSubject(subject: string): string {
  return extractSubject(subject).base;
}

/**
 * The base subject, and whether extraction removed a reply/forward marker (`Re:`, `Fwd:`,
 * `(fwd)`, `[fwd: ...]`): THREAD=REFERENCES step 5 prefers the original to a reply.
 */
export function extractSubject(subject: string): { base: string; isReply: boolean } {
  let isReply = false;
  // step 1: folding whitespace to one space
  let s = subject.replace(/\r?\n/g, '').replace(/[ \t]+/g, ' ');
  for (;;) {
    // step 2: trailers, repeatedly
    for (let m = TRAILER.exec(s); m && s.length > 0; m = TRAILER.exec(s)) {
      if (m[0].startsWith('(')) isReply = true;
      s = s.slice(0, s.length - m[0].length);
    }
    // steps 3-5: leaders, and a leading blob when something is left after it
    for (let changed = true; changed; ) {
      changed = false;
      for (let m = LEADER.exec(s); m && m[0].length > 0; m = LEADER.exec(s)) {
        if (m[0].endsWith(':')) isReply = true;
        s = s.slice(m[0].length);
        changed = true;
      }
      const blob = BLOB.exec(s);
      if (blob && s.length > blob[0].length) {
        s = s.slice(blob[0].length);
        changed = true;
      }
    }
    // step 6: the "[fwd: ...]" wrapper
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === '[fwd:' && s.endsWith(']')) {
      s = s.slice(5, -1);
      isReply = true;
      continue;
    }
    return { base: s, isReply };
  }
}

/**
 * The collation key SORT compares: i;ascii-casemap (RFC 5256 3) for ASCII; beyond ASCII,
 * upper case then canonical decomposition, as Dovecot's titlecased decomposed form, so
 * "Émile" sorts beside "Emile" rather than after "Z" (test/fixtures/sort/dovecot.json).
 */
export function collationKey(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s.replace(/[a-z]+/g, (w) => w.toUpperCase());
  return s.toUpperCase().normalize('NFD');
}

/** Octet order of the UTF-8 forms (code point order, which differs from UTF-16 order above U+FFFF). */
export function compareOctets(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
