/**
 * Header fields the server adds in front of a message: Return-Path and Received
 * (RFC 5321 4.4), and for submission the Message-ID and Date a client forgot
 * (RFC 6409 8.2, 8.3). Pure text building; the caller prepends the result.
 */
import { randomBytes } from 'node:crypto';

/** RFC 5322 3.3 date-time in UTC, e.g. `Sun, 22 Nov 2026 00:05:09 +0000`. */
export function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export interface ReceivedInfo {
  helo: string;
  remoteAddress: string;
  hostname: string;
  /** RFC 3848 / RFC 6531 4.3 protocol name: ESMTP, ESMTPS, ESMTPSA, UTF8SMTPS, LMTP… */
  protocol: string;
  id: string;
  /** Named only for a single recipient, so a Bcc list is not revealed. */
  recipients: string[];
  date: Date;
}

/** The `with` keyword for this session, RFC 3848 2 and RFC 6531 4.3. */
export function withProtocol(o: { lmtp: boolean; esmtp: boolean; tls: boolean; auth: boolean; utf8: boolean }): string {
  if (o.lmtp) return o.tls ? 'LMTPS' : 'LMTP';
  const base = o.utf8 ? 'UTF8SMTP' : o.esmtp ? 'ESMTP' : 'SMTP';
  if (base === 'SMTP') return 'SMTP';
  return base + (o.tls ? 'S' : '') + (o.auth ? 'A' : '');
}

/** `Received:` trace field, folded, ending in CRLF. RFC 5321 4.4 */
export function receivedField(r: ReceivedInfo): string {
  const helo = r.helo.replace(/[^\x21-\x7e]/g, '?').slice(0, 255);
  const ip = r.remoteAddress.includes(':') ? `IPv6:${r.remoteAddress}` : r.remoteAddress;
  const forClause = r.recipients.length === 1 ? `\r\n\tfor <${r.recipients[0]}>` : '';
  return `Received: from ${helo} ([${ip}])\r\n\tby ${r.hostname} (Mailroom) with ${r.protocol} id ${r.id}${forClause};\r\n\t${rfc5322Date(r.date)}\r\n`;
}

/** `Return-Path:` as the final delivery adds it, RFC 5321 4.4; `<>` for the null sender. */
export function returnPathField(sender: string): string {
  return `Return-Path: <${sender}>\r\n`;
}

/** Names of the top-level header fields in `head` (lower-case), up to the blank line. */
export function headerNames(head: Buffer): Set<string> {
  const text = head.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = end >= 0 ? text.slice(0, end) : text;
  const names = new Set<string>();
  for (const line of block.split(/\r?\n/)) {
    const m = /^([!-9;-~]+)[ \t]*:/.exec(line);
    if (m) names.add(m[1].toLowerCase());
  }
  return names;
}

/** Message-ID and Date for a submitted message that lacks them (RFC 6409 8.2, 8.3). */
export function submissionFields(head: Buffer, hostname: string, now: Date): string {
  const names = headerNames(head);
  let out = '';
  if (!names.has('message-id')) out += `Message-ID: <${now.getTime().toString(36)}.${randomBytes(9).toString('base64url')}@${hostname}>\r\n`;
  if (!names.has('date')) out += `Date: ${rfc5322Date(now)}\r\n`;
  return out;
}
