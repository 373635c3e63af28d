/**
 * A process-wide map from a message (mailbox, UIDVALIDITY, UID) to what SORT and THREAD
 * order by (INTERNALDATE, sent date, size, and the thread ids when THREAD asked), filled
 * from `Store.sortKeys`: the first SORT or THREAD of a mailbox is one store query over its
 * rows (the keys are stored with each row, store/core/sort-keys.ts), a repeated one reads
 * nothing, and after new mail only the UIDs from the oldest one not known yet are read.
 * Safe to keep because a UID names one message, with immutable content and INTERNALDATE,
 * for as long as the mailbox keeps its UIDVALIDITY (RFC 9051 2.3.1.1); entries of messages
 * expunged since are only looked up for UIDs the caller's view still holds. Bounded in
 * entries by dropping the mailboxes used longest ago (the one in use stays whole).
 */
import { headerToText } from '../mime/decode.js';
import type { ThreadIds } from '../store/thread-ids.js';
import type { Id, Store, Uid } from '../store/types.js';
import { UidCache } from './uid-cache.js';

/** About 300 bytes an entry with thread ids, 60 without: at most ~90 MB in the worst case. */
const MAX_ENTRIES = 300_000;

export interface MessageKeys {
  internalDate: number;
  /** The Date: header, ms UTC; null when missing or unparseable. */
  sentDate: number | null;
  size: number;
  /** Subject decoded (RFC 2047), once per entry. */
  thread?: ThreadIds;
}

const cache = new UidCache<MessageKeys>(MAX_ENTRIES);

/**
 * The keys of `uids` (with thread ids when `thread`), reading in one store query those
 * of every UID from the lowest one not known yet. A UID whose row is gone is absent.
 */
export async function sortKeysOf(store: Store, view: { mailboxId: Id; uidValidity: number }, uids: readonly number[], thread: boolean): Promise<Map<number, MessageKeys>> {
  const box = cache.box(store, view.mailboxId, view.uidValidity);
  let from = Infinity;
  for (const u of uids) {
    const k = box.get(u);
    if ((!k || (thread && !k.thread)) && u < from) from = u;
  }
  if (from !== Infinity) {
    const rows = await store.sortKeys(view.mailboxId, from as Uid, thread);
    for (let i = 0; i < rows.uids.length; i++) {
      const sent = rows.sentDates[i];
      const keys: MessageKeys = { internalDate: rows.internalDates[i], sentDate: Number.isNaN(sent) ? null : sent, size: rows.sizes[i] };
      const had = box.get(rows.uids[i]);
      if (rows.thread) keys.thread = decoded(rows.thread[i]);
      else if (had?.thread) keys.thread = had.thread;
      cache.set(store, box, rows.uids[i], keys);
    }
    cache.trim(store, box);
  }
  const out = new Map<number, MessageKeys>();
  for (const u of uids) {
    const k = box.get(u);
    if (k) out.set(u, k);
  }
  return out;
}

/** The ids with the subject decoded, as THREAD compares it (the store keeps it as the header has it). */
function decoded(t: ThreadIds): ThreadIds {
  return t.subject === '' ? t : { ...t, subject: headerToText(t.subject) };
}
