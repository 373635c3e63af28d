/**
 * IMAP command framing (RFC 9051 2.2, 4.3): lines and literals in, complete commands out.
 *
 * A command is one or more lines joined by literals. The reader pulls a line from a
 * `LineSource` (the connection layer, src/net/connection.ts, fits it), and for each
 * literal marker at the end of a line (`{n}`, `{n+}` RFC 7888, `~{n}` RFC 3516) checks
 * the limits, asks the session to send the continuation for a synchronizing one, pulls
 * exactly n bytes, then the next line. It does not interpret arguments: that is
 * arg-reader.ts's job.
 *
 * Never imports: store, net, mail (a codec; the source arrives as a value).
 * Invariants:
 *  - Framing depends on the bytes only, never on how they were chunked (tested byte by
 *    byte and at every split, over a real connection, in src/imap/command-input.test.ts).
 *  - Every limit violation yields one `error` event, returned once the refused command
 *    is over: the reader still skips the bytes of non-synchronizing literals the client
 *    is bound to send, so literal data is never read as commands; a refused synchronizing
 *    literal gets no continuation, so the client sends none and the next line is a command.
 *  - A literal larger than `streamThreshold` goes to the sink from `openSink` when one
 *    is given, piece by piece, each write awaited before the next bytes are read; the
 *    sink is ended only after its last write was accepted. The reader never holds it whole.
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
  /** The sink returned by `openSink`, already ended, when the payload was streamed. */
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

/** What is known of a literal once its marker was read. */
export interface LiteralHeader {
  tag: string | undefined;
  size: number;
  binary: boolean;
  nonSync: boolean;
  /** Zero-based index of this literal in the command. */
  index: number;
}

/** What `openSink` is told about a literal before its first byte is read. */
export interface LiteralInfo extends LiteralHeader {
  /** The command text so far (before this literal), e.g. `A1 APPEND INBOX (\Seen) `. */
  prefix: string;
}

/**
 * Where a streamed literal goes. The reader awaits each `write` before it reads more
 * (that is the backpressure) and awaits `end` after the last write. Neither may throw:
 * a sink that fails keeps swallowing bytes and reports the failure its own way, so the
 * command stays framed.
 */
export interface LiteralSink {
  write(chunk: Buffer): Promise<void> | void;
  end(): Promise<void> | void;
}

/** The bytes of one connection: `src/net/connection.ts`'s Connection is one. */
export interface LineSource {
  /** The next line without CRLF, or tooLong with (when `keep` is given) its first and last `keep` bytes. */
  readLine(max: number, opts?: { keep?: number }): Promise<{ line: Buffer } | { tooLong: true; head?: Buffer; tail?: Buffer }>;
  /** Exactly `n` bytes, in pieces; the next piece waits for `consume`. */
  readExactly(n: number, consume: (chunk: Buffer) => Promise<void> | void): Promise<void>;
}

/** What the session decides while a command is framed. */
export interface CommandReaderHooks {
  /** A synchronizing literal passed every check: send the continuation request now (RFC 9051 7.5). */
  continuation(info: LiteralHeader): Promise<void> | void;
  /** A refusal beyond the built-in limits (e.g. big literals before login), or undefined. */
  checkLiteral?(info: LiteralHeader): ImapParseError | undefined;
  /**
   * A bound on the whole command, text and literals together, asked once per command
   * (before login it is small: nobody may make the server buffer megabytes unknown), or
   * undefined for none beyond the line and literal limits.
   */
  commandLimit?(): number | undefined;
  /** A sink for a literal larger than `streamThreshold`, or undefined to have it buffered. */
  openSink?(info: LiteralInfo): LiteralSink | undefined;
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
  /** Literals larger than this are offered to `openSink` (default 64 KiB). */
  streamThreshold?: number;
}

/** What `next()` yields: a command, or the error that refused one. */
export type ReaderEvent = { type: 'command'; command: RawCommand } | { type: 'error'; error: ImapParseError };

