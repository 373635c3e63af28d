/**
 * The end of a mail transaction: check the text rules, add the trace fields,
 * verify (MX), deliver locally, hand remote recipients to the queue, file the
 * Sent copy (submission), and only then reply: one reply for SMTP, one per
 * recipient for LMTP (RFC 2033 4.2), each after that recipient's copy is durable.
 *
 * Reply rules when some copies fail (README "SMTP"): a temporary store failure
 * gives 451 for the whole message (the sender retries; a recipient already served
 * may get it twice: a duplicate is better than a loss); a quota race after RCPT
 * is absorbed by storing past the quota, since the quota was checked at RCPT.
 *
 * A message is stored only while its client is there to hear the reply: if it left
 * during DATA (it gave up waiting), nothing is stored and it will send again. If it
 * leaves between the store and the 250, that is logged at warn with the queue id,
 * and resend-guard.ts answers its re-send without storing a second copy.
 *
 * The bytes are spooled once (src/mail/message-source.ts); trace fields, the
 * Authentication-Results and a rewritten header are views in front of that one spool,
 * read by verify, delivery, the queue and the Sent copy. The caller disposes the spool.
 */
import type { SmtpSession, AcceptedRecipient, Reply } from './session.js';
import type { Resolution } from '../mail/recipients.js';
import type { DataDecoder } from './protocol/data-decoder.js';
import type { MessageSource, MessageSpool } from '../mail/message-source.js';
import { deliver, type RecipientOutcome } from '../mail/delivery.js';
import { storeSentCopy, wantsSentCopy } from '../mail/sent-copies.js';
import { receivedField, returnPathField, submissionFields, withProtocol } from './headers.js';
import { verifyMessage } from './auth-results.js';
import { orcptText, sendSuccessDsns } from './success-dsn.js';
import { forwardingSender } from '../mail/forward.js';
import { sendVacationReplies } from './vacation-reply.js';
import type { RemoteRecipient } from './remote.js';
import { messageIdOf, resendKey } from '../mail/resend-guard.js';
import { countMessage } from '../metrics/registry.js';
import { logDelivery } from '../log/delivery-log.js';
import { claimedLocalDomains, foreignHeaderSender, isAuthenticated } from './sender-claims.js';

let counter = 0;

