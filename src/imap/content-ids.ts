/**
 * Which content each message has, process-wide: (mailbox, UIDVALIDITY, UID) → content id.
 * A message's content never changes and a UID is never reused within a UIDVALIDITY, so an
 * entry can never be stale. FETCH of ENVELOPE, BODYSTRUCTURE or header fields needs nothing
 * else of the message's row (flags come from the selected view), so with this a mail
 * client's repeated message-list FETCH of 500 messages reads no rows from the store.
 * Bounded (oldest first out); filled from every row FETCH reads.
 */
import type { Id, MessageRow, Store } from '../store/types.js';

/** About 130 bytes each: some 26 MB at most. */
const MAX_ENTRIES = 200_000;

const caches = new WeakMap<Store, Map<string, string>>();

function cacheOf(store: Store): Map<string, string> {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = new Map()));
  return c;
}

const keyOf = (mailboxId: Id, uidValidity: number, uid: number) => `${mailboxId}/${uidValidity}/${uid}`;

export function knownContentId(store: Store, mailboxId: Id, uidValidity: number, uid: number): string | undefined {
  return cacheOf(store).get(keyOf(mailboxId, uidValidity, uid));
}

export function noteContentIds(store: Store, uidValidity: number, rows: readonly MessageRow[]): void {
  const c = cacheOf(store);
  for (const r of rows) c.set(keyOf(r.mailboxId, uidValidity, r.uid), r.contentId);
  for (const key of c.keys()) {
    if (c.size <= MAX_ENTRIES) break;
    c.delete(key);
  }
}
