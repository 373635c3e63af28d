/**
 * The one error type of the IMAP codec. Every parser in src/imap/protocol/ throws
 * only this (never a TypeError or RangeError from bad input), so the session maps
 * it in one place: `response` says which tagged status to send, `text` is safe to
 * send as-is (one line, no CR/LF), `code` is the optional response code.
 */

/** A syntax (BAD) or semantic (NO) rejection of client input, with a text safe for the wire. */
export class ImapParseError extends Error {
  /** The command tag when it could be read, so the session can answer tagged. */
  tag: string | undefined;
  /** BAD for syntax and limits; NO when the syntax is fine but a value is refused (e.g. BADCHARSET). */
  readonly response: 'BAD' | 'NO';
  /** Response code without brackets, e.g. `TOOBIG` or `BADCHARSET (UTF-8 US-ASCII)`. */
  readonly code: string | undefined;

  constructor(text: string, opts: { tag?: string; response?: 'BAD' | 'NO'; code?: string } = {}) {
    super(text.replace(/[\r\n]+/g, ' '));
    this.name = 'ImapParseError';
    this.tag = opts.tag;
    this.response = opts.response ?? 'BAD';
    this.code = opts.code;
  }

  /** The text for the tagged (or untagged BAD) response. */
  get text(): string {
    return this.message;
  }
}
