/**
 * Sequence sets (RFC 9051 9 `sequence-set`, RFC 5182 `$`): parse, test membership,
 * expand against a mailbox size, and format number lists back into compact ranges
 * (COPYUID, APPENDUID, ESEARCH ALL). The same type serves message sequence numbers
 * and UIDs; the session knows which one it holds.
 */
import { ImapParseError } from './errors.js';

/** One end of a range: a number or `*` (the largest number in use). */
export type SeqBound = number | '*';

/** A range as written; `start` may be greater than `end` (`5:3` means `3:5`). RFC 9051 9 seq-range */
export interface SeqRange {
  start: SeqBound;
  end: SeqBound;
}

/** A parsed sequence set: a list of ranges, or `$`, the result saved by SEARCH RETURN (SAVE). */
export type SeqSet = { kind: 'ranges'; ranges: SeqRange[] } | { kind: 'saved' };

const MAX_NZ = 4294967295; // RFC 9051 9: nz-number is 32-bit

function parseBound(text: string, whole: string): SeqBound {
  if (text === '*') return '*';
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw new ImapParseError(`Invalid sequence set "${whole}"`);
  const n = Number(text);
  if (n > MAX_NZ) throw new ImapParseError(`Invalid sequence set "${whole}": number too large`);
  return n;
}

/**
 * Parses a sequence-set token such as `1,3:5,7:*` or `$`.
 * Throws ImapParseError naming the set, e.g. `Invalid sequence set "1:x"`.
 */
export function parseSeqSet(text: string): SeqSet {
  const shown = text.length > 60 ? `${text.slice(0, 60)}...` : text;
  if (text === '$') return { kind: 'saved' }; // RFC 5182 2.1: "$" stands alone
  if (text === '') throw new ImapParseError('Expected sequence set');
  const ranges: SeqRange[] = [];
  for (const item of text.split(',')) {
    const colon = item.indexOf(':');
    if (colon < 0) {
      const n = parseBound(item, shown);
      ranges.push({ start: n, end: n });
    } else {
      const start = parseBound(item.slice(0, colon), shown);
      const end = parseBound(item.slice(colon + 1), shown);
      ranges.push({ start, end });
    }
  }
  return { kind: 'ranges', ranges };
}

/**
 * The set as sorted, merged, inclusive `[low, high]` pairs, with `*` meaning `max`
 * (RFC 9051 9: `*` is the largest number in use; `n:*` with n > max still covers max).
 * `saved` is the SEARCHRES result that `$` stands for (empty when none was saved).
 */
export function seqSetRanges(set: SeqSet, max: number, saved: readonly number[] = []): [number, number][] {
  const pairs: [number, number][] = [];
  if (set.kind === 'saved') {
    for (const n of saved) pairs.push([n, n]);
  } else {
    for (const r of set.ranges) {
      const a = r.start === '*' ? max : r.start;
      const b = r.end === '*' ? max : r.end;
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      if (hi >= 1) pairs.push([Math.max(lo, 1), hi]);
    }
  }
  pairs.sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const p of pairs) {
    const last = merged[merged.length - 1];
    if (last && p[0] <= last[1] + 1) last[1] = Math.max(last[1], p[1]);
    else merged.push([p[0], p[1]]);
  }
  return merged;
}

/**
 * Every number of the set in 1..max, ascending, without duplicates. Numbers above
 * `max` are dropped (the session decides whether a too-large sequence number is BAD).
 */
export function expandSeqSet(set: SeqSet, max: number, saved: readonly number[] = []): number[] {
  const out: number[] = [];
  for (const [lo, hi] of seqSetRanges(set, max, saved)) {
    for (let n = lo; n <= Math.min(hi, max); n++) out.push(n);
  }
  return out;
}

/** True when `n` is in the set and in 1..max, `*` standing for `max` (agrees with expandSeqSet). */
export function seqSetHas(set: SeqSet, n: number, max: number, saved: readonly number[] = []): boolean {
  if (n < 1 || n > max) return false;
  if (set.kind === 'saved') return saved.includes(n);
  for (const r of set.ranges) {
    const a = r.start === '*' ? max : r.start;
    const b = r.end === '*' ? max : r.end;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

/** The largest explicit number in the set (not `*`), for "sequence number too large" checks. */
export function seqSetMaxNumber(set: SeqSet): number {
  if (set.kind === 'saved') return 0;
  let m = 0;
  for (const r of set.ranges) {
    if (r.start !== '*') m = Math.max(m, r.start);
    if (r.end !== '*') m = Math.max(m, r.end);
  }
  return m;
}

/**
 * Formats numbers as a compact sequence set: `[1,2,3,5]` → `1:3,5`.
 * By default the numbers are sorted and deduplicated. With `keepOrder` only runs of
 * consecutive ascending numbers are joined and the order is kept, as COPYUID needs
 * (RFC 4315 3: source and destination UID sets correspond in order).
 * Returns '' for an empty list (the caller decides what an empty set means).
 */
export function formatSeqSet(numbers: readonly number[], opts: { keepOrder?: boolean } = {}): string {
  const list = opts.keepOrder ? [...numbers] : [...new Set(numbers)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < list.length) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1) j++;
    parts.push(j === i ? String(list[i]) : `${list[i]}:${list[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
