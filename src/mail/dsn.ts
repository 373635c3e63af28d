/**
 * Delivery Status Notifications (RFC 3464): a multipart/report with a human part, a
 * message/delivery-status part and the original message (whole, or its header when
 * RET=HDRS). Pure: the caller supplies the original's bytes and sends the result with
 * the null sender (RFC 5321 4.5.5), so a DSN can never cause another one.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

export interface DsnRecipient {
  address: string;
  /** RFC 3461 ORCPT as given (`rfc822;addr`). */
  orcpt?: string;
  action: DsnAction;
  /** Enhanced status code, e.g. `5.1.1` (RFC 3463). */
  status: string;
  remoteMta?: string | null;
  /** The remote reply or our own reason, e.g. `550 5.1.1 no such user`. */
  diagnostic?: string | null;
  lastAttempt?: Date | null;
  /** For `delayed`: when we give up. */
  willRetryUntil?: Date | null;
}

export interface DsnInput {
  /** This server's host name (Reporting-MTA, and the From address of the report). */
  reportingMta: string;
  /** The original envelope sender: the report goes to this address. */
  to: string;
  envid?: string;
  arrivalDate: Date;
  recipients: DsnRecipient[];
  /** The original message (streamed, never held whole), or just its header block when `headersOnly`. */
  original: Readable;
  headersOnly: boolean;
  now?: Date;
  /** Message-ID without brackets; a stable one lets a repeated DSN (after a crash) be recognised as the same report. */
  messageId?: string;
}

/** The header block of a message (up to and including the blank line), or all of it when it has no body. */
export function headerBlock(raw: Buffer): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  if (end >= 0) return raw.subarray(0, end + 4);
  const lf = raw.indexOf('\n\n');
  return lf >= 0 ? raw.subarray(0, lf + 2) : raw;
}

/** RFC 5322 date-time, e.g. `Mon, 01 Jan 2030 00:00:00 +0000`. */
export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

// RFC 3464 2.1.2: a field value is text without CR/LF; keep diagnostics on one line.
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').slice(0, 900);

/** The message/delivery-status body: one per-message block, then one block per recipient. */
export function deliveryStatus(input: DsnInput): string {
  const lines = [`Reporting-MTA: dns; ${input.reportingMta}`]; // RFC 3464 2.2.2
  if (input.envid) lines.push(`Original-Envelope-Id: ${oneLine(input.envid)}`);
  lines.push(`Arrival-Date: ${rfc5322Date(input.arrivalDate)}`);
  for (const r of input.recipients) {
    lines.push('');
    if (r.orcpt) lines.push(`Original-Recipient: ${oneLine(r.orcpt)}`);
    lines.push(`Final-Recipient: rfc822; ${r.address}`); // RFC 3464 2.3.2: required
    lines.push(`Action: ${r.action}`); // RFC 3464 2.3.3: required
    lines.push(`Status: ${r.status}`); // RFC 3464 2.3.4: required
    if (r.remoteMta) lines.push(`Remote-MTA: dns; ${oneLine(r.remoteMta)}`);
    if (r.diagnostic) lines.push(`Diagnostic-Code: smtp; ${oneLine(r.diagnostic)}`);
    if (r.lastAttempt) lines.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttempt)}`);
    if (r.willRetryUntil) lines.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
  }
  return lines.join('\r\n') + '\r\n';
}

function humanText(input: DsnInput): { subject: string; text: string } {
  const failed = input.recipients.filter((r) => r.action === 'failed');
  const delayed = input.recipients.filter((r) => r.action === 'delayed');
  const list = (rs: DsnRecipient[]) => rs.map((r) => `  <${r.address}>: ${oneLine(r.diagnostic ?? r.status)}`).join('\r\n');
  const parts: string[] = [`This is the mail system at ${input.reportingMta}.`, ''];
  if (failed.length) parts.push('Your message could not be delivered to these recipients:', '', list(failed), '');
  if (delayed.length) {
    const until = delayed[0].willRetryUntil;
    parts.push('Delivery to these recipients is delayed; the server keeps trying' + (until ? ` until ${rfc5322Date(until)}` : '') + ':', '', list(delayed), '');
    parts.push('You do not need to send the message again.', '');
  }
  const rest = input.recipients.filter((r) => r.action !== 'failed' && r.action !== 'delayed');
  if (rest.length) parts.push('Delivery status of these recipients:', '', rest.map((r) => `  <${r.address}>: ${r.action}`).join('\r\n'), '');
  const subject = failed.length
    ? 'Undelivered Mail Returned to Sender'
    : delayed.length
      ? 'Delayed Mail (still being retried)'
      : 'Successful Mail Delivery Report';
  return { subject, text: parts.join('\r\n') };
}

/** Builds the whole DSN message. Streams the original; never reads it into memory. */
export function buildDsn(input: DsnInput): Readable {
  const now = input.now ?? new Date();
  const boundary = `=_dsn_${randomBytes(12).toString('hex')}`;
  const { subject, text } = humanText(input);
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${input.to}>`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${input.messageId ?? `dsn.${randomBytes(10).toString('hex')}@${input.reportingMta}`}>`,
    'Auto-Submitted: auto-replied', // RFC 3834 5: automatic replies say so
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`, // RFC 3464 2, RFC 6522
    '',
    'This is a MIME-formatted delivery status notification.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Description: Notification',
    '',
    text,
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    'Content-Description: Delivery report',
    '',
    deliveryStatus(input),
    `--${boundary}`,
    // RFC 3462/6522: the returned content is the message, or its header with RET=HDRS.
    `Content-Type: ${input.headersOnly ? 'text/rfc822-headers' : 'message/rfc822'}`,
    'Content-Description: ' + (input.headersOnly ? 'Header of the original message' : 'Original message'),
    '',
    '',
  ].join('\r\n');
  const original = input.original;
  return Readable.from(
    (async function* () {
      yield Buffer.from(head);
      let last = 0x0a;
      for await (const chunk of original) {
        const b = chunk as Buffer;
        if (b.length) last = b[b.length - 1];
        yield b;
      }
      yield Buffer.from(`${last === 0x0a ? '' : '\r\n'}\r\n--${boundary}--\r\n`);
    })(),
    { objectMode: false },
  );
}
