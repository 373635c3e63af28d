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

const MAX_ENTRIES = 200_000;

/** UIDs per store read of the ones not known yet. */
const READ_BATCH = 5000;

interface Cache {
  /** `${mailboxId}/${uidValidity}` → UID → content id; Map order is the LRU order of mailboxes. */
  boxes: Map<string, Map<number, string>>;
  entries: number;
}

const caches = new WeakMap<Store, Cache>();

function cacheOf(store: Store): Cache {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = { boxes: new Map(), entries: 0 }));
  return c;
}

function boxOf(c: Cache, mailboxId: Id, uidValidity: number): Map<number, string> {
  const key = `${mailboxId}/${uidValidity}`;
  let box = c.boxes.get(key);
  if (box) c.boxes.delete(key); // re-inserted below: most recently used last
  else box = new Map();
  c.boxes.set(key, box);
  return box;
}

/** The content id of one message if known, without a store read (and without touching the LRU order). */
export function knownContentId(store: Store, mailboxId: Id, uidValidity: number, uid: number): string | undefined {
  return cacheOf(store).boxes.get(`${mailboxId}/${uidValidity}`)?.get(uid);
}

/** Records the content ids of rows read anyway (they come with every row). */
export function noteContentIds(store: Store, uidValidity: number, rows: readonly MessageRow[]): void {
  if (rows.length === 0) return;
  const c = cacheOf(store);
  const box = boxOf(c, rows[0].mailboxId, uidValidity);
  for (const r of rows) {
    if (r.mailboxId !== rows[0].mailboxId || box.has(r.uid)) continue;
    box.set(r.uid, r.contentId);
    c.entries++;
  }
  trim(c, box);
}

/**
 * The content ids of `uids`, reading the rows of those not known yet. A UID whose row is
 * gone (expunged) is absent from the answer.
 */
export async function contentIdsOf(store: Store, view: { mailboxId: Id; uidValidity: number }, uids: readonly Uid[], viewerId: Id): Promise<Map<number, string>> {
  const box = boxOf(cacheOf(store), view.mailboxId, view.uidValidity);
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

/** Drops whole mailboxes, least recently used first, until the bound holds (never `keep`, the one in use). */
function trim(c: Cache, keep: Map<number, string>): void {
  for (const [key, box] of c.boxes) {
    if (c.entries <= MAX_ENTRIES) return;
    if (box === keep) continue;
    c.boxes.delete(key);
    c.entries -= box.size;
  }
}
