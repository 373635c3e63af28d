/**
 * Protocol-neutral local delivery, used by SMTP, LMTP and the CLI: resolve each
 * recipient, ingest the bytes once, file a copy into each user's INBOX.
 * Each outcome is final and per recipient (LMTP answers one line per recipient):
 * 'delivered' only once that copy is durable. A user reached through several
 * recipients (alias + direct) gets one copy.
 */
import type { Id, MailboxByName, MessageRow, SpecialUse, Store, Uid, User } from '../store/types.js';
import { isStoreError } from '../store/errors.js';
import { ingest, type IngestOptions, type Ingested } from '../ingest.js';
import { AddressError } from './address.js';
import { MessageSource } from './message-source.js';
import { alreadyEncrypted, encryptionKeyOf, encryptToPgpMime } from './encryption/pgp-mime.js';
import { activeVacation, type Vacation } from './vacation.js';
import { warnIfQuotaCrossed } from './quota-warning.js';
import { resolveRecipient, type Resolution, type ResolveOptions } from './recipients.js';

export interface DeliveryContext {
  store: Store;
  ingest: IngestOptions;
  resolve?: ResolveOptions;
  /** Store even past the quota (SMTP: quota was checked at RCPT; a race after it must not lose or duplicate mail). */
  ignoreQuota?: boolean;
  /** File into the user's mailbox with this special use (e.g. a quarantined message into Junk) instead of INBOX, when they have one. */
  specialUse?: SpecialUse;
}

export interface StoredCopy {
  user: string;
  userId: number;
  mailboxId: number;
  uid: Uid;
  /** The user's vacation auto-reply, when it is on (src/mail/vacation.ts). */
  vacation?: Vacation;
}

export type RecipientOutcome =
  | { recipient: string; status: 'delivered'; copies: StoredCopy[]; remote: string[] }
  | { recipient: string; status: 'unknown' | 'invalid' | 'overquota' | 'failed'; reason: string };

/**
 * Delivers one message to every recipient; never throws for a per-recipient problem.
 * The source stays the caller's (deliver reads it, never disposes it). `resolved`: recipients
 * the caller looked up moments ago (SMTP/LMTP at RCPT), not looked up again.
 */
export async function deliver(ctx: DeliveryContext, source: MessageSource, recipients: string[], resolved?: ReadonlyMap<string, Resolution>): Promise<RecipientOutcome[]> {
  const plans = await Promise.all(recipients.map((r) => plan(ctx, r, resolved?.get(r))));
  if (!plans.some((p) => 'users' in p)) return plans.map((p) => p as RecipientOutcome);
  const items = new Contents(ctx, source);
  const done = new Map<number, StoredCopy>();
  const outcomes: RecipientOutcome[] = [];
  for (const p of plans) {
    if (!('users' in p)) {
      outcomes.push(p);
      continue;
    }
    const result = await fileCopies(ctx, items, p.users, done);
    outcomes.push(result.error ? { recipient: p.recipient, ...result.error } : { recipient: p.recipient, status: 'delivered', copies: result.copies, remote: p.remote });
  }
  return outcomes;
}

/**
 * The content each user gets, ingested once per form: the message as it came, or encrypted
 * to a user's key (encryption at rest) when the user has one. Nothing is ingested for a form
 * nobody needs.
 */
class Contents {
  private readonly byKey = new Map<string, Ingested>();

  constructor(
    private readonly ctx: DeliveryContext,
    private readonly source: MessageSource,
  ) {}

  async for(user: User): Promise<Ingested> {
    const key = encryptionKeyOf(user) ?? '';
    const known = this.byKey.get(key);
    if (known) return known;
    const item = key === '' ? await ingest(this.ctx.store, this.source, this.ctx.ingest) : await this.encrypted(key);
    this.byKey.set(key, item);
    return item;
  }

  /** After an append found the content released meanwhile: the same form written again. */
  async refresh(user: User, stale: Ingested): Promise<Ingested> {
    const item = await stale.fresh();
    this.byKey.set(encryptionKeyOf(user) ?? '', item);
    return item;
  }

