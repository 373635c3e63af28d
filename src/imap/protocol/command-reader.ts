/**
 * IMAP command framing (RFC 9051 2.2, 4.3): bytes in, complete commands out.
 *
 * A command is one or more lines joined by literals. The reader cuts the byte stream
 * into RawCommands (text segments with the literal payloads between them), without
 * interpreting the arguments: that is arg-reader.ts's job. It is pull-based: `push()`
 * stores bytes, `next()` returns one event at a time, so the session can answer a
 * synchronizing literal (send "+ Ready", or refuse it with `rejectLiteral()`) before
 * any later byte is looked at.
 *
 * Never imports: store, net, mail (pure codec).
 * Invariants:
 *  - Any chunking of the same bytes yields the same events (tested byte by byte).
 *  - Every limit violation yields one `error` event, and the reader resynchronises at
 *    the end of the offending command: it still skips the bytes of non-synchronizing
 *    literals the client is bound to send, so literal data is never read as commands.
 *  - A literal larger than `streamThreshold` goes to the sink from `onLiteral` when
 *    one is given, chunk by chunk as it arrives; the reader never holds it whole.
 */
import { ImapParseError } from './errors.js';

/** One literal of a command. */
export interface Literal {
  /** Octets announced in `{n}`. */
  size: number;
  /** literal8 `~{n}` (RFC 3516 4.2): may contain NUL. */
  binary: boolean;
  /** `{n+}` (RFC 7888): the client did not wait for a continuation. */
  nonSync: boolean;
  /** The payload, or null when it was streamed to `sink`. */
  data: Buffer | null;
  /** The sink returned by `onLiteral`, already ended, when the payload was streamed. */
  sink: LiteralSink | null;
  /** True when a NUL octet was seen (not allowed in a plain literal: RFC 9051 9 CHAR8). */
  containsNul: boolean;
}

/** A complete command: `segments[i]` is followed by `literals[i]`; the last segment ends the command. */
export interface RawCommand {
  /** Command text between literals, without CRLF and without the `{n}` markers. */
  segments: Buffer[];
  literals: Literal[];
  /** The tag, when the first segment starts with a syntactically valid one. */
  tag: string | undefined;
}

/** What `onLiteral` is told about a literal before its first byte is read. */
export interface LiteralInfo {
  tag: string | undefined;
  size: number;
  binary: boolean;
  nonSync: boolean;
  /** Zero-based index of this literal in the command. */
  index: number;
  /** The command text so far (before this literal), e.g. `A1 APPEND INBOX (\Seen) `. */
  prefix: string;
}

/**
 * Where a streamed literal goes; a node Writable fits. The reader calls `write` as bytes
 * arrive and `end` after the last one; backpressure is the session's to watch (it made the sink).
 */
export interface LiteralSink {
  write(chunk: Buffer): unknown;
  end(): unknown;
}

/** Limits and extension switches. All sizes in octets. */
export interface CommandReaderOptions {
  /** Command text per command, literals excluded (default 64 KiB; RFC 9051 4 suggests >= 8000). */
  maxLineLength?: number;
  /** Largest literal accepted (APPENDLIMIT, RFC 7889); larger ones get BAD [TOOBIG]. Default 64 MiB. */
  maxLiteralSize?: number;
  /** Most literals in one command (default 1000). */
  maxLiterals?: number;
  /** Which non-synchronizing literal extension is advertised (default 'plus'). */
  nonSyncLiterals?: 'plus' | 'minus' | 'none';
  /** Literals larger than this are offered to `onLiteral` (default 64 KiB). */
  streamThreshold?: number;
  /** Returns a sink for a large literal, or undefined to have it buffered. */
  onLiteral?: (info: LiteralInfo) => LiteralSink | undefined;
}

/** What `next()` yields. */
export type ReaderEvent =
  | { type: 'command'; command: RawCommand }
  /** A synchronizing literal was announced: send `+ ...` (or call rejectLiteral() and answer tagged). */
  | { type: 'continue'; tag: string | undefined; size: number; binary: boolean }
  | { type: 'error'; error: ImapParseError };