export async function acceptMessage(s: SmtpSession, decoder: DataDecoder, spool: MessageSpool): Promise<void> {
  const tx = s.tx!;
  s.tx = undefined; // whatever happens now, the transaction is over (RFC 5321 4.1.1.4)
  const max = s.services.config.smtp.max_message_size;
  if (decoder.size > max) {
    countMessage('rejected');
    return s.reply(552, '5.3.4', `Message size exceeds fixed maximum message size of ${max} bytes`); // RFC 1870 6.3
  }
  const refusal = decoder.refusal();
  if (refusal) {
    countMessage('rejected');
    return s.reply(refusal.code, refusal.enhanced, refusal.text);
  }
  let source = await spool.seal();

  const now = new Date();
  const id = `${s.net.id}.${(++counter).toString(36)}`;
  const sender = tx.mail.sender.address;
  const protocol = withProtocol({ lmtp: s.lmtp, esmtp: s.esmtp, tls: s.secure, auth: !!s.user, utf8: tx.mail.smtputf8 });
  const received = receivedField({ helo: s.helo ?? '', remoteAddress: s.net.remoteAddress, hostname: s.hostname, protocol, id, recipients: tx.recipients.map((r) => r.address), date: now });
  if (s.opts.mode === 'submission' && s.user) {
    const foreign = await foreignHeaderSender(s.services.store, s.user, await source.head(256 * 1024));
    if (foreign !== undefined) return s.reply(550, '5.7.1', `Header sender <${foreign}> is not yours`); // as MAIL FROM (RFC 6409 6.1)
  }
  const added = s.opts.mode === 'submission' ? submissionFields(await source.head(256 * 1024), s.hostname, now) : '';
  let verdict = '';
  let quarantine = false;
  if (s.opts.mode === 'mx') {
    let authenticated: Set<string> | undefined;
    ({ source, verdict, authenticated } = await authResults(s, source, sender));
    const unproven = (await claimedLocalDomains(s.services.store, sender, await source.head(256 * 1024))).filter((d) => !authenticated || !isAuthenticated(d, authenticated));
    if (unproven.length > 0) {
      s.log.warn({ from: sender, domains: unproven, checked: !!authenticated }, 'message from outside claims a local domain it is not authenticated for');
      if (!authenticated) return s.reply(451, '4.7.0', 'Sender authentication could not be checked; try again later');
      if (s.services.config.smtp.local_sender_policy === 'reject') return s.reply(550, '5.7.1', `Sender domain ${unproven[0]} is ours, and this message is not authenticated for it (SPF, DKIM, DMARC)`);
      quarantine = true;
    }
  }
  const transit = received + added;

  const local = tx.recipients.filter((r) => r.kind === 'local');
  const key = resendKey({ mode: s.opts.mode, messageId: messageIdOf(await source.head(64 * 1024)), userId: s.user?.id, remoteAddress: s.net.remoteAddress, mailFrom: sender, recipients: tx.recipients.map((r) => r.address) });
  const earlier = s.resend.earlier(key);
  if (earlier) {
    s.log.info({ id: earlier, from: sender }, 'message re-sent (its 250 was not seen): answered again, not stored twice');
    if (s.lmtp) return void (await s.replyConfirmed(local.map((r) => ({ code: 250, enhanced: '2.0.0', lines: [`<${r.address}> Saved`] }))));
    return s.reply(250, '2.0.0', `Ok: queued as ${earlier}`);
  }
  if (s.io.gone) {
    s.log.info({ from: sender }, 'client left before its message could be acknowledged: not stored');
    return;
  }
  let outcomes: RecipientOutcome[] = [];
  try {
    if (local.length > 0) {
      // One view for both passes: the quota retry finds the content stored by the first by its hash.
      const delivered = source.prepend(Buffer.from(returnPathField(sender) + verdict + transit));
      const ctx = quarantine ? { ...s.services.delivery, specialUse: '\\Junk' as const } : s.services.delivery;
      outcomes = await deliver(ctx, delivered, local.map((r) => r.address), resolvedAtRcpt(local));
      outcomes = await absorbQuotaRace(s, delivered, outcomes, !s.lmtp && outcomes.some((o) => o.status === 'delivered'));
    }
    const to = quarantine ? [] : remoteRecipients(tx.recipients, local, outcomes); // a quarantined message is not sent on
    if (to.length > 0) {
      const eightBit = tx.mail.body === '8BITMIME' || tx.mail.body === 'BINARYMIME';
      // MX/LMTP reach the queue only through forwarding aliases: src/mail/forward.ts picks the envelope sender (SPF).
      const from = s.opts.mode === 'submission' ? sender : await forwardingSender(s.services, sender, local[0]?.address ?? to[0].address);
      const queued = { from, to, message: source.prepend(Buffer.from(transit)), requireTls: tx.mail.requireTls, smtpUtf8: tx.mail.smtputf8, eightBit, envid: tx.mail.envid, ret: tx.mail.ret };
      await s.remote.enqueue({ ...queued, sign: s.opts.mode === 'submission' }); // forwarded MX mail keeps its sender's signature
    }
  } catch (err) {
    s.log.error({ err, id }, 'delivery failed');
    countMessage('rejected');
    if (s.lmtp) for (const _ of local) s.reply(451, '4.3.0', 'Temporary failure storing the message; try again later');
    else s.reply(451, '4.3.0', 'Temporary failure storing the message; try again later');
    return;
  }
  if (outcomes.every((o) => o.status === 'delivered')) s.resend.remember(key, id);
  s.log.info({ id, from: sender, rcpts: tx.recipients.length, size: decoder.size }, 'message accepted');
  countMessage('accepted');
  for (const o of outcomes) {
    const failed = o.status !== 'delivered';
    logDelivery(s.log, { queueId: id, from: sender, to: o.recipient, size: decoder.size, relay: 'local', result: failed ? 'rejected' : 'delivered', detail: failed ? `${o.status}: ${o.reason}` : undefined });
  }
  if (s.lmtp) {
    await acknowledge(s, id, replyPerRecipient(local, outcomes));
    return vacationReplies(s, sender, outcomes, source);
  }
  const failure = singleFailure(outcomes);
  if (failure) return s.reply(failure.code, failure.enhanced, failure.text);
  if (s.opts.mode === 'submission') await sentCopy(s, source, added);
  await sendSuccessDsns(s, tx.mail, local, outcomes, source, now);
  await acknowledge(s, id, [{ code: 250, enhanced: '2.0.0', lines: [`Ok: queued as ${id}`] }]);
  await vacationReplies(s, sender, outcomes, source);
}

/** RFC 3834 auto-replies of users on vacation, after the message is acknowledged (best effort, never delays the 250). */
async function vacationReplies(s: SmtpSession, sender: string, outcomes: RecipientOutcome[], source: MessageSource): Promise<void> {
  if (!outcomes.some((o) => o.status === 'delivered' && o.copies.some((c) => c.vacation))) return;
  await sendVacationReplies(s, sender, outcomes, await source.head(64 * 1024));
}

/** Writes the replies for a stored message; a client already gone is logged (the copy is kept). */
async function acknowledge(s: SmtpSession, id: string, replies: Reply[]): Promise<void> {
  if (await s.replyConfirmed(replies)) return;
  s.log.warn({ id }, 'message stored, but its acceptance reply could not be written: the client is gone (a re-send is recognised by Message-ID)');
}

/**
 * The message with forged results obscured (a view when the header changed), the results
 * to prepend, and the domains it is authenticated for (undefined when the checks failed).
 */
