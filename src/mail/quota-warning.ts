/**
 * The quota warning a user finds in their INBOX when their usage crosses 80 % or 95 % of a
 * limit (storage or message count), once per crossing: the store hands the crossing to
 * exactly one caller (Store.claimQuotaWarning), which files this message. Called after
 * anything that adds to a user's usage: delivery, IMAP APPEND and COPY.
 *
 * Never imports: protocol code. Invariant: the warning is stored outside quota (a full
 * mailbox must still get the news) and never triggers another check itself.
 */
import { randomBytes } from 'node:crypto';
import type { QuotaUsage, Store, User } from '../store/types.js';
import { ingest, type IngestOptions } from '../ingest.js';
import { rfc5322Date } from './dsn.js';
import { MessageSource } from './message-source.js';

/** Checks for a new crossing and files the warning; returns the level announced, or null. */
export async function warnIfQuotaCrossed(store: Store, ingestOpts: IngestOptions, user: Pick<User, 'id' | 'address'>): Promise<number | null> {
  // A read first: below 80 % there is nothing to claim, and the claim is a write.
  if (usageLevel(await store.getQuota(user.id)) === 0) return null;
  const level = await store.claimQuotaWarning(user.id);
  if (level === null) return null;
  const inbox = await store.getMailbox(user.id, 'INBOX');
  if (!inbox) return level;
  const raw = Buffer.from(quotaWarningMessage(user.address, level, await store.getQuota(user.id), new Date()));
  const item = await ingest(store, MessageSource.fromBuffer(raw), { ...ingestOpts, maxSize: 0 });
  await store.appendMessage({ mailboxId: inbox.id, content: item.content, threadKeys: item.index.threadKeys, ignoreQuota: true });
  return level;
}

/** 95, 80 or 0: the highest threshold the usage of either resource is at (the store's rule, store/core/quota-warning.ts). */
export function usageLevel(q: QuotaUsage): number {
  const at = (pct: number) => (q.bytes !== null && q.usedBytes * 100 >= q.bytes * pct) || (q.messages !== null && q.usedMessages * 100 >= q.messages * pct);
  return at(95) ? 95 : at(80) ? 80 : 0;
}

function percent(used: number, limit: number): number {
  return limit === 0 ? 100 : Math.floor((used * 100) / limit);
}

/** The warning's bytes: plain text, auto-generated (RFC 3834), from the postmaster of the user's domain. */
export function quotaWarningMessage(address: string, level: number, q: QuotaUsage, now: Date): string {
  const domain = address.slice(address.lastIndexOf('@') + 1);
  const lines = [`Your mailbox ${address} has reached ${level} % of its quota.`, ''];
  if (q.bytes !== null) lines.push(`Storage:  ${Math.ceil(q.usedBytes / 1024)} KiB of ${Math.floor(q.bytes / 1024)} KiB (${percent(q.usedBytes, q.bytes)} %)`);
  if (q.messages !== null) lines.push(`Messages: ${q.usedMessages} of ${q.messages} (${percent(q.usedMessages, q.messages)} %)`);
  lines.push('', 'Once the limit is reached, new mail to you is refused and saving messages fails.', 'Delete messages you no longer need (and empty Trash) to make room.');
  return [
    `From: Mailroom <postmaster@${domain}>`,
    `To: <${address}>`,
    `Subject: Your mailbox is ${level} % full`,
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <quota-${level}-${now.getTime()}-${randomBytes(4).toString('hex')}@${domain}>`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    ...lines,
    '',
  ].join('\r\n');
}
