/**
 * Protocol-neutral local delivery, used by SMTP, LMTP and the CLI: resolve each
 * recipient, ingest the bytes once, file a copy into each user's INBOX.
 * Each outcome is final and per recipient (LMTP answers one line per recipient):
 * 'delivered' only once that copy is durable. A user reached through several
 * recipients (alias + direct) gets one copy.
 */
import type { Mailbox, SpecialUse, Store, Uid, User } from '../store/types.js';
import { isStoreError } from '../store/errors.js';
import { ingest, type IngestOptions, type Ingested } from '../ingest.js';
import { AddressError } from './address.js';
import type { MessageSource } from './message-source.js';
import { resolveRecipient, type ResolveOptions } from './recipients.js';

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
  mailboxId: number;
  uid: Uid;
}

export type RecipientOutcome =
  | { recipient: string; status: 'delivered'; copies: StoredCopy[]; remote: string[] }
  | { recipient: string; status: 'unknown' | 'invalid' | 'overquota' | 'failed'; reason: string };

/**
 * Delivers one message to every recipient; never throws for a per-recipient problem.
 * The source stays the caller's (deliver reads it, never disposes it).
 */
export async function deliver(ctx: DeliveryContext, source: MessageSource, recipients: string[]): Promise<RecipientOutcome[]> {
  const plans = await Promise.all(recipients.map((r) => plan(ctx, r)));
  if (!plans.some((p) => 'users' in p)) return plans.map((p) => p as RecipientOutcome);
  let item = await ingest(ctx.store, source, ctx.ingest);
  const done = new Map<number, StoredCopy>();
  const outcomes: RecipientOutcome[] = [];
  for (const p of plans) {
    if (!('users' in p)) {
      outcomes.push(p);
      continue;
    }
    const result = await fileCopies(ctx, item, p.users, done);
    item = result.item;
    outcomes.push(result.error ? { recipient: p.recipient, ...result.error } : { recipient: p.recipient, status: 'delivered', copies: result.copies, remote: p.remote });
  }
  return outcomes;
}

type Plan = { recipient: string; users: User[]; remote: string[] } | RecipientOutcome;

async function plan(ctx: DeliveryContext, recipient: string): Promise<Plan> {
  try {
    const r = await resolveRecipient(ctx.store, recipient, ctx.resolve);
    if (!r) return { recipient, status: 'unknown', reason: `no such recipient here: ${recipient}` };
    return { recipient, users: r.users, remote: r.remote };
  } catch (err) {
    if (err instanceof AddressError) return { recipient, status: 'invalid', reason: err.message };
    throw err;
  }
}

interface FileResult {
  item: Ingested;
  copies: StoredCopy[];
  error?: { status: 'overquota' | 'failed'; reason: string };
}

async function fileCopies(ctx: DeliveryContext, item: Ingested, users: User[], done: Map<number, StoredCopy>): Promise<FileResult> {
  const store = ctx.store;
  const copies: StoredCopy[] = [];
  for (const user of users) {
    const already = done.get(user.id);
    if (already) {
      copies.push(already);
      continue;
    }
    const inbox = await targetMailbox(store, user, ctx.specialUse);
    if (!inbox) return { item, copies, error: { status: 'failed', reason: `${user.address} has no INBOX` } };
    try {
      const stored = await appendWithRetry(store, item, inbox.id, ctx.ignoreQuota ?? false);
      item = stored.item;
      const copy = { user: user.address, mailboxId: inbox.id, uid: stored.uid };
      done.set(user.id, copy);
      copies.push(copy);
    } catch (err) {
      if (isStoreError(err, 'overquota')) return { item, copies, error: { status: 'overquota', reason: `${user.address}: ${err.message}` } };
      throw err;
    }
  }
  return { item, copies };
}

async function targetMailbox(store: Store, user: User, specialUse: SpecialUse | undefined): Promise<Mailbox | null> {
  if (specialUse) {
    const special = (await store.listMailboxes(user.id)).find((m) => m.specialUse === specialUse);
    if (special) return special;
  }
  return store.getMailbox(user.id, 'INBOX');
}

async function appendWithRetry(store: Store, item: Ingested, mailboxId: number, ignoreQuota: boolean): Promise<{ item: Ingested; uid: Uid }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await store.appendMessage({ mailboxId, content: item.content, threadKeys: item.index.threadKeys, ignoreQuota });
      return { item, uid: res.row.uid };
    } catch (err) {
      // The content (or a blob) was released by a concurrent expunge between ingest and append.
      if (!isStoreError(err, 'notfound') || attempt >= 2) throw err;
      item = await item.fresh();
    }
  }
}
