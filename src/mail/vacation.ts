/**
 * Vacation auto-reply (per user, `mailroom vacation set`), following RFC 3834:
 * - answer only personal mail: the user's address in To/Cc, not from a list (List-*,
 *   Precedence bulk/list/junk), not automatic (Auto-Submitted other than "no"), not from
 *   the null sender or a mailer-daemon/no-reply/-request/owner- address (3.1.1, 2);
 * - the reply goes to the envelope sender (Return-Path) with the null sender itself, carries
 *   `Auto-Submitted: auto-replied`, In-Reply-To/References and a "Auto:" subject (3.1.5, 5);
 * - the same sender at most once per `vacation.days` (2: "SHOULD NOT ... more than once").
 * The store remembers whom it answered (Store.claimVacationReply).
 *
 * Never imports: protocol code, the store's implementation.
 */
import { randomBytes } from 'node:crypto';
import { readHeaderBlock, unfold } from '../mime/header-block.js';
import { parseAddressList } from '../mime/address.js';
import { headerToText } from '../mime/decode.js';

export const VACATION_KEYS = { subject: 'vacation.subject', message: 'vacation.message', until: 'vacation.until', days: 'vacation.days' } as const;

export interface Vacation {
  subject: string | null;
  message: string;
  until: Date | null;
  /** Days before the same sender is answered again. */
  days: number;
}

export const DEFAULT_VACATION_DAYS = 7;

/** The user's vacation if it is on at `now` (set, and not past its end date). */
export function activeVacation(settings: Record<string, string>, now: Date): Vacation | null {
  const message = settings[VACATION_KEYS.message];
  if (!message) return null;
  const until = settings[VACATION_KEYS.until] ? new Date(settings[VACATION_KEYS.until]) : null;
  if (until && !Number.isNaN(until.getTime()) && now >= until) return null;
  const days = Number(settings[VACATION_KEYS.days] ?? DEFAULT_VACATION_DAYS);
  return { subject: settings[VACATION_KEYS.subject] || null, message, until, days: Number.isFinite(days) && days >= 1 ? days : DEFAULT_VACATION_DAYS };
}

const NOT_A_PERSON = /^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|listserv|majordomo|bounces?|owner-.+|.+-(request|owner|bounces?))$/i;

export interface Incoming {
  /** MAIL FROM ('' for the null sender). */
  envelopeSender: string;
  /** The message's header (the first bytes are enough). */
  head: Buffer;
  /** Addresses that count as the user's own: the account and the recipient address used. */
  ownAddresses: string[];
}

/** Why no reply is due, or null when one is (RFC 3834 2, 3.1.1). */
export function whyNoReply(m: Incoming): string | null {
  const sender = m.envelopeSender;
  if (!sender || !sender.includes('@')) return 'null or invalid envelope sender';
  if (NOT_A_PERSON.test(sender.slice(0, sender.lastIndexOf('@')))) return 'sender is a system address';
  const fields = readHeaderBlock(m.head, 0, null).fields.filter((f) => f.value !== null);
  const value = (name: string) => fields.filter((f) => f.name.toLowerCase() === name).map((f) => unfold(f.value!).trim());
  const auto = value('auto-submitted')[0];
  if (auto !== undefined && auto.split(';')[0].trim().toLowerCase() !== 'no') return 'message is automatic (Auto-Submitted)';
  if (fields.some((f) => /^list-(id|post|unsubscribe|help|subscribe|owner|archive)$/i.test(f.name))) return 'message is from a mailing list';
  if (value('precedence').some((p) => /^(bulk|list|junk)$/i.test(p))) return 'message is bulk (Precedence)';
  if (value('x-auto-response-suppress').some((v) => /\b(all|oof|autoreply)\b/i.test(v))) return 'sender asked for no automatic replies';
  const own = new Set(m.ownAddresses.map((a) => a.toLowerCase()));
  const listed = [...value('to'), ...value('cc')]
    .flatMap((v) => parseAddressList(v) ?? [])
    .some((a) => a.mailbox !== null && a.host !== null && own.has(`${a.mailbox}@${a.host}`.toLowerCase()));
  if (!listed) return 'the user is not in To or Cc';
  return null;
}

/** The reply's bytes (CRLF, UTF-8 body, RFC 2047 subject when needed). */
export function buildVacationReply(v: Vacation, o: { from: string; to: string; head: Buffer; hostname: string; now: Date }): Buffer {
  const fields = readHeaderBlock(o.head, 0, null).fields.filter((f) => f.value !== null);
  const value = (name: string) => fields.find((f) => f.name.toLowerCase() === name)?.value;
  const messageId = value('message-id') ? unfold(value('message-id')!).trim() : null;
  const references = value('references') ? unfold(value('references')!).trim() : null;
  const original = value('subject') ? headerToText(unfold(value('subject')!).trim()) : '';
  const subject = v.subject ?? `Auto: ${original || 'your message'}`;
  const lines = [
    `From: <${o.from}>`,
    `To: <${o.to}>`,
    `Subject: ${encodeWord(subject)}`,
    `Date: ${o.now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomBytes(12).toString('hex')}.vacation@${o.hostname}>`,
    ...(messageId ? [`In-Reply-To: ${messageId}`, `References: ${references ? `${references} ` : ''}${messageId}`] : []),
    'Auto-Submitted: auto-replied',
    'X-Auto-Response-Suppress: All',
    'Precedence: bulk',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    ...v.message.replace(/\r\n?/g, '\n').split('\n'),
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** RFC 2047 B-encoding for a subject that is not plain ASCII. */
function encodeWord(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  return `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}
