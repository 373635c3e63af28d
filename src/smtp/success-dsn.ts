/**
 * "Delivered" DSNs (RFC 3461 5.2.3, RFC 3464) for local recipients that asked for
 * NOTIFY=SUCCESS: built with src/mail/dsn.ts, sent with the null sender (RFC 5321
 * 4.5.5) into the sender's INBOX when the sender is local, else through the queue.
 * Without RET=FULL only the header comes back (RFC 3461 4.3 leaves it to us; a
 * success report need not carry the whole message again).
 */
import { Readable } from 'node:stream';
import type { SmtpSession, AcceptedRecipient } from './session.js';
import { returnPathField } from './headers.js';
import type { MailFrom } from './protocol/command.js';
import { MessageSource } from '../mail/message-source.js';
import type { RecipientOutcome } from '../mail/delivery.js';
import { deliver } from '../mail/delivery.js';
import { buildDsn, headerBlock } from '../mail/dsn.js';
import { resolveRecipient } from '../mail/recipients.js';

/** `type;address` for the DSN and the queue. */
export function orcptText(r: AcceptedRecipient): string | undefined {
  const o = r.rcpt.orcpt;
  return o ? `${o.type};${o.address}` : undefined;
}

export async function sendSuccessDsns(s: SmtpSession, mail: MailFrom, local: AcceptedRecipient[], outcomes: RecipientOutcome[], source: MessageSource, arrival: Date): Promise<void> {
  const sender = mail.sender.address;
  if (sender === '') return; // RFC 3461 6.2: never about a message from the null sender
  const chosen = local.filter((r, i) => outcomes[i]?.status === 'delivered' && Array.isArray(r.rcpt.notify) && r.rcpt.notify.includes('SUCCESS'));
  if (chosen.length === 0) return;
  const headersOnly = mail.ret !== 'FULL';
  const original = headersOnly ? Readable.from([headerBlock(await source.head(256 * 1024))]) : source.stream();
  const dsn = buildDsn({
    reportingMta: s.hostname,
    to: sender,
    envid: mail.envid,
    arrivalDate: arrival,
    recipients: chosen.map((r) => ({ address: r.address, orcpt: orcptText(r), action: 'delivered', status: '2.0.0' })),
    original,
    headersOnly,
  });
  let report: MessageSource | undefined;
  try {
    // Spooled once (RET=FULL carries the whole message); read by ingest from there.
    report = await MessageSource.fromStream(dsn, s.services.delivery.ingest.spoolDir, { prefix: 'dsn' });
    const local = await resolveRecipient(s.services.store, sender).catch(() => null);
    // Final delivery adds Return-Path (RFC 5321 4.4); a DSN's is the null path.
    if (local && local.users.length > 0) await deliver(s.services.delivery, report.prepend(Buffer.from(returnPathField(''))), [sender]);
    else await s.remote.enqueue({ from: '', to: [{ address: sender, notify: ['NEVER'] }], message: report, requireTls: false, smtpUtf8: false, eightBit: false, sign: false });
  } catch (err) {
    s.log.warn({ err, to: sender }, 'could not send the success DSN');
  } finally {
    await report?.dispose();
  }
}
