/**
 * Message bytes from DATA (dot-stuffed, ended by CRLF.CRLF) or from BDAT chunks
 * (raw), checked and normalised on the way. Pure: chunks in, decoded bytes out.
 *
 * The bare-LF rule (documented in the README): only <CRLF>.<CRLF> ends DATA
 * (so "\n.\n" can never end a message early: no SMTP smuggling); a bare LF inside
 * the message is accepted and stored as CRLF, as Postfix 3.9's default
 * "normalize" does, because IMAP clients expect CRLF. A bare CR is kept as is.
 * With BODY=BINARYMIME the bytes are stored untouched and no text rules apply.
 */

export interface DecoderOptions {
  /** 'dot': DATA with dot-stuffing and terminator; 'raw': BDAT chunks. */
  mode: 'dot' | 'raw';
  /** BODY=BINARYMIME: no LF normalisation, NULs and long lines allowed. */
  binary: boolean;
}

/** What was wrong with the text, reported once the message has ended. */
export interface DataProblems {
  /** Longest line in octets without its CRLF. */
  longestLine: number;
  nul: boolean;
  bareLf: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

type State = 'start' | 'mid' | 'cr' | 'dot' | 'dotcr';

/** One instance per message; `push` every chunk in order. */
export class DataDecoder {
  private state: State = 'start';
  private lineLength = 0;
  /** Output bytes so far. */
  size = 0;
  readonly problems: DataProblems = { longestLine: 0, nul: false, bareLf: false };

  constructor(private readonly opts: DecoderOptions) {}

  /**
   * Decodes one chunk. `end` is the index in `chunk` just past the terminating
   * CRLF.CRLF ('dot' mode), or -1 while the message goes on; bytes after it are
   * the next command and are not consumed.
   */
  push(chunk: Buffer): { out: Buffer; end: number } {
    const out = Buffer.allocUnsafe(chunk.length * 2 + 2);
    const { n, i } = this.opts.binary ? { n: 0, i: 0 } : this.lines(chunk, out);
    if (i === chunk.length) {
      this.size += n;
      return { out: out.subarray(0, n), end: -1 };
    }
    return this.bytes(chunk, i, out, n);
  }

  /**
   * The common case at native speed (a byte loop costs ~7 µs a KB): whole text lines ended
   * by CR LF are copied as they are, in one run, with one search per line for its end.
   * Stops where a byte needs the byte loop: a dot opening a line (stuffing or the
   * terminator), a CR that ends the chunk, or any state but the middle or start of a line.
   * Returns the bytes written to `out` and the index in `chunk` it stopped at.
   */
  private lines(chunk: Buffer, out: Buffer): { n: number; i: number } {
    const dotMode = this.opts.mode === 'dot';
    let n = 0;
    let i = 0;
    let run = 0; // start of the bytes not yet copied, all unchanged so far
    while (i < chunk.length && (this.state === 'start' || this.state === 'mid')) {
      if (this.state === 'start' && dotMode && chunk[i] === DOT) break;
      const lf = chunk.indexOf(LF, i);
      if (lf < 0) {
        const stop = chunk[chunk.length - 1] === CR ? chunk.length - 1 : chunk.length;
        if (stop > i) {
          this.lineLength += stop - i;
          this.state = 'mid';
        }
        i = stop;
        break;
      }
      if (lf > i && chunk[lf - 1] === CR) {
        this.lineLength += lf - 1 - i;
      } else {
        this.lineLength += lf - i;
        this.problems.bareLf = true; // stored as CR LF (see the header)
        n += chunk.copy(out, n, run, lf);
        out[n++] = CR;
        run = lf;
      }
      if (this.lineLength > this.problems.longestLine) this.problems.longestLine = this.lineLength;
      this.lineLength = 0;
      this.state = 'start';
      i = lf + 1;
    }
    n += chunk.copy(out, n, run, i);
    if (!this.problems.nul) {
      const nul = chunk.indexOf(0);
      if (nul >= 0 && nul < i) this.problems.nul = true;
    }
    return { n, i };
  }

  /** The byte loop, from `chunk[from]` on, after `n` bytes already in `out`. */
  private bytes(chunk: Buffer, from: number, out: Buffer, n: number): { out: Buffer; end: number } {
    const put = (b: number) => {
      out[n++] = b;
      this.lineLength++;
    };
    const newline = () => {
      out[n++] = CR;
      out[n++] = LF;
      if (this.lineLength > this.problems.longestLine) this.problems.longestLine = this.lineLength;
      this.lineLength = 0;
      this.state = 'start';
    };
    const dotMode = this.opts.mode === 'dot';
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i];
      switch (this.state) {
        case 'start':
          if (dotMode && b === DOT) {
            this.state = 'dot';
            continue;
          }
          break;
        case 'dot':
          if (b === CR) {
            this.state = 'dotcr';
            continue;
          }
          this.state = 'mid'; // RFC 5321 4.5.2: the leading dot is removed
          break;
        case 'dotcr':
          if (b === LF) return this.finish(out, n, i + 1);
          put(CR);
          this.state = 'mid';
          break;
        case 'cr':
          if (b === LF) {
            newline();
            continue;
          }
          put(CR); // bare CR: kept
          this.state = 'mid';
          break;
        case 'mid':
          break;
      }
      // Ordinary byte (state is start or mid here).
      if (b === CR && !this.opts.binary) {
        this.state = 'cr';
      } else if (b === LF && !this.opts.binary) {
        this.problems.bareLf = true;
        newline(); // bare LF stored as CRLF (see the header)
      } else {
        if (b === 0) this.problems.nul = true;
        put(b);
        this.state = 'mid';
      }
    }
    this.size += n;
    return { out: out.subarray(0, n), end: -1 };
  }

  /** Call after the last BDAT chunk: flushes a CR held back at the very end. */
  flush(): Buffer {
    if (this.state === 'cr') {
      this.state = 'mid';
      this.size += 1;
      return Buffer.from([CR]);
    }
    return Buffer.alloc(0);
  }

  private finish(out: Buffer, n: number, end: number): { out: Buffer; end: number } {
    this.size += n;
    this.state = 'start';
    return { out: out.subarray(0, n), end };
  }

  /** Whether the text breaks a rule that makes us refuse it (BINARYMIME: never). */
  refusal(): { code: number; enhanced: string; text: string } | null {
    if (this.opts.binary) return null;
    if (this.problems.nul) return { code: 554, enhanced: '5.6.0', text: 'Message contains NUL bytes; send it with BDAT and BODY=BINARYMIME' };
    // RFC 5321 4.5.3.1.6: a text line is at most 998 octets plus CRLF.
    if (this.problems.longestLine > 998) return { code: 554, enhanced: '5.6.0', text: 'Message has a line longer than 998 octets (RFC 5321 4.5.3.1.6)' };
    return null;
  }
}