const LITERAL_PLUS_MINUS_MAX = 4096; // RFC 7888 3: LITERAL- allows {n+} only up to 4096
const MARKER = /(~?)\{([0-9]+)(\+?)\}$/;
// eslint-disable-next-line no-control-regex -- a tag excludes CTL (RFC 9051 9)
const TAG = /^([^\x00-\x20\x7f-\xff(){%*"\\+]+)(?: |$)/;

/**
 * Reads the tag at the start of a command line, if it is a valid one (RFC 9051 9 tag).
 * With `requireSp` the tag must be followed by SP within the first 256 bytes, so the answer
 * does not depend on how much of an over-long line has arrived.
 */
export function readTag(line: Buffer | string, requireSp = false): string | undefined {
  const s = typeof line === 'string' ? line.slice(0, 256) : line.subarray(0, 256).toString('latin1');
  const m = TAG.exec(s);
  if (!m || (requireSp && !m[0].endsWith(' '))) return undefined;
  return m[1];
}

/** Splits an IMAP byte stream into commands; see the file header for the contract. */
export class CommandReader {
  private readonly maxLine: number;
  private readonly maxLiteral: number;
  private readonly maxLiterals: number;
  private readonly nonSync: 'plus' | 'minus' | 'none';
  private readonly streamThreshold: number;
  private readonly onLiteral: CommandReaderOptions['onLiteral'];

  private chunks: Buffer[] = [];
  private buffered = 0;
  private events: ReaderEvent[] = [];

  // The command being framed.
  private segments: Buffer[] = [];
  private literals: Literal[] = [];
  private lineParts: Buffer[] = [];
  private lineLen = 0; // bytes of the current line
  private textLen = 0; // bytes of command text so far, all lines
  private tail = ''; // last bytes of an over-long line, to still see a literal marker
  private tag: string | undefined;
  private discarding = false;

  // The literal being read.
  private literal: Literal | null = null;
  private remaining = 0;
  private litParts: Buffer[] = [];
  private sinkChecked = false;
  private canReject = false;

  constructor(opts: CommandReaderOptions = {}) {
    this.maxLine = opts.maxLineLength ?? 64 * 1024;
    this.maxLiteral = opts.maxLiteralSize ?? 64 * 1024 * 1024;
    this.maxLiterals = opts.maxLiterals ?? 1000;
    this.nonSync = opts.nonSyncLiterals ?? 'plus';
    this.streamThreshold = opts.streamThreshold ?? 64 * 1024;
    this.onLiteral = opts.onLiteral;
  }

  /** Octets received but not yet framed (for pausing the socket). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Stores bytes; call next() to get the events they complete. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** push() then drain every event; convenient when no literal needs a decision. */
  feed(chunk: Buffer): ReaderEvent[] {
    this.push(chunk);
    const out: ReaderEvent[] = [];
    for (let e = this.next(); e; e = this.next()) out.push(e);
    return out;
  }

  /**
   * Refuses the synchronizing literal just announced by a `continue` event: the client
   * will not send it (it gets a tagged NO/BAD instead of `+`), so the command is dropped
   * and the next byte starts a new command. RFC 9051 7.5
   */
  rejectLiteral(): void {
    if (!this.canReject) throw new Error('rejectLiteral() is only valid right after a continue event');
    this.canReject = false;
    this.resetCommand();
  }

  /** The next event, or null when more bytes are needed. */
  next(): ReaderEvent | null {
    this.canReject = false;
    while (this.events.length === 0 && this.chunks.length > 0) {
      const chunk = this.chunks[0];
      if (this.literal) this.readLiteral(chunk);
      else this.readLine(chunk);
    }
    const e = this.events.shift() ?? null;
    if (e?.type === 'continue') this.canReject = true;
    return e;
  }

  private consume(n: number): void {
    const chunk = this.chunks[0];
    this.buffered -= n;
    if (n >= chunk.length) this.chunks.shift();
    else this.chunks[0] = chunk.subarray(n);
  }

  private readLine(chunk: Buffer): void {
    const lf = chunk.indexOf(0x0a);
    const part = lf < 0 ? chunk : chunk.subarray(0, lf);
    this.consume(lf < 0 ? chunk.length : lf + 1);
    this.addLineBytes(part);
    if (lf >= 0) this.endLine();
  }

  private addLineBytes(part: Buffer): void {
    if (part.length === 0) return;
    this.lineLen += part.length;
    this.textLen += part.length;
    if (!this.discarding) {
      this.lineParts.push(part);
      if (this.textLen > this.maxLine) {
        const first = this.segments.length ? this.segments[0] : Buffer.concat(this.lineParts);
        const tag = this.tag ?? readTag(first.subarray(0, Math.min(this.maxLine, 256)), true);
        this.fail(new ImapParseError(`Command line too long (limit ${this.maxLine} bytes)`, { tag, code: 'TOOBIG' }));
      }
      return;
    }
    this.lineParts = [];
    this.tail = (this.tail + part.subarray(-32).toString('latin1')).slice(-32);
  }

  private fail(error: ImapParseError): void {
    if (this.discarding) return;
    error.tag ??= this.tag;
    this.events.push({ type: 'error', error });
    this.discarding = true;
    this.tail = Buffer.concat(this.lineParts).subarray(-32).toString('latin1');
    this.lineParts = [];
  }

  private endLine(): void {
    let line = this.discarding ? Buffer.from(this.tail, 'latin1') : Buffer.concat(this.lineParts);
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    const firstLine = this.segments.length === 0;
    if (firstLine && !this.discarding) this.tag = readTag(line);
    const marker = MARKER.exec(line.subarray(-32).toString('latin1'));
    this.lineParts = [];
    this.tail = '';
    this.lineLen = 0;
    if (!marker) {
      if (!this.discarding && (!firstLine || line.length > 0)) {
        this.segments.push(line);
        this.events.push({ type: 'command', command: { segments: this.segments, literals: this.literals, tag: this.tag } });
      }
      this.resetCommand(); // a blank line between commands is ignored
      return;
    }
    const binary = marker[1] === '~';
    const nonSync = marker[3] === '+';
    const digits = marker[2];
    const size = digits.length > 15 ? Number.POSITIVE_INFINITY : Number(digits);
    this.checkLiteral(size, nonSync);
    if (this.discarding) {
      if (!nonSync || !Number.isSafeInteger(size)) {
        this.resetCommand(); // the client waits for "+" it will never get: the command is over
        return;
      }
      this.startLiteral(size, binary, nonSync);
      return;
    }
    this.segments.push(line.subarray(0, line.length - marker[0].length));
    this.startLiteral(size, binary, nonSync);
    if (!nonSync) this.events.push({ type: 'continue', tag: this.tag, size, binary });
  }

  private checkLiteral(size: number, nonSync: boolean): void {
    if (nonSync && this.nonSync === 'none') {
      this.fail(new ImapParseError('Non-synchronizing literals are not supported'));
    } else if (nonSync && this.nonSync === 'minus' && size > LITERAL_PLUS_MINUS_MAX) {
      // RFC 7888 4: LITERAL- servers reject {n+} over 4096 with BAD [TOOBIG]
      this.fail(new ImapParseError(`Non-synchronizing literal larger than ${LITERAL_PLUS_MINUS_MAX} bytes`, { code: 'TOOBIG' }));
    } else if (size > this.maxLiteral) {
      this.fail(new ImapParseError(`Literal too large (limit ${this.maxLiteral} bytes)`, { code: 'TOOBIG' }));
    } else if (this.literals.length >= this.maxLiterals) {
      this.fail(new ImapParseError(`Too many literals in one command (limit ${this.maxLiterals})`));
    }
  }

  private startLiteral(size: number, binary: boolean, nonSync: boolean): void {
    this.literal = { size, binary, nonSync, data: null, sink: null, containsNul: false };
    this.remaining = size;
    this.litParts = [];
    this.sinkChecked = false;
    if (size === 0) this.finishLiteral();
  }

  private readLiteral(chunk: Buffer): void {
    const lit = this.literal as Literal;
    const n = Math.min(this.remaining, chunk.length);
    const part = chunk.subarray(0, n);
    this.consume(n);
    this.remaining -= n;
    if (!this.discarding) {
      if (!this.sinkChecked) this.openSink(lit);
      if (!lit.containsNul && part.includes(0)) lit.containsNul = true;
      if (lit.sink) lit.sink.write(part);
      else this.litParts.push(part);
    }
    if (this.remaining === 0) this.finishLiteral();
  }

  private openSink(lit: Literal): void {
    this.sinkChecked = true;
    if (!this.onLiteral || lit.size <= this.streamThreshold) return;
    const prefix = Buffer.concat(this.segments).toString('utf8');
    lit.sink = this.onLiteral({ tag: this.tag, size: lit.size, binary: lit.binary, nonSync: lit.nonSync, index: this.literals.length, prefix }) ?? null;
  }

  private finishLiteral(): void {
    const lit = this.literal as Literal;
    this.literal = null;
    if (this.discarding) return;
    if (!this.sinkChecked) this.openSink(lit);
    if (lit.sink) lit.sink.end();
    else lit.data = Buffer.concat(this.litParts);
    this.litParts = [];
    this.literals.push(lit);
  }

  private resetCommand(): void {
    this.segments = [];
    this.literals = [];
    this.lineParts = [];
    this.lineLen = 0;
    this.textLen = 0;
    this.tail = '';
    this.tag = undefined;
    this.discarding = false;
    this.literal = null;
    this.remaining = 0;
    this.litParts = [];
  }
}
