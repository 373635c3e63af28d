/**
 * The MIME index: everything IMAP FETCH/SEARCH and POP3 TOP need, computed once at
 * delivery/APPEND and stored as JSON beside the content. Plain data only (it is
 * serialised with JSON.stringify), so no Dates, Maps or Buffers in here.
 *
 * Offsets are byte offsets into the raw message exactly as received.
 */

/** An IMAP nstring: null is NIL. Strings are kept raw (undecoded, as in the header). */
export type NString = string | null;

/** RFC 9051 7.5.2 address: (name adl mailbox host); group syntax uses host = null. */
export interface Address {
  name: NString;
  adl: NString;
  mailbox: NString;
  host: NString;
}

export interface Envelope {
  date: NString;
  subject: NString;
  from: Address[] | null;
  sender: Address[] | null;
  replyTo: Address[] | null;
  to: Address[] | null;
  cc: Address[] | null;
  bcc: Address[] | null;
  inReplyTo: NString;
  messageId: NString;
}

/** [attribute, value] pairs in header order; values are decoded per RFC 2231 continuations joined. */
export type Params = [string, string][];

export interface MimePart {
  /** IMAP section number: "" for the top level of a message, "1", "1.2", ... */
  section: string;
  /** Offsets of this part's header (for `.MIME` / `HEADER`) and body. */
  headerStart: number;
  headerEnd: number; // == bodyStart
  bodyEnd: number;
  /** Lower-case media type and subtype, e.g. "text", "plain". */
  type: string;
  subtype: string;
  /**
   * Optional (added by the MIME indexer): the type, subtype and transfer encoding as
   * written in the header, present only when they differ from `type`, `subtype` and
   * `encoding.toLowerCase()`. IMAP servers (Dovecot) echo the sender's spelling in
   * BODYSTRUCTURE, so the serialiser needs it to answer byte for byte the same.
   */
  typeAsWritten?: string;
  subtypeAsWritten?: string;
  encodingAsWritten?: string;
  params: Params;
  id: NString;
  description: NString;
  /** Content-Transfer-Encoding as written, upper-cased; default "7BIT". */
  encoding: string;
  /** Body size in octets as IMAP counts them: bare LF line ends count as CRLF (RFC 9051 2.3.4). */
  size: number;
  /** Body line count, for text/* and message/rfc822 (null otherwise). */
  lines: number | null;
  md5: NString;
  disposition: { type: string; params: Params } | null;
  language: string[] | null;
  location: NString;
  /** multipart/*: the sub-parts (at least one; an empty multipart gets one empty text/plain as IMAP requires). */
  parts?: MimePart[];
  /** message/rfc822 (and message/global): the encapsulated message. */
  message?: { envelope: Envelope; body: MimePart };
}

export interface MessageIndex {
  /** Bumped when the index format changes, so old rows can be re-indexed. */
  version: number;
  size: number;
  envelope: Envelope;
  /** The top-level part: its headerStart is 0 and headerEnd is the end of the message header. */
  body: MimePart;
  /** RFC 8970 preview text (at most 256 characters, no NIL). */
  preview: string;
  /** Raw Message-IDs for threading: own, In-Reply-To, References (angle brackets kept). */
  threadKeys: string[];
  /** Header "Date:" parsed (ms since epoch) or null when missing/unparsable (SEARCH SENTON etc.). */
  sentDate: number | null;
  /** Byte ranges of leaf bodies large enough to be stored as separate blobs (attachment dedup). */
  largeBodies: { start: number; end: number }[];
}