const LITERAL_PLUS_MINUS_MAX = 4096; // RFC 7888 3: LITERAL- allows {n+} only up to 4096
const MARKER = /(~?)\{([0-9]+)(\+?)\}$/;
/** Bytes kept of an over-long line: enough for a tag at its start and a marker at its end. */
const KEEP = 256;
const MARKER_TAIL = 32;
// eslint-disable-next-line no-control-regex -- a tag excludes CTL (RFC 9051 9)
const TAG = /^([^\x00-\x20\x7f-\xff(){%*"\\+]+)(?: |$)/;

/**
 * Reads the tag at the start of a command line, if it is a valid one (RFC 9051 9 tag).
 * With `requireSp` the tag must be followed by SP within the first 256 bytes, so the answer
 * does not depend on how much of an over-long line was kept.
 */
export function readTag(line: Buffer | string, requireSp = false): string | undefined {
  const s = typeof line === 'string' ? line.slice(0, 256) : line.subarray(0, 256).toString('latin1');
  const m = TAG.exec(s);
  if (!m || (requireSp && !m[0].endsWith(' '))) return undefined;
  return m[1];
}

interface Marker {
  text: string;
  size: number;
  binary: boolean;
  nonSync: boolean;
}

function marker(lineEnd: Buffer): Marker | undefined {
  const m = MARKER.exec(lineEnd.subarray(-MARKER_TAIL).toString('latin1'));
  if (!m) return undefined;
  const digits = m[2];
  return { text: m[0], size: digits.length > 15 ? Number.POSITIVE_INFINITY : Number(digits), binary: m[1] === '~', nonSync: m[3] === '+' };
}

function tooLargeCommand(limit: number, tag: string | undefined): ImapParseError {
  return new ImapParseError(`Command too large (limit ${limit} bytes, literals included)`, { tag, code: 'TOOBIG' });
}

/** Frames the commands of one connection; see the file header for the contract. */
export class CommandReader {
  private readonly maxLine: number;
  private readonly maxLiteral: number;
  private readonly maxLiterals: number;
  private readonly nonSync: 'plus' | 'minus' | 'none';
  private readonly streamThreshold: number;

  constructor(
    private readonly source: LineSource,
    private readonly hooks: CommandReaderHooks,
    opts: CommandReaderOptions = {},
  ) {
    this.maxLine = opts.maxLineLength ?? 64 * 1024;
    this.maxLiteral = opts.maxLiteralSize ?? 64 * 1024 * 1024;
    this.maxLiterals = opts.maxLiterals ?? 1000;
    this.nonSync = opts.nonSyncLiterals ?? 'plus';
    this.streamThreshold = opts.streamThreshold ?? 64 * 1024;
  }

  /** The next command, or the error that refused one; blank lines between commands are skipped. */
  async next(): Promise<ReaderEvent> {
    for (;;) {
      const ev = await this.readCommand();
      if (ev) return ev;
    }
  }

  private async readCommand(): Promise<ReaderEvent | null> {
    const segments: Buffer[] = [];
    const literals: Literal[] = [];
    let textLen = 0; // command text so far, counting a CR per line as the limit always did
    let literalLen = 0;
    let tag: string | undefined;
    const commandMax = this.hooks.commandLimit?.() ?? Number.POSITIVE_INFINITY;
    for (;;) {
      const lineMax = Math.min(this.maxLine - textLen, commandMax - textLen - literalLen);
      const r = await this.source.readLine(Math.max(0, lineMax), { keep: KEEP });
      if ('tooLong' in r) {
        const first = segments[0] ?? r.head ?? Buffer.alloc(0);
        tag ??= readTag(first.subarray(0, Math.min(this.maxLine, 256)), true);
        const error = commandMax - literalLen < this.maxLine ? tooLargeCommand(commandMax, tag) : new ImapParseError(`Command line too long (limit ${this.maxLine} bytes)`, { tag, code: 'TOOBIG' });
        return this.refuse(error, marker(r.tail ?? Buffer.alloc(0)));
      }
      const line = r.line;
      if (segments.length === 0) {
        if (line.length === 0) return null; // a blank line between commands is ignored
        tag = readTag(line);
      }
      textLen += line.length + 1;
      const m = marker(line);
      if (!m) {
        segments.push(line);
        return { type: 'command', command: { segments, literals, tag } };
      }
      segments.push(line.subarray(0, line.length - m.text.length));
      const header: LiteralHeader = { tag, size: m.size, binary: m.binary, nonSync: m.nonSync, index: literals.length };
      const over = textLen + literalLen + m.size > commandMax ? tooLargeCommand(commandMax, tag) : undefined;
      const error = this.check(m, literals.length) ?? this.hooks.checkLiteral?.(header) ?? over;
      if (error) {
        error.tag ??= tag;
        return this.refuse(error, m);
      }
      if (!m.nonSync) await this.hooks.continuation(header); // RFC 9051 7.5
      literals.push(await this.readLiteral(header, segments));
      literalLen += m.size;
    }
  }

  private check(m: Marker, count: number): ImapParseError | undefined {
    if (m.nonSync && this.nonSync === 'none') return new ImapParseError('Non-synchronizing literals are not supported');
    if (m.nonSync && this.nonSync === 'minus' && m.size > LITERAL_PLUS_MINUS_MAX) {
      // RFC 7888 4: LITERAL- servers reject {n+} over 4096 with BAD [TOOBIG]
      return new ImapParseError(`Non-synchronizing literal larger than ${LITERAL_PLUS_MINUS_MAX} bytes`, { code: 'TOOBIG' });
    }
    if (m.size > this.maxLiteral) return new ImapParseError(`Literal too large (limit ${this.maxLiteral} bytes)`, { code: 'TOOBIG' });
    if (count >= this.maxLiterals) return new ImapParseError(`Too many literals in one command (limit ${this.maxLiterals})`);
    return undefined;
  }

  /**
   * Skips the rest of a refused command, then returns its error. Only the ends of its
   * lines are looked at: a non-synchronizing literal is read and dropped, since the client
   * sends it anyway; a synchronizing one ends the command, since the client waits for a
   * "+" that never comes (RFC 9051 7.5), so its next line is a new command.
   */
  private async refuse(error: ImapParseError, m: Marker | undefined): Promise<ReaderEvent> {
    while (m && m.nonSync && Number.isSafeInteger(m.size)) {
      await this.source.readExactly(m.size, () => {});
      const r = await this.source.readLine(MARKER_TAIL, { keep: MARKER_TAIL });
      m = marker('tooLong' in r ? (r.tail ?? Buffer.alloc(0)) : r.line);
    }
    return { type: 'error', error };
  }

  private async readLiteral(header: LiteralHeader, segments: Buffer[]): Promise<Literal> {
    const lit: Literal = { size: header.size, binary: header.binary, nonSync: header.nonSync, data: null, sink: null, containsNul: false };
    const sink = header.size > this.streamThreshold ? this.hooks.openSink?.({ ...header, prefix: Buffer.concat(segments).toString('utf8') }) : undefined;
    const parts: Buffer[] = [];
    await this.source.readExactly(header.size, async (chunk) => {
      if (!lit.containsNul && chunk.includes(0)) lit.containsNul = true;
      if (sink) await sink.write(chunk);
      else parts.push(chunk);
    });
    if (sink) {
      await sink.end(); // only after the last write was accepted
      lit.sink = sink;
    } else lit.data = Buffer.concat(parts, header.size);
    return lit;
  }
}
