// RCPT TO:<forward-path> [SP params]   RFC 5321 4.1.1.3, RFC 9422 (RCPTMAX), RFC 3463 codes
import type { SmtpSession } from '../session.js';
import { parseRcptTo } from '../protocol/command.js';
import { AddressError, normaliseDomain } from '../../mail/address.js';
import { resolveRecipient, type Resolution } from '../../mail/recipients.js';

export async function rcpt(s: SmtpSession, args: string): Promise<void> {
  const tx = s.tx;
  if (!tx) return s.reply(503, '5.5.1', 'Need MAIL command first');
  if (tx.chunking) return s.reply(503, '5.5.1', 'RCPT not allowed during BDAT');
  const r = parseRcptTo(args, tx.mail.smtputf8);
  if ((r.notify || r.orcpt) && s.lmtp) return s.reply(555, '5.5.4', 'DSN parameters are not supported');
  if (tx.recipients.length >= s.services.config.smtp.max_recipients) return s.reply(452, '4.5.3', 'Too many recipients'); // RFC 5321 4.5.3.1.10, RFC 9422
  const address = r.recipient.domain === '' ? `postmaster@${s.hostname}` : r.recipient.address;
  const store = s.services.store;
  let resolution: Resolution | null = null;
  try {
    resolution = await resolveRecipient(store, address, s.services.delivery.resolve);
  } catch (err) {
    if (!(err instanceof AddressError)) throw err; // valid SMTP but no account can have it: unknown here
  }
  const remote = s.remote;
  if (!resolution) {
    const localDomain = await isLocalDomain(s, r.recipient.domain);
    if (s.opts.mode !== 'submission' || localDomain) return s.reply(550, '5.1.1', `<${address}>: Recipient address rejected: no such user here`);
    if (!remote.available) return s.reply(451, '4.4.0', 'Relaying to other domains is not available yet; try again later');
    if (tx.mail.body === 'BINARYMIME') return s.reply(550, '5.6.3', 'BINARYMIME messages are delivered locally only'); // RFC 3030 3
    tx.recipients.push({ rcpt: r, address, kind: 'remote' });
    return s.reply(250, '2.1.5', 'Recipient OK (remote)');
  }
  if (resolution.remote.length > 0) {
    if (!remote.available) return s.reply(451, '4.4.0', `<${address}> forwards to another server, which is not available yet; try again later`);
    if (tx.mail.body === 'BINARYMIME') return s.reply(550, '5.6.3', `<${address}> forwards to another server; BINARYMIME messages are delivered locally only`); // RFC 3030 3
  }
  for (const user of resolution.users) {
    if (user.quota.bytes === null && user.quota.messages === null) continue; // no limit to check: spares a store read per recipient
    const q = await store.getQuota(user.id);
    const size = tx.mail.size ?? 0;
    // 452 4.2.2, temporary (RFC 3463 4.2.2, RFC 5321 4.5.3.1.10): the user may free space.
    if ((q.bytes !== null && q.usedBytes + size > q.bytes) || (q.messages !== null && q.usedMessages + 1 > q.messages)) {
      return s.reply(452, '4.2.2', `<${address}>: Mailbox full`);
    }
  }
  tx.recipients.push({ rcpt: r, address, kind: 'local', resolution });
  s.reply(250, '2.1.5', 'Recipient OK');
}

async function isLocalDomain(s: SmtpSession, domain: string): Promise<boolean> {
  if (domain === '' || domain.startsWith('[')) return true;
  try {
    return (await s.services.store.getDomain(normaliseDomain(domain))) !== null;
  } catch (err) {
    if (err instanceof AddressError) return true; // not a deliverable domain name either way
    throw err;
  }
}
