/**
 * The multi-line body encoder for RETR and TOP (RFC 1939 3): bare LF becomes CRLF,
 * a line starting with "." gets one more ".", and the end is CRLF "." CRLF (with a
 * CRLF first when the message does not end with one). Stateful across chunks; pure.
 *
 * Bare CR is left alone, so the octets sent before stuffing equal the MIME index's
 * size (which counts only bare LF as two octets).
 *
 * When the caller knows the input has no bare LF (the index's size equals the raw size),
 * `crlfOnly` skips the per-line walk: only "\n." needs a byte inserted, and one native
 * search per occurrence finds it (a base64 attachment has a line every 78 bytes and
 * almost never a leading dot).
 */
const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const EMPTY = Buffer.alloc(0);
const LF_DOT = Buffer.from('\n.');
const CR_BUF = Buffer.from([CR]);
const DOT_BUF = Buffer.from([DOT]);

export class DotStuffer {
  private atLineStart = true;
  private prevCr = false;
  private linesLeft: number | null;
  /** Set when the line limit was reached: the caller stops reading. */
  done = false;

  /**
   * `bodyLines`: stop after this many lines (TOP); null for the whole input.
   * `crlfOnly`: the input has no LF without a CR before it (a wrong claim would send bare LFs).
   */
  constructor(bodyLines: number | null = null, private readonly crlfOnly = false) {
    this.linesLeft = bodyLines;
    if (bodyLines === 0) this.done = true;
  }

  /** From now on, stop after n more lines (TOP: set after the header). */
  limitLines(n: number): void {
    this.linesLeft = n;
    if (n === 0) this.done = true;
  }

  /**
   * Encodes one chunk; after `done` turns true the rest of the chunk is ignored.
   * Jumps from LF to LF with indexOf (native) instead of visiting every byte, and
   * returns the chunk itself when nothing needs inserting (CRLF mail without
   * leading dots: the common case), so a RETR mostly copies nothing.
   */
  encode(chunk: Buffer): Buffer {
    if (this.done) return EMPTY;
    const end = this.limitEnd(chunk);
    if (end === 0) return EMPTY;
    const parts: Buffer[] = [];
    let from = 0;
    if (this.atLineStart && chunk[0] === DOT) parts.push(DOT_BUF); // RFC 1939 3: byte-stuff the termination octet
    if (this.crlfOnly) return this.stuffDots(chunk, end, parts);
    for (let lf = chunk.indexOf(LF); lf !== -1 && lf < end; lf = chunk.indexOf(LF, lf + 1)) {
      const crBefore = lf > 0 ? chunk[lf - 1] === CR : this.prevCr;
      if (!crBefore) {
        parts.push(chunk.subarray(from, lf), CR_BUF); // RFC 1939 3: lines end in CRLF
        from = lf;
      }
      if (lf + 1 < end && chunk[lf + 1] === DOT) {
        parts.push(chunk.subarray(from, lf + 1), DOT_BUF); // RFC 1939 3: byte-stuff the termination octet
        from = lf + 1;
      }
    }
    return this.rest(chunk, from, end, parts);
  }

  /** encode() for input without bare LF: a "." after an LF is the only byte to insert. */
  private stuffDots(chunk: Buffer, end: number, parts: Buffer[]): Buffer {
    let from = 0;
    for (let lf = chunk.indexOf(LF_DOT); lf !== -1 && lf + 1 < end; lf = chunk.indexOf(LF_DOT, lf + 2)) {
      parts.push(chunk.subarray(from, lf + 1), DOT_BUF); // RFC 1939 3: byte-stuff the termination octet
      from = lf + 1;
    }
    return this.rest(chunk, from, end, parts);
  }

  /** Remembers where the chunk ended (CR, line start) and joins what is left of it after `parts`. */
  private rest(chunk: Buffer, from: number, end: number, parts: Buffer[]): Buffer {
    this.prevCr = chunk[end - 1] === CR;
    this.atLineStart = chunk[end - 1] === LF;
    if (parts.length === 0) return end === chunk.length ? chunk : chunk.subarray(0, end);
    parts.push(chunk.subarray(from, end));
    return Buffer.concat(parts);
  }

  /** How much of the chunk the line limit lets through; sets `done` when the limit is reached in it. */
  private limitEnd(chunk: Buffer): number {
    if (this.linesLeft === null) return chunk.length;
    let pos = 0;
    while (this.linesLeft > 0) {
      const lf = chunk.indexOf(LF, pos);
      if (lf === -1) return chunk.length;
      pos = lf + 1;
      this.linesLeft--;
    }
    this.done = true;
    return pos;
  }

  /** The end of the multi-line response. */
  finish(): Buffer {
    return Buffer.from(this.atLineStart ? '.\r\n' : '\r\n.\r\n');
  }
}

/** Encodes a whole buffer at once (tests, small bodies). */
export function dotStuff(bytes: Buffer, bodyLines: number | null = null, crlfOnly = false): Buffer {
  const s = new DotStuffer(bodyLines, crlfOnly);
  return Buffer.concat([s.encode(bytes), s.finish()]);
}
