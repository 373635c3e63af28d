/**
 * A process-wide cache of parsed content metadata (MIME index + search text) for FETCH and
 * SEARCH. Content is immutable and addressed by its sha256, so a cached entry can never be
 * stale; the cache only saves the row read and JSON parse that dominate SEARCH and
 * FETCH ENVELOPE on big mailboxes. Bounded by an estimate of the bytes it holds (LRU).
 */
import type { ContentMeta, Store } from '../store/types.js';

const MAX_BYTES = 64 * 1024 * 1024;

interface Entry {
  meta: ContentMeta;
  bytes: number;
}

const caches = new WeakMap<Store, { map: Map<string, Entry>; bytes: number }>();

/** `store.getContent` through the cache (misses are not cached: content may arrive later). */
export async function cachedContent(store: Store, id: string): Promise<ContentMeta | null> {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = { map: new Map(), bytes: 0 }));
  const hit = c.map.get(id);
  if (hit) {
    c.map.delete(id); // re-insert: Map order is the LRU order
    c.map.set(id, hit);
    return hit.meta;
  }
  const meta = await store.getContent(id);
  if (!meta) return null;
  const bytes = meta.searchText.length * 2 + 4096 + JSON.stringify(meta.index.body).length; // rough, errs high
  if (bytes > MAX_BYTES / 8) return meta;
  c.map.set(id, { meta, bytes });
  c.bytes += bytes;
  for (const [key, e] of c.map) {
    if (c.bytes <= MAX_BYTES) break;
    c.map.delete(key);
    c.bytes -= e.bytes;
  }
  return meta;
}
