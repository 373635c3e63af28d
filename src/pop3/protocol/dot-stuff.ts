/**
 * The multi-line body encoder for RETR and TOP (RFC 1939 3): bare LF becomes CRLF,
 * a line starting with "." gets one more ".", and the end is CRLF "." CRLF (with a
 * CRLF first when the message does not end with one). Stateful across chunks; pure.
 *
 * Bare CR is left alone, so the octets sent before stuffing equal the MIME index's
 * size (which counts only bare LF as two octets).
 */
const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

export class DotStuffer {
  private atLineStart = true;
  private prevCr = false;
  private linesLeft: number | null;
  /** Set when the line limit was reached: the caller stops reading. */
  done = false;

  /** `bodyLines`: stop after this many lines (TOP); null for the whole input. */
  constructor(bodyLines: number | null = null) {
    this.linesLeft = bodyLines;
    if (bodyLines === 0) this.done = true;
  }

  /** From now on, stop after n more lines (TOP: set after the header). */
  limitLines(n: number): void {
    this.linesLeft = n;
    if (n === 0) this.done = true;
  }

  /** Encodes one chunk; after `done` turns true the rest of the chunk is ignored. */
  encode(chunk: Buffer): Buffer {
    if (this.done) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(chunk.length * 2 + 2);
    let o = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.atLineStart && b === DOT) out[o++] = DOT; // RFC 1939 3: byte-stuff the termination octet
      if (b === LF && !this.prevCr) out[o++] = CR; // RFC 1939 3: lines end in CRLF
      out[o++] = b;
      this.prevCr = b === CR;
      this.atLineStart = b === LF;
      if (b === LF && this.linesLeft !== null && --this.linesLeft === 0) {
        this.done = true;
        break;
      }
    }
    return out.subarray(0, o);
  }

  /** The end of the multi-line response. */
  finish(): Buffer {
    return Buffer.from(this.atLineStart ? '.\r\n' : '\r\n.\r\n');
  }
}

/** Encodes a whole buffer at once (tests, small bodies). */
export function dotStuff(bytes: Buffer, bodyLines: number | null = null): Buffer {
  const s = new DotStuffer(bodyLines);
  return Buffer.concat([s.encode(bytes), s.finish()]);
}
