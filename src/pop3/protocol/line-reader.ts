/**
 * POP3 command framing: bytes in, lines out. A line ends at LF (CRLF or a bare LF, as
 * lenient servers accept); the CR is dropped. A line longer than `maxLength` octets
 * (terminator included) is reported once as 'overlong' and the reader stops, since the
 * session closes then (RFC 2449 4: commands are at most 255 octets; we allow more for
 * SASL responses and passwords with spaces, but never unbounded).
 */
export type LineEvent = { kind: 'line'; line: Buffer } | { kind: 'overlong' };

export class LineReader {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private stopped = false;

  constructor(readonly maxLength: number) {}

  /** Feeds bytes; returns the complete lines (and at most one 'overlong', after which nothing more). */
  push(chunk: Buffer): LineEvent[] {
    const out: LineEvent[] = [];
    let start = 0;
    while (!this.stopped) {
      const lf = chunk.indexOf(0x0a, start);
      const end = lf < 0 ? chunk.length : lf + 1;
      // Without its LF yet, a piece of maxLength octets can no longer end in time.
      if (this.pendingLength + (end - start) > (lf < 0 ? this.maxLength - 1 : this.maxLength)) {
        this.stopped = true;
        this.pending = [];
        out.push({ kind: 'overlong' });
        break;
      }
      if (lf < 0) {
        if (start < chunk.length) {
          this.pending.push(chunk.subarray(start));
          this.pendingLength += chunk.length - start;
        }
        break;
      }
      let line = this.pending.length > 0 ? Buffer.concat([...this.pending, chunk.subarray(start, lf)]) : chunk.subarray(start, lf);
      this.pending = [];
      this.pendingLength = 0;
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      out.push({ kind: 'line', line: Buffer.from(line) });
      start = lf + 1;
    }
    return out;
  }

  /** Drops buffered bytes (after STLS: RFC 2595 4 says pipelined plaintext must not be used). */
  discard(): void {
    this.pending = [];
    this.pendingLength = 0;
  }
}
