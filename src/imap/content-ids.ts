/**
 * A process-wide map from a message (mailbox, UIDVALIDITY, UID) to its content id, for
 * SEARCH keys that read only content (FROM, SUBJECT, SENTSINCE, LARGER …): with it and the
 * content cache (content-cache.ts) such a search reads no row. Safe to keep because a UID
 * names one message for as long as the mailbox keeps its UIDVALIDITY (RFC 9051 2.3.1.1),
 * and a message's content never changes; a key that is stale because the message was
 * expunged only leads to a content the caller checks against its view. Bounded in entries,
 * the oldest dropped first.
 */
import type { Id, MessageRow, Store, Uid } from '../store/types.js';

const MAX_ENTRIES = 100_000;

/** UIDs per store read of the ones not known yet. */
const READ_BATCH = 5000;

const caches = new WeakMap<Store, Map<string, string>>();

function cacheOf(store: Store): Map<string, string> {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = new Map()));
  return c;
}

const keyOf = (mailboxId: Id, uidValidity: number, uid: number) => `${mailboxId}/${uidValidity}/${uid}`;

/** Records the content ids of rows read anyway (they come with every row). */
export function noteContentIds(store: Store, uidValidity: number, rows: readonly MessageRow[]): void {
  const c = cacheOf(store);
  for (const r of rows) c.set(keyOf(r.mailboxId, uidValidity, r.uid), r.contentId);
  trim(c);
}

/**
 * The content ids of `uids`, reading the rows of those not known yet. A UID whose row is
 * gone (expunged) is absent from the answer.
 */
export async function contentIdsOf(store: Store, box: { mailboxId: Id; uidValidity: number }, uids: readonly Uid[], viewerId: Id): Promise<Map<number, string>> {
  const c = cacheOf(store);
  const out = new Map<number, string>();
  const missing: Uid[] = [];
  for (const uid of uids) {
    const id = c.get(keyOf(box.mailboxId, box.uidValidity, uid));
    if (id === undefined) missing.push(uid);
    else out.set(uid, id);
  }
  for (let i = 0; i < missing.length; i += READ_BATCH) {
    const rows = await store.getMessages(box.mailboxId, missing.slice(i, i + READ_BATCH), viewerId);
    for (const r of rows) out.set(r.uid, r.contentId);
    noteContentIds(store, box.uidValidity, rows);
  }
  return out;
}

function trim(c: Map<string, string>): void {
  if (c.size <= MAX_ENTRIES) return;
  for (const key of c.keys()) {
    c.delete(key);
    if (c.size <= MAX_ENTRIES) break;
  }
}
