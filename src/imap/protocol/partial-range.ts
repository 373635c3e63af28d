// The PARTIAL search return option's range   RFC 9394 3.1 (partial-range-first / partial-range-last)
import type { ArgReader } from './arg-reader.js';

/** A window into a result: 1-based positions from the start, or from the end when `fromEnd`. */
export interface PartialRange {
  /** The range as the client wrote it; the ESEARCH PARTIAL item echoes it (RFC 9394 3.1). */
  text: string;
  fromEnd: boolean;
  /** Lower and upper position, both counted from the start or both from the end (1 = last). */
  low: number;
  high: number;
}

const MAX_NZ = 4294967295; // nz-number is a 32-bit number (RFC 9051 9)
const FROM_START = /^([1-9][0-9]{0,9}):([1-9][0-9]{0,9})$/;
const FROM_END = /^-([1-9][0-9]{0,9}):-([1-9][0-9]{0,9})$/;

/** Reads `PARTIAL`'s argument after the option name and its space: `n:m` or `-n:-m`, either way round. */
export function partialRange(r: ArgReader): PartialRange {
  const text = r.atom('PARTIAL range');
  const m = FROM_START.exec(text) ?? FROM_END.exec(text);
  if (!m) throw r.error(`Bad PARTIAL range ${text}: expected n:m or -n:-m`);
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (a > MAX_NZ || b > MAX_NZ) throw r.error(`PARTIAL range ${text} is out of range`);
  return { text, fromEnd: text.startsWith('-'), low: Math.min(a, b), high: Math.max(a, b) };
}

/** The part of `items` (in result order) that `range` selects; empty when it lies beyond the result. */
export function partialSlice<T>(items: readonly T[], range: PartialRange): T[] {
  if (!range.fromEnd) return items.slice(range.low - 1, range.high);
  const start = Math.max(0, items.length - range.high);
  const end = items.length - range.low + 1;
  return end <= 0 ? [] : items.slice(start, end);
}
