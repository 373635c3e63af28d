/**
 * STATUS counts (UNSEEN, DELETED, MESSAGES, SIZE) per mailbox and viewer, remembered with
 * the HIGHESTMODSEQ they belong to. Every change to a mailbox's rows (append, flags,
 * expunge, move, private flags) gives it a new MODSEQ (store invariant), so while the
 * mailbox row shows the same MODSEQ the counts cannot have changed: a client polling STATUS
 * on a 100,000-message mailbox costs one mailbox-row read, not a scan (Dovecot keeps such
 * counts in its index header). Process-wide, bounded, keyed by mailbox id and viewer; another
 * process's change moves the MODSEQ in the database, so it is seen like our own.
 */
import type { Id, Mailbox, MailboxCounts, Store } from '../store/types.js';

const MAX_ENTRIES = 10_000;

const remembered = new WeakMap<Store, Map<string, { modSeq: number; counts: MailboxCounts }>>();

/** The counts of `box` as `viewerId` sees them, `box` being a fresh read of the mailbox row. */
export async function statusCounts(store: Store, box: Mailbox, viewerId: Id): Promise<MailboxCounts> {
  let cache = remembered.get(store);
  if (!cache) remembered.set(store, (cache = new Map()));
  const key = `${box.id}/${viewerId}`;
  const hit = cache.get(key);
  if (hit && hit.modSeq === box.highestModSeq) return hit.counts;
  const counts = await store.mailboxCounts(box.id, viewerId);
  // The counts come from their own snapshot: keep them only when the MODSEQ did not move
  // around it, so they surely belong to that MODSEQ.
  const after = await store.getMailboxById(box.id);
  if (after && after.highestModSeq === box.highestModSeq) {
    cache.delete(key);
    cache.set(key, { modSeq: box.highestModSeq, counts });
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  }
  return counts;
}
