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
  /**
   * The decoded header lines of the search text (`Name: value`, one per line), for SEARCH;
   * absent when the entry came from a batched index read (FETCH), read on SEARCH's first use.
   */
  headerText?: string;
  /** The raw top-level header block, once read (FETCH of header fields is the commonest client request). */
  header?: Buffer;
  /** Bytes of top-level header sections (`HEADER.FIELDS (FROM TO …)`) by section spec, as filtered once: clients repeat the same list. */
  headerSections?: Map<string, Buffer>;
  /** FETCH ENVELOPE / BODY / BODYSTRUCTURE as formatted once (content never changes; most clients ask for the same messages again). */
  formatted?: Partial<Record<'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE', string>>;
  /** SEARCH FROM/TO/CC/BCC text of the envelope's addresses, lower-cased, once computed (search-eval.ts). */
  addresses?: Partial<Record<'from' | 'to' | 'cc' | 'bcc', string>>;
  /** SEARCH header keys: each field's lower-cased values, once split (search-eval.ts). */
  fields?: Map<string, string[]>;
}

interface Entry {
  meta: CachedContent;
  bytes: number;
}

const caches = new WeakMap<Store, { map: Map<string, Entry>; bytes: number }>();

/**
 * The cached entry of a content with its header text, without reading the store (undefined
 * when not cached, or cached from an index read without header text). Leaves the LRU order
 * alone: SEARCH peeks at every message of a mailbox, and moving each costs more than
 * reading back the rare entry dropped meanwhile.
 */
export function peekContent(store: Store, id: string): SearchableContent | undefined {
  const meta = cacheOf(store).map.get(id)?.meta;
  return meta?.headerText !== undefined ? (meta as SearchableContent) : undefined;
}

/** A cache entry with its header text read. */
export type SearchableContent = CachedContent & { headerText: string };

/** The index and header text of a content through the cache; null when it is not stored. */
export async function cachedContent(store: Store, id: string): Promise<SearchableContent | null> {
  const c = cacheOf(store);
  const hit = touch(c, id);
  if (hit?.meta.headerText !== undefined) return hit.meta as SearchableContent;
  const full = await store.getContent(id);
  if (!full) return null; // misses are not cached: the content may be stored later
  if (hit) {
    hit.meta.headerText = headerTextOf(full.searchText);
    return hit.meta as SearchableContent;
  }
  return insert(c, { id, index: full.index, headerText: headerTextOf(full.searchText) }) as SearchableContent;
}

/**
 * The indexes of many contents through the cache, the misses in one batched store read
 * that leaves the search text out (`Store.getIndexes`): FETCH of ENVELOPE, BODYSTRUCTURE or
 * header fields for 500 messages costs one round trip cold, not 500 reads of rows that
 * carry each message's whole decoded text. Contents not stored are absent from the map.
 */
export async function cachedIndexes(store: Store, ids: readonly string[]): Promise<Map<string, CachedContent>> {
  const c = cacheOf(store);
  const out = new Map<string, CachedContent>();
  const missing: string[] = [];
  for (const id of ids) {
    const hit = touch(c, id);
    if (hit) out.set(id, hit.meta);
    else missing.push(id);
  }
  if (missing.length === 0) return out;
  for (const [id, r] of await store.getIndexes(missing)) if (!out.has(id)) out.set(id, insert(c, { id, index: r.index }));
  return out;
}

/** The entry for `id`, moved to the young end of the LRU order. */
function touch(c: { map: Map<string, Entry> }, id: string): Entry | undefined {
  const hit = c.map.get(id);
  if (hit) {
    c.map.delete(id); // re-insert: Map order is the LRU order
    c.map.set(id, hit);
  }
  return hit;
}

/**
 * Puts a content this process just stored (APPEND) into the cache, with its header block
 * when the caller has the bytes, as Dovecot caches at save time: the FETCH of the new message's
 * headers that mail clients send next reads no blob, and a session that still shows the message
 * after another session expunged it can answer that FETCH from here (RFC 2180 4.1.1).
 */
export function seedContent(store: Store, content: { id: string; index: MessageIndex; searchText: string }, raw?: Buffer): void {
  const c = cacheOf(store);
  if (c.map.has(content.id)) return;
  const headerEnd = content.index.body.headerEnd;
  const header = raw && headerEnd <= raw.length && headerEnd <= 256 * 1024 ? Buffer.from(raw.subarray(0, headerEnd)) : undefined; // a copy: the literal's buffer may be large
  insert(c, { id: content.id, index: content.index, headerText: headerTextOf(content.searchText), header });
}

function cacheOf(store: Store): { map: Map<string, Entry>; bytes: number } {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = { map: new Map(), bytes: 0 }));
  return c;
}

function headerTextOf(searchText: string): string {
  const cut = searchText.indexOf('\n\n');
  return cut < 0 ? searchText : searchText.slice(0, cut);
}

function insert(c: { map: Map<string, Entry>; bytes: number }, meta: CachedContent): CachedContent {
  const bytes = 4096 + (meta.headerText?.length ?? 2048) * 2 + Math.min(meta.index.body.headerEnd, 64 * 1024); // rough: index, header text, header block
  c.map.set(meta.id, { meta, bytes });
  c.bytes += bytes;
  for (const [key, e] of c.map) {
    if (c.bytes <= MAX_BYTES) break;
    c.map.delete(key);
    c.bytes -= e.bytes;
  }
  return meta;
}
