/**
 * RFC 4314 rights strings, both ways: a SETACL `mod-rights` argument to a change, and a
 * rights set to the string MYRIGHTS, GETACL and LISTRIGHTS answer. Pure: no store, no session.
 *
 * RFC 4314 2.1.1: the obsolete RFC 2086 rights are read as the rights that replaced them,
 * "c" (create) as "k" and "x", "d" (delete) as "t" and "e"; an answer includes "c" when both
 * "k" and "x" are held and "d" when both "t" and "e" are, so an RFC 2086 client sees what it
 * may do. Every other letter is a right this server knows (RIGHTS=texk: t, e, x, k apart).
 */
import { ImapParseError } from './errors.js';

/** The rights this server implements, in canonical order (store/types.ts ALL_RIGHTS). */
export const RIGHTS = 'lrswipkxtean';

export interface RightsChange {
  mode: 'set' | 'add' | 'remove';
  /** Canonical rights (obsolete ones replaced), possibly empty. */
  rights: string;
}

/** mod-rights = astring ; +rights / -rights / rights (RFC 4314 3.1); BAD for a letter that is no right. */
export function parseModRights(text: string): RightsChange {
  const mode = text.startsWith('+') ? 'add' : text.startsWith('-') ? 'remove' : 'set';
  const letters = mode === 'set' ? text : text.slice(1);
  const out = new Set<string>();
  for (const c of letters) {
    if (c === 'c') ['k', 'x'].forEach((r) => out.add(r));
    else if (c === 'd') ['t', 'e'].forEach((r) => out.add(r));
    else if (RIGHTS.includes(c)) out.add(c);
    else throw new ImapParseError(`Unknown right ${JSON.stringify(c.slice(0, 4))}; this server knows ${RIGHTS} and the obsolete c and d`); // RFC 4314 3.1: BAD
  }
  return { mode, rights: [...RIGHTS].filter((c) => out.has(c)).join('') };
}

/** A rights set as answered: canonical, plus "c" and "d" for RFC 2086 clients (RFC 4314 2.1.1). */
export function formatRights(rights: string): string {
  const has = (r: string) => [...r].every((c) => rights.includes(c));
  return [...RIGHTS].filter((c) => rights.includes(c)).join('') + (has('kx') ? 'c' : '') + (has('te') ? 'd' : '');
}