  private async encrypted(key: string): Promise<Ingested> {
    const raw = await this.source.all();
    if (alreadyEncrypted(raw)) return ingest(this.ctx.store, this.source, this.ctx.ingest);
    return ingest(this.ctx.store, MessageSource.fromBuffer(await encryptToPgpMime(raw, key)), { ...this.ctx.ingest, maxSize: 0 });
  }
}

type Plan = { recipient: string; users: User[]; remote: string[] } | RecipientOutcome;

async function plan(ctx: DeliveryContext, recipient: string, known: Resolution | undefined): Promise<Plan> {
  try {
    const r = known ?? (await resolveRecipient(ctx.store, recipient, ctx.resolve));
    if (!r) return { recipient, status: 'unknown', reason: `no such recipient here: ${recipient}` };
    return { recipient, users: r.users, remote: r.remote };
  } catch (err) {
    if (err instanceof AddressError) return { recipient, status: 'invalid', reason: err.message };
    throw err;
  }
}

interface FileResult {
  copies: StoredCopy[];
  error?: { status: 'overquota' | 'failed'; reason: string };
}

async function fileCopies(ctx: DeliveryContext, items: Contents, users: User[], done: Map<number, StoredCopy>): Promise<FileResult> {
  const store = ctx.store;
  const copies: StoredCopy[] = [];
  for (const user of users) {
    const already = done.get(user.id);
    if (already) {
      copies.push(already);
      continue;
    }
    let row: MessageRow | null;
    try {
      row = await appendWithRetry(store, items, user, await targetMailbox(store, user, ctx.specialUse), ctx.ignoreQuota ?? false);
    } catch (err) {
      if (isStoreError(err, 'overquota')) return { copies, error: { status: 'overquota', reason: `${user.address}: ${err.message}` } };
      throw err;
    }
    if (!row) return { copies, error: { status: 'failed', reason: `${user.address} has no INBOX` } };
    const vacation = activeVacation(user.settings, new Date()) ?? undefined;
    const copy: StoredCopy = { user: user.address, userId: user.id, mailboxId: row.mailboxId, uid: row.uid, ...(vacation ? { vacation } : {}) };
    done.set(user.id, copy);
    copies.push(copy);
    // Only users with a limit can cross one (no extra write per delivery otherwise). The copy is
    // durable whatever happens to the warning; a failed one is not retried (its crossing was claimed).
    if (user.quota.bytes !== null || user.quota.messages !== null) await warnIfQuotaCrossed(store, ctx.ingest, user).catch(() => undefined);
  }
  return { copies };
}

/**
 * Where the user's copy goes: the mailbox with `specialUse` when asked for and present, else
 * INBOX by name, which the append looks up in its own transaction (no round trip before it).
 */
async function targetMailbox(store: Store, user: User, specialUse: SpecialUse | undefined): Promise<Id | MailboxByName> {
  if (specialUse) {
    const special = (await store.listMailboxes(user.id)).find((m) => m.specialUse === specialUse);
    if (special) return special.id;
  }
  return { userId: user.id, name: 'INBOX' };
}

/** The stored row; null when the mailbox named is not there. */
async function appendWithRetry(store: Store, items: Contents, user: User, mailboxId: Id | MailboxByName, ignoreQuota: boolean): Promise<MessageRow | null> {
  let item = await items.for(user);
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await store.appendMessage({ mailboxId, content: item.content, threadKeys: item.index.threadKeys, ignoreQuota });
      return res.row;
    } catch (err) {
      if (!isStoreError(err, 'notfound')) throw err;
      // A mailbox by name that is missing, or else content (or a blob) released by a concurrent
      // expunge between ingest and append: only a look tells which.
      if (typeof mailboxId === 'object' && !(await store.getMailbox(mailboxId.userId, mailboxId.name))) return null;
      if (attempt >= 2) throw err;
      item = await items.refresh(user, item);
    }
  }
}
