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
    let n = 0;
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
    for (let i = 0; i < chunk.length; i++) {
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
