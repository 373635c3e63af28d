/**
 * A process-wide map from a content id to what THREAD needs of it (sent date, decoded
 * Subject, Message-ID, In-Reply-To, References), small enough to hold a whole big mailbox
 * (about 400 bytes an entry, 64 MB at most; the content cache holds a tenth of a
 * 100,000-message INBOX and was read back message by message at every THREAD). References
 * is not in the MIME index, so a content not known yet is read once through the content
 * cache (its header lines).
 * Content never changes, so an entry is never stale; the oldest entries go past the bound.
 */
import { headerToText } from '../mime/decode.js';
import type { Store } from '../store/types.js';
import { cachedContent } from './content-cache.js';

/** Estimated bytes held in all: the bench's 100,000-message INBOX is about 42 MB; long References lists count in full. */
const MAX_BYTES = 64 * 1024 * 1024;

/** Content reads asked at once on a first THREAD: the store worker answers them back to back instead of one round trip each. */
const READS_IN_FLIGHT = 32;

export interface ThreadHeaders {
  /** The Date: header, ms UTC; null when missing or unparseable (threading then uses INTERNALDATE). */
  sentDate: number | null;
  subject: string;
  messageId: string | null;
  inReplyTo: string | null;
  references: string | null;
}

interface Cache {
  map: Map<string, ThreadHeaders>;
  bytes: number;
}

const caches = new WeakMap<Store, Cache>();

function cacheOf(store: Store): Cache {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = { map: new Map(), bytes: 0 }));
  return c;
}

/** Rough bytes of one entry: the id key, the strings (UTF-16) and the objects around them. */
function sizeOf(id: string, h: ThreadHeaders): number {
  return 200 + 2 * (id.length + h.subject.length + (h.messageId?.length ?? 0) + (h.inReplyTo?.length ?? 0) + (h.references?.length ?? 0));
}

/**
 * The thread headers of `contentIds`; `onRead(done, total)` reports the reads of contents not
 * known yet (the slow part). Contents not stored (released meanwhile) are absent from the answer.
 */
export async function threadHeadersOf(store: Store, contentIds: readonly string[], onRead: (done: number, total: number) => void): Promise<Map<string, ThreadHeaders>> {
  const cache = cacheOf(store);
  const out = new Map<string, ThreadHeaders>();
  const missing: string[] = [];
  for (const id of contentIds) {
    const h = cache.map.get(id);
    if (h) out.set(id, h);
    else if (!out.has(id)) missing.push(id);
  }
  const unique = [...new Set(missing)];
  for (let i = 0; i < unique.length; i += READS_IN_FLIGHT) {
    onRead(i, unique.length);
    const batch = unique.slice(i, i + READS_IN_FLIGHT);
    const metas = await Promise.all(batch.map((id) => cachedContent(store, id)));
    for (const meta of metas) {
      if (!meta) continue;
      const env = meta.index.envelope;
      const h: ThreadHeaders = {
        sentDate: meta.index.sentDate ?? null,
        subject: env.subject ? headerToText(env.subject) : '',
        messageId: env.messageId ?? null,
        inReplyTo: env.inReplyTo ?? null,
        references: referencesOf(meta.headerText),
      };
      if (!cache.map.has(meta.id)) {
        cache.map.set(meta.id, h);
        cache.bytes += sizeOf(meta.id, h);
      }
      out.set(meta.id, h);
    }
  }
  trim(cache);
  return out;
}

/** The first References line of the decoded header lines. */
function referencesOf(headerText: string): string | null {
  for (const line of headerText.split('\n')) {
    if (line.length > 11 && line.slice(0, 11).toLowerCase() === 'references:') return line.slice(11);
  }
  return null;
}

/** Drops the entries added first until the bound holds. */
function trim(cache: Cache): void {
  for (const [id, h] of cache.map) {
    if (cache.bytes <= MAX_BYTES) return;
    cache.map.delete(id);
    cache.bytes -= sizeOf(id, h);
  }
}
