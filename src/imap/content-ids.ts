/**
 * A process-wide map from a message (mailbox, UIDVALIDITY, UID) to its content id, for
 * SEARCH keys that read only content (FROM, SUBJECT, SENTSINCE, LARGER …): with it and the
 * content cache (content-cache.ts) such a search reads no row. Safe to keep because a UID
 * names one message for as long as the mailbox keeps its UIDVALIDITY (RFC 9051 2.3.1.1),
 * and a message's content never changes; an entry of a message expunged since is only
 * looked up for UIDs the caller's view still holds. Bounded in entries by dropping the
 * mailboxes used longest ago (the one in use stays whole: about 100 bytes per message).
 * FETCH of ENVELOPE, BODYSTRUCTURE or header fields uses it too (flags come from the
 * selected view), so a client's repeated message-list FETCH reads no rows.
 */
import type { Id, MessageRow, Store, Uid } from '../store/types.js';
import { UidCache } from './uid-cache.js';

const MAX_ENTRIES = 200_000;

/** UIDs per store read of the ones not known yet. */
const READ_BATCH = 5000;

const cache = new UidCache<string>(MAX_ENTRIES);

/** The content id of one message if known, without a store read (and without touching the LRU order). */
export function knownContentId(store: Store, mailboxId: Id, uidValidity: number, uid: number): string | undefined {
  return cache.peek(store, mailboxId, uidValidity)?.get(uid);
}

/** Records the content ids of rows read anyway (they come with every row). */
export function noteContentIds(store: Store, uidValidity: number, rows: readonly MessageRow[]): void {
  if (rows.length === 0) return;
  const box = cache.box(store, rows[0].mailboxId, uidValidity);
  for (const r of rows) if (r.mailboxId === rows[0].mailboxId) cache.set(store, box, r.uid, r.contentId);
  cache.trim(store, box);
}

/**
 * The content ids of `uids`, reading the rows of those not known yet. A UID whose row is
 * gone (expunged) is absent from the answer.
 */
export async function contentIdsOf(store: Store, view: { mailboxId: Id; uidValidity: number }, uids: readonly Uid[], viewerId: Id): Promise<Map<number, string>> {
  const box = cache.box(store, view.mailboxId, view.uidValidity);
  const out = new Map<number, string>();
  const missing: Uid[] = [];
  for (const uid of uids) {
    const id = box.get(uid);
    if (id === undefined) missing.push(uid);
    else out.set(uid, id);
  }
  for (let i = 0; i < missing.length; i += READ_BATCH) {
    const rows = await store.getMessages(view.mailboxId, missing.slice(i, i + READ_BATCH), viewerId);
    for (const r of rows) out.set(r.uid, r.contentId);
    noteContentIds(store, view.uidValidity, rows);
  }
  return out;
}
