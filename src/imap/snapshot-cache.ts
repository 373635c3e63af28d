/**
 * The last compact state of each recently selected mailbox (per viewer: private flags),
 * with the HIGHESTMODSEQ it belongs to, process-wide. SELECT of a 100,000-message mailbox
 * used to aggregate every row in the database (about 40 ms of store time) each time; with
 * this it copies the remembered arrays and reads only the changes since (`changesSince`,
 * on the (mailbox_id, modseq) index), as Dovecot reads its index file and the log tail.
 *
 * Entries are immutable once stored (views take copies), keyed by mailbox id, viewer and
 * UIDVALIDITY (a re-created mailbox never matches an old entry), LRU, bounded by bytes.
 */
import type { Id, ModSeq, Store } from '../store/types.js';

/** Messages' worth of arrays kept in all (8 bytes each): 4 M messages, 32 MB. */
const MAX_MESSAGES = 4_000_000;

/** Mailboxes kept at most (10,000 IDLE sessions on their own small INBOXes stay cheap). */
const MAX_ENTRIES = 10_000;

export interface CachedSnapshot {
  uidValidity: number;
  modSeq: ModSeq;
  uids: Uint32Array;
  flagSet: Uint32Array;
  flagSets: readonly (readonly string[])[];
}

interface Cache {
  map: Map<string, CachedSnapshot>;
  messages: number;
}

const caches = new WeakMap<Store, Cache>();

function cacheOf(store: Store): Cache {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = { map: new Map(), messages: 0 }));
  return c;
}

const keyOf = (mailboxId: Id, viewerId: Id) => `${mailboxId}/${viewerId}`;

/** The remembered state of the mailbox for this viewer and UIDVALIDITY, if any (read only). */
export function cachedSnapshot(store: Store, mailboxId: Id, viewerId: Id, uidValidity: number): CachedSnapshot | undefined {
  const c = cacheOf(store);
  const key = keyOf(mailboxId, viewerId);
  const hit = c.map.get(key);
  if (!hit) return undefined;
  c.map.delete(key); // re-insert: Map order is the LRU order
  c.map.set(key, hit);
  return hit.uidValidity === uidValidity ? hit : undefined;
}

/** Remembers `snap` (the caller hands over arrays nobody modifies later) unless an entry at least as new is there. */
export function rememberSnapshot(store: Store, mailboxId: Id, viewerId: Id, snap: CachedSnapshot): void {
  const c = cacheOf(store);
  const key = keyOf(mailboxId, viewerId);
  const old = c.map.get(key);
  if (old && old.uidValidity === snap.uidValidity && old.modSeq >= snap.modSeq) return;
  if (old) {
    c.map.delete(key);
    c.messages -= old.uids.length;
  }
  c.map.set(key, snap);
  c.messages += snap.uids.length;
  for (const [k, e] of c.map) {
    if (c.messages <= MAX_MESSAGES && c.map.size <= MAX_ENTRIES) break;
    c.map.delete(k);
    c.messages -= e.uids.length;
  }
}
