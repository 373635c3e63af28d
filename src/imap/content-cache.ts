/**
 * A process-wide cache of what FETCH and SEARCH need most from content metadata: the MIME
 * index and the header part of the search text. Content is immutable and addressed by its
 * sha256, so an entry can never be stale; the cache saves the row read and JSON parse that
 * dominate SEARCH FROM/SUBJECT and FETCH ENVELOPE on big mailboxes. Body text (SEARCH
 * BODY/TEXT) is read from the store each time, so entries stay small. LRU, bounded by an
 * estimate of the bytes held.
 */
import type { Store } from '../store/types.js';
import type { MessageIndex } from '../mime/types.js';

const MAX_BYTES = 64 * 1024 * 1024;

/** What the cache keeps of one content. */
export interface CachedContent {
  id: string;
  index: MessageIndex;
  /** The decoded header lines of the search text (`Name: value`, one per line). */
  headerText: string;
  /** The raw top-level header block, once read (FETCH of header fields is the commonest client request). */
  header?: Buffer;
  /** SEARCH FROM/TO/CC/BCC text of the envelope's addresses, lower-cased, once computed (search-eval.ts). */
  addresses?: Partial<Record<'from' | 'to' | 'cc' | 'bcc', string>>;
}

interface Entry {
  meta: CachedContent;
  bytes: number;
}

const caches = new WeakMap<Store, { map: Map<string, Entry>; bytes: number }>();

/** The index and header text of a content through the cache; null when it is not stored. */
export async function cachedContent(store: Store, id: string): Promise<CachedContent | null> {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = { map: new Map(), bytes: 0 }));
  const hit = c.map.get(id);
  if (hit) {
    c.map.delete(id); // re-insert: Map order is the LRU order
    c.map.set(id, hit);
    return hit.meta;
  }
  const full = await store.getContent(id);
  if (!full) return null; // misses are not cached: the content may be stored later
  const cut = full.searchText.indexOf('\n\n');
  const meta: CachedContent = { id, index: full.index, headerText: cut < 0 ? full.searchText : full.searchText.slice(0, cut) };
  const bytes = 4096 + meta.headerText.length * 2 + Math.min(meta.index.body.headerEnd, 64 * 1024); // rough: index, header text, header block
  c.map.set(id, { meta, bytes });
  c.bytes += bytes;
  for (const [key, e] of c.map) {
    if (c.bytes <= MAX_BYTES) break;
    c.map.delete(key);
    c.bytes -= e.bytes;
  }
  return meta;
}
