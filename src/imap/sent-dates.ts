/**
 * A process-wide map from a content id to its sent date (the Date: header as the MIME index
 * parsed it, ms UTC; null when missing or unparseable), for SORT by DATE: with it and the
 * content ids of content-ids.ts, a repeated `SORT (REVERSE DATE)` on a big mailbox reads no
 * row and no index (the whole-mailbox index read was most of its cost). Content never
 * changes, so an entry is never stale. About 100 bytes an entry (the id string is shared
 * with the other caches when it came from them); the oldest entries go past the bound.
 */
import type { Store } from '../store/types.js';

/** As many as content-ids.ts keeps UIDs: about 30 MB when the id strings are not shared. */
const MAX_ENTRIES = 200_000;

const caches = new WeakMap<Store, Map<string, number | null>>();

function cacheOf(store: Store): Map<string, number | null> {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = new Map()));
  return c;
}

/**
 * The sent dates of `contentIds`, reading the indexes of those not known yet in one batched
 * read. Contents not stored (released meanwhile) are absent from the answer.
 */
export async function sentDatesOf(store: Store, contentIds: readonly string[]): Promise<Map<string, number | null>> {
  const cache = cacheOf(store);
  const out = new Map<string, number | null>();
  const missing: string[] = [];
  for (const id of contentIds) {
    const d = cache.get(id);
    if (d === undefined) missing.push(id);
    else out.set(id, d);
  }
  if (missing.length === 0) return out;
  for (const [id, { index }] of await store.getIndexes([...new Set(missing)])) {
    const d = index.sentDate ?? null;
    cache.set(id, d);
    out.set(id, d);
  }
  trim(cache);
  return out;
}

/** Drops the entries added first until the bound holds. */
function trim(cache: Map<string, number | null>): void {
  if (cache.size <= MAX_ENTRIES) return;
  for (const id of cache.keys()) {
    cache.delete(id);
    if (cache.size <= MAX_ENTRIES) return;
  }
}
