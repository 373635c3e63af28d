/**
 * Writing response bytes straight into a preallocated buffer, for answers with a line or a
 * number per message (FETCH FLAGS, SEARCH) where a string per message, joined and encoded,
 * was most of the time on a 100,000-message mailbox. The caller sizes the buffer.
 */

/** Writes the decimal digits of an integer in 0..2^32 at `pos`; returns the end. */
export function writeInt(out: Buffer, pos: number, n: number): number {
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  const end = pos + digits;
  for (let i = end - 1; i >= pos; i--) {
    const d = n % 10;
    out[i] = 0x30 + d;
    n = (n - d) / 10;
  }
  return end;
}

/** Copies byte by byte: for the few bytes of a flag list or a keyword, cheaper than Buffer.copy's call. */
export function copyBytes(out: Buffer, pos: number, b: Buffer): number {
  for (let j = 0; j < b.length; j++) out[pos++] = b[j];
  return pos;
}

/** Most bytes `writeInt` writes (4294967295). */
export const INT_BYTES = 10;