async function authResults(s: SmtpSession, source: MessageSource, sender: string): Promise<{ source: MessageSource; verdict: string; authenticated?: Set<string> }> {
  // RFC 8601 5: a result claiming our authserv-id did not come from us: obscure it (renamed, kept for forensics).
  const forged = new RegExp(`^Authentication-Results:(?=\\s*${s.hostname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s+\\d+)?\\s*;)`, 'gim');
  const checked = await editHeader(source, 256 * 1024, (h) => h.replace(forged, 'X-Forged-Authentication-Results:'));
  try {
    const v = await verifyMessage({ message: checked.stream(), ip: s.net.remoteAddress, helo: s.helo ?? '', sender, hostname: s.hostname, resolver: s.resolver });
    return { source: checked, verdict: v.headers, authenticated: v.authenticated };
  } catch (err) {
    s.log.warn({ err }, 'authentication checks failed');
    return { source: checked, verdict: `Authentication-Results: ${s.hostname}; none (checks failed: temporary error)\r\n` };
  }
}

/**
 * The source with its header block (up to the first empty line, looked for in the first
 * `max` bytes) rewritten by `edit`: a view over the same spool, the body is not copied.
 */
async function editHeader(source: MessageSource, max: number, edit: (header: string) => string): Promise<MessageSource> {
  const head = await source.head(max);
  const end = head.indexOf('\r\n\r\n');
  if (end < 0) return source;
  const header = head.subarray(0, end + 2).toString('latin1');
  const edited = edit(header);
  return edited === header ? source : source.replaceHead(end + 2, Buffer.from(edited, 'latin1'));
}

/** Copies refused for quota after RCPT accepted them are stored past the quota (see the header). */
async function absorbQuotaRace(s: SmtpSession, delivered: MessageSource, outcomes: RecipientOutcome[], absorb: boolean): Promise<RecipientOutcome[]> {
  const over = outcomes.filter((o) => o.status === 'overquota');
  if (!absorb || over.length === 0) return outcomes;
  const retried = await deliver({ ...s.services.delivery, ignoreQuota: true }, delivered, over.map((o) => o.recipient));
  return outcomes.map((o) => (o.status === 'overquota' ? retried[over.indexOf(o)] : o));
}

/** Remote recipients and the remote targets of delivered aliases, once each, with their DSN wishes. */
function remoteRecipients(all: AcceptedRecipient[], local: AcceptedRecipient[], outcomes: RecipientOutcome[]): RemoteRecipient[] {
  const notify = (r: AcceptedRecipient) => (r.rcpt.notify === 'NEVER' ? (['NEVER'] as const) : r.rcpt.notify);
  const out = new Map<string, RemoteRecipient>();
  for (const r of all) if (r.kind === 'remote') out.set(r.address.toLowerCase(), { address: r.address, notify: notify(r)?.slice(), orcpt: orcptText(r) });
  local.forEach((r, i) => {
    const o = outcomes[i];
    // RFC 3461 5.2.7: a forwarded recipient keeps the NOTIFY of the address it came through.
    if (o?.status === 'delivered') for (const a of o.remote) if (!out.has(a)) out.set(a, { address: a, notify: notify(r)?.slice() });
  });
  return [...out.values()];
}

function singleFailure(outcomes: RecipientOutcome[]): { code: number; enhanced: string; text: string } | null {
  if (outcomes.some((o) => o.status === 'failed')) return { code: 451, enhanced: '4.3.0', text: 'Temporary failure storing the message; try again later' };
  if (outcomes.some((o) => o.status === 'delivered')) return null;
  if (outcomes.some((o) => o.status === 'overquota')) return { code: 452, enhanced: '4.2.2', text: 'Mailbox full' };
  if (outcomes.length > 0) return { code: 550, enhanced: '5.1.1', text: 'No such user here' };
  return null;
}

/** RFC 2033 4.2: one reply per recipient, in RCPT order. */
function replyPerRecipient(local: AcceptedRecipient[], outcomes: RecipientOutcome[]): Reply[] {
  return local.map((r, i) => {
    const o = outcomes[i];
    if (o.status === 'delivered') return { code: 250, enhanced: '2.0.0', lines: [`<${r.address}> Saved`] };
    if (o.status === 'overquota') return { code: 452, enhanced: '4.2.2', lines: [`<${r.address}> Mailbox full`] };
    if (o.status === 'failed') return { code: 451, enhanced: '4.3.0', lines: [`<${r.address}> Temporary failure, try again later`] };
    return { code: 550, enhanced: '5.1.1', lines: [`<${r.address}> No such user here`] };
  });
}

async function sentCopy(s: SmtpSession, source: MessageSource, added: string): Promise<void> {
  const user = s.user;
  if (!user || !wantsSentCopy(user, s.services.config.smtp.sent_copies)) return;
  try {
    await storeSentCopy(s.services.store, user, source.prepend(Buffer.from(added)), s.services.delivery.ingest, s.login?.viewerId ?? user.id); // the sender's own \Seen
  } catch (err) {
    // The message is already delivered or queued; a missing Sent copy must not make the client send twice.
    s.log.error({ err, user: user.address }, 'could not store the Sent copy');
  }
}

/** Who each local recipient reached at RCPT (moments ago, in this transaction): delivery reuses it. */
function resolvedAtRcpt(local: AcceptedRecipient[]): Map<string, Resolution> {
  const out = new Map<string, Resolution>();
  for (const r of local) if (r.resolution) out.set(r.address, r.resolution);
  return out;
}
