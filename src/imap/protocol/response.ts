/**
 * IMAP response writers (RFC 9051 7): tagged and untagged status lines with response
 * codes, continuation requests, flag lists, mailbox names and ESEARCH. Pure: returns
 * strings; the session writes them. A status text can never break the framing: CR, LF
 * and other controls become spaces, and an empty text gets a default (RFC 9051 9:
 * text = 1*TEXT-CHAR).
 */
import { formatString } from './imap-string.js';
import { encodeMailboxUtf7 } from './mailbox-name.js';
import { formatSeqSet } from './seq-set.js';

/** Tagged completion results (RFC 9051 7.1). */
export type TaggedStatus = 'OK' | 'NO' | 'BAD';
/** Untagged status responses (RFC 9051 7.1). */
export type UntaggedStatus = TaggedStatus | 'BYE' | 'PREAUTH';

/** A response code without brackets: a bare name (`TRYCREATE`) or one built by `codes`. */
export type ResponseCode = string;

/** Makes `text` safe as resp-text: one line, no CTL, not empty, not starting with "[" (it would read as a code). */
export function safeText(text: string, fallback = 'Completed'): string {
  // eslint-disable-next-line no-control-regex -- TEXT-CHAR excludes CR and LF (RFC 9051 9)
  let t = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  if (t === '') t = fallback;
  if (t.startsWith('[')) t = `(${t.slice(1)}`; // a leading "[" would be read as a response code
  return t;
}

function resp(prefix: string, status: string, text: string, code?: ResponseCode): string {
  // eslint-disable-next-line no-control-regex -- a code is one line and has no "]" of its own
  const c = code === undefined ? '' : `[${code.replace(/[\x00-\x1f\x7f\]]+/g, ' ').trim()}] `;
  return `${prefix} ${status} ${c}${safeText(text)}\r\n`;
}

/** `tag OK [code] text\r\n` */
export function tagged(tag: string, status: TaggedStatus, text: string, code?: ResponseCode): string {
  return resp(tag, status, text, code);
}

/** `* OK|NO|BAD|BYE|PREAUTH [code] text\r\n` */
export function untaggedStatus(status: UntaggedStatus, text: string, code?: ResponseCode): string {
  return resp('*', status, text, code);
}

/**
 * `* <data>\r\n` for data responses (`EXISTS`, `FLAGS`, `FETCH`...). `data` is built by
 * writers and may contain literals, so only a trailing line break is refused.
 */
export function untagged(data: string): string {
  return `* ${data.replace(/[\r\n]+$/, '')}\r\n`;
}

/** `+ text\r\n` (RFC 9051 7.5). */
export function continuation(text = 'Ready'): string {
  return `+ ${safeText(text, 'Ready')}\r\n`;
}

/** `(\Seen $Label)` */
export function formatFlagList(flags: readonly string[]): string {
  return `(${flags.join(' ')})`;
}

/** astring output: an atom when it is one (and not NIL), else a string. */
export function formatAstring(s: string, utf8 = false): string {
  // eslint-disable-next-line no-control-regex -- ASTRING-CHAR excludes CTL (RFC 9051 9)
  if (/^[^\x00-\x20\x7f-\uffff(){%*"\\]+$/.test(s) && s.toUpperCase() !== 'NIL') return s;
  return formatString(s, utf8);
}

/**
 * A mailbox name for LIST/STATUS/...: modified UTF-7 for rev1 clients, raw UTF-8 when
 * UTF-8 mode is on (RFC 6855 3), always quoted so `%`/`*` in names cannot mislead.
 */
export function formatMailbox(name: string, utf8 = false): string {
  return formatString(utf8 ? name : encodeMailboxUtf7(name), utf8);
}

/** Builders for response codes with arguments (RFC 9051 7.1, RFC 4315, RFC 7162, RFC 8474). */
export const codes = {
  /** `APPENDUID uidvalidity uid-set` (RFC 4315 3). */
  appendUid: (uidValidity: number, uids: readonly number[]): ResponseCode => `APPENDUID ${uidValidity} ${formatSeqSet(uids, { keepOrder: true })}`,
  /** `COPYUID uidvalidity source-set dest-set`, sets in corresponding order (RFC 4315 3). */
  copyUid: (uidValidity: number, from: readonly number[], to: readonly number[]): ResponseCode =>
    `COPYUID ${uidValidity} ${formatSeqSet(from, { keepOrder: true })} ${formatSeqSet(to, { keepOrder: true })}`,
  permanentFlags: (flags: readonly string[]): ResponseCode => `PERMANENTFLAGS ${formatFlagList(flags)}`,
  badCharset: (charsets: readonly string[]): ResponseCode => `BADCHARSET (${charsets.map((c) => formatAstring(c)).join(' ')})`,
  capability: (caps: readonly string[]): ResponseCode => `CAPABILITY ${caps.join(' ')}`,
  uidNext: (n: number): ResponseCode => `UIDNEXT ${n}`,
  uidValidity: (n: number): ResponseCode => `UIDVALIDITY ${n}`,
  unseen: (n: number): ResponseCode => `UNSEEN ${n}`,
  highestModSeq: (n: number): ResponseCode => `HIGHESTMODSEQ ${n}`,
  /** `MODIFIED set`: messages that failed UNCHANGEDSINCE (RFC 7162 3.1.3). */
  modified: (numbers: readonly number[]): ResponseCode => `MODIFIED ${formatSeqSet(numbers)}`,
  /** `MAILBOXID (id)` (RFC 8474 4.1). */
  mailboxId: (id: string): ResponseCode => `MAILBOXID (${id})`,
};

/** The ESEARCH result fields (RFC 4731 3.1, RFC 7162 3.1.5 MODSEQ). */
export interface EsearchResult {
  tag: string;
  /** RFC 7377 2.1: the mailbox searched (already formatted as a mailbox) and its UIDVALIDITY, for ESEARCH IN. */
  mailbox?: { name: string; uidValidity: number };
  uid: boolean;
  min?: number;
  max?: number;
  count?: number;
  all?: readonly number[];
  /** RFC 9394 3.1: the range as asked and the set it selects, already formatted (NIL when empty). */
  partial?: { range: string; set: string };
  modseq?: number;
}

/** `* ESEARCH (TAG "a1") UID MIN 2 MAX 9 COUNT 3 ALL 2,5:6\r\n`; empty results omit MIN/MAX/ALL (RFC 4731 3.1). */
export function esearch(r: EsearchResult): string {
  const where = r.mailbox ? ` MAILBOX ${r.mailbox.name} UIDVALIDITY ${r.mailbox.uidValidity}` : '';
  let out = `ESEARCH (TAG ${formatString(r.tag)}${where})`;
  if (r.uid) out += ' UID';
  if (r.min !== undefined) out += ` MIN ${r.min}`;
  if (r.max !== undefined) out += ` MAX ${r.max}`;
  if (r.count !== undefined) out += ` COUNT ${r.count}`;
  if (r.all !== undefined && r.all.length > 0) out += ` ALL ${formatSeqSet(r.all)}`;
  if (r.partial !== undefined) out += ` PARTIAL (${r.partial.range} ${r.partial.set})`;
  if (r.modseq !== undefined) out += ` MODSEQ ${r.modseq}`;
  return untagged(out);
}
