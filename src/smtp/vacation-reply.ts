/**
 * Sends the vacation auto-replies due for a message just delivered (src/mail/vacation.ts
 * decides; the store remembers whom each user answered): with the null sender (RFC 3834
 * 3.3), into the sender's INBOX when the sender is local, else through the queue, signed
 * with the user's domain's DKIM key. A reply that cannot be sent is logged, never a reason
 * to refuse the message.
 */
import type { SmtpSession } from './session.js';
import { returnPathField } from './headers.js';
import { MessageSource } from '../mail/message-source.js';
import { deliver, type RecipientOutcome } from '../mail/delivery.js';
import { resolveRecipient } from '../mail/recipients.js';
import { buildVacationReply, whyNoReply } from '../mail/vacation.js';

const DAY_MS = 86_400_000;

export async function sendVacationReplies(s: SmtpSession, sender: string, outcomes: RecipientOutcome[], head: Buffer): Promise<void> {
  const now = new Date();
  const answered = new Set<number>();
  for (const o of outcomes) {
    if (o.status !== 'delivered') continue;
    for (const copy of o.copies) {
      if (!copy.vacation || answered.has(copy.userId)) continue;
      answered.add(copy.userId);
      const why = whyNoReply({ envelopeSender: sender, head, ownAddresses: [copy.user, o.recipient] });
      if (why) {
        s.log.debug({ user: copy.user, from: sender, why }, 'no vacation reply');
        continue;
      }
      try {
        if (!(await s.services.store.claimVacationReply(copy.userId, sender, now, copy.vacation.days * DAY_MS))) continue;
        const reply = MessageSource.fromBuffer(buildVacationReply(copy.vacation, { from: copy.user, to: sender, head, hostname: s.hostname, now }));
        const local = await resolveRecipient(s.services.store, sender).catch(() => null);
        if (local && local.users.length > 0) await deliver(s.services.delivery, reply.prepend(Buffer.from(returnPathField(''))), [sender]);
        else await s.remote.enqueue({ from: '', to: [{ address: sender, notify: ['NEVER'] }], message: reply, requireTls: false, smtpUtf8: false, eightBit: true, sign: true });
        s.log.info({ user: copy.user, to: sender }, 'vacation reply sent');
      } catch (err) {
        s.log.warn({ err, user: copy.user, to: sender }, 'could not send the vacation reply');
      }
    }
  }
}
