/**
 * Server-side Sent copies: every message a user submits is also filed in their
 * \Sent mailbox (so mail sent from a POP3 computer or a phone is on every device),
 * and the rule that keeps a client's own APPEND of the same message from making
 * a second copy.
 *
 * The duplicate rule (README "SMTP"): an APPEND into a \Sent mailbox is a
 * duplicate when that mailbox already holds a message saved at most
 * SENT_DUPLICATE_WINDOW_MS ago with the same Message-ID and the same body bytes
 * (everything after the header: clients often add Bcc: or X- headers to their
 * own copy, but never change the body). The APPEND then answers with the UID of
 * the existing message instead of storing again, adding the APPEND's flags to it.
 *
 * Never imports: protocol code. Invariant: a Sent copy is stored only through
 * the store contract, flagged \Seen, outside quota (a full mailbox must not stop
 * a user from sending).
 */
import { createHash } from 'node:crypto';
import type { MessageIndex } from '../mime/types.js';
import type { Id, Mailbox, Store, Uid, User } from '../store/types.js';
import { ingest, type IngestOptions } from '../ingest.js';
import type { MessageSource } from './message-source.js';

/** How long after a submission an APPEND of the same message counts as the same copy. */
export const SENT_DUPLICATE_WINDOW_MS = 10 * 60_000;

export { SENT_COPY_SETTING, normaliseSentCopySetting, wantsSentCopy } from './sent-copy-setting.js';

/** The user's \Sent mailbox; "Sent" is created (with \Sent) when the user has none. */
export async function sentMailbox(store: Store, userId: Id): Promise<Mailbox> {
  const all = await store.listMailboxes(userId);
  const found = all.find((m) => m.specialUse === '\\Sent') ?? all.find((m) => m.name === 'Sent');
  if (found) return found;
  return store.createMailbox(userId, 'Sent', '\\Sent');
}

/** Files a copy of a submitted message in the user's \Sent mailbox; returns its UID. The source stays the caller's. */
export async function storeSentCopy(store: Store, user: User, source: MessageSource, opts: IngestOptions, viewerId: Id = user.id): Promise<{ mailboxId: Id; uid: Uid }> {
  const mailbox = await sentMailbox(store, user.id);
  const item = await ingest(store, source, { ...opts, maxSize: 0 });
  try {
    const res = await store.appendMessage({ mailboxId: mailbox.id, content: item.content, flags: ['\\Seen'], viewerId, threadKeys: item.index.threadKeys, ignoreQuota: true });
    return { mailboxId: mailbox.id, uid: res.row.uid };
  } catch (err) {
    // Content released by a concurrent expunge between ingest and append: write it again once.
    const again = await item.fresh();
    const res = await store.appendMessage({ mailboxId: mailbox.id, content: again.content, flags: ['\\Seen'], viewerId, threadKeys: again.index.threadKeys, ignoreQuota: true }).catch(() => {
      throw err;
    });
    return { mailboxId: mailbox.id, uid: res.row.uid };
  }
}

/** What identifies an appended message for the duplicate rule. */
export interface SentFingerprint {
  /** Message-ID header value as written (angle brackets kept); null never matches. */
  messageId: string | null;
  /** sha256 hex of the bytes after the header (see `bodyHash`). */
  bodyHash: string;
}

/** sha256 of the body: the bytes from `bodyStart` (the end of the top-level header) on. */
export function bodyHash(raw: Buffer, bodyStart: number): string {
  return createHash('sha256').update(raw.subarray(bodyStart)).digest('hex');
}

/**
 * The UID of a message in `mailboxId` (which must be the user's \Sent mailbox)
 * that an APPEND with this fingerprint duplicates, or null (store the APPEND).
 */
export async function findSentDuplicate(store: Store, userId: Id, mailboxId: Id, fp: SentFingerprint, now = Date.now()): Promise<Uid | null> {
  if (!fp.messageId) return null;
  const mailbox = await store.getMailboxById(mailboxId);
  if (!mailbox || mailbox.userId !== userId || mailbox.specialUse !== '\\Sent') return null;
  const rows = await store.listMessages(mailboxId, userId);
  // Newest first; stop at the first row older than the window (UIDs grow with time).
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows[i];
    if (now - row.saveDate.getTime() > SENT_DUPLICATE_WINDOW_MS) break;
    const meta = await store.getContent(row.contentId);
    if (!meta || meta.index.envelope.messageId !== fp.messageId) continue;
    const hash = createHash('sha256');
    for await (const chunk of await store.openContent(row.contentId, meta.index.body.headerEnd)) hash.update(chunk as Buffer);
    if (hash.digest('hex') === fp.bodyHash) return row.uid;
  }
  return null;
}

/**
 * The APPEND side in one call: for an APPEND into `mailbox` (any mailbox; only \Sent
 * is looked at) of a message already ingested (`index`) whose bytes `source` holds,
 * the UID it duplicates, or null. Cheap when the mailbox is not \Sent or the
 * message has no Message-ID (the body is hashed only when needed).
 */
export async function appendDuplicateOf(store: Store, userId: Id, mailbox: Mailbox, index: MessageIndex, source: MessageSource): Promise<Uid | null> {
  if (mailbox.specialUse !== '\\Sent' || !index.envelope.messageId) return null;
  const hash = createHash('sha256');
  for await (const c of source.stream(Math.min(index.body.headerEnd, source.size))) hash.update(c as Buffer);
  return findSentDuplicate(store, userId, mailbox.id, { messageId: index.envelope.messageId, bodyHash: hash.digest('hex') });
}
