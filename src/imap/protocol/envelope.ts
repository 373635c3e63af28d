/**
 * ENVELOPE (RFC 9051 7.5.2) from the stored MIME index. Pure. Strings are raw header
 * bytes as latin1 strings; the result is latin1 too (write it with 'latin1').
 * Matches Dovecot's imap-envelope.c: subject and display names are cleaned for
 * humans, everything else is sent as written.
 */
import type { Address, Envelope } from '../../mime/types.js';
import { formatHumanString, formatNString } from './imap-string.js';

function formatAddress(a: Address): string {
  const name = a.name === null ? 'NIL' : formatHumanString(a.name);
  return `(${name} ${formatNString(a.adl)} ${formatNString(a.mailbox)} ${formatNString(a.host)})`;
}

/** An address list: NIL, or a parenthesised list with group start/end markers kept. */
export function formatAddressList(list: Address[] | null): string {
  if (list === null || list.length === 0) return 'NIL';
  return `(${list.map(formatAddress).join('')})`;
}

/** The parenthesised ENVELOPE value; Sender and Reply-To fall back to From (RFC 9051 7.5.2). */
export function formatEnvelope(env: Envelope): string {
  return [
    formatNString(env.date),
    env.subject === null ? 'NIL' : formatHumanString(env.subject),
    formatAddressList(env.from),
    formatAddressList(env.sender ?? env.from),
    formatAddressList(env.replyTo ?? env.from),
    formatAddressList(env.to),
    formatAddressList(env.cc),
    formatAddressList(env.bcc),
    formatNString(env.inReplyTo),
    formatNString(env.messageId),
  ].join(' ').replace(/^/, '(') + ')';
}
