/**
 * Content layouts remembered on the main thread (WorkerStore.openContent): a content id
 * names fixed bytes, so its segment list, and the bytes of segments kept inline in the
 * database, never change. A RETR or FETCH BODY[] of a remembered content then makes no
 * worker round trip (postMessage both ways wakes two threads and runs a query); under a
 * POP3 load that was a sixth of the main thread's samples for the small (inline) messages.
 *
 * Invariants: at most `maxEntries` layouts and at most `maxInlineBytes` bytes of inline
 * segments are held (the oldest go first: Maps iterate in insertion order); a layout whose
 * own inline bytes pass the byte bound is never held. A layout with inline bytes cannot
 * notice its content's deletion on read (no file goes missing), so the store tells: a
 * commit of this process that deletes contents drops theirs before its call resolves
 * (`gone`), and a commit by another process (the poller's RECHECK) drops all of them.
 */
import type { ContentLayout } from './wire.js';

/** Bytes of inline segments a layout carries. */
function inlineBytesOf(layout: ContentLayout): number {
  let n = 0;
  for (const seg of layout.segments) if (seg.bytes) n += seg.bytes.byteLength;
  return n;
}

export class LayoutCache {
  private readonly layouts = new Map<string, { layout: ContentLayout; inlineBytes: number }>();
  private inlineBytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxInlineBytes: number,
  ) {}

  get(id: string): ContentLayout | undefined {
    return this.layouts.get(id)?.layout;
  }

  set(id: string, layout: ContentLayout): void {
    const bytes = inlineBytesOf(layout);
    if (bytes > this.maxInlineBytes) return;
    this.delete(id);
    while (this.layouts.size > 0 && (this.layouts.size >= this.maxEntries || this.inlineBytes + bytes > this.maxInlineBytes)) {
      this.delete(this.layouts.keys().next().value!);
    }
    this.layouts.set(id, { layout, inlineBytes: bytes });
    this.inlineBytes += bytes;
  }

  delete(id: string): void {
    const held = this.layouts.get(id);
    if (!held) return;
    this.layouts.delete(id);
    this.inlineBytes -= held.inlineBytes;
  }

  /**
   * Forgets every layout that carries inline bytes. A file segment that went is noticed on
   * read (the stream asks again); inline bytes are never missing, so when another process may
   * have deleted contents, those layouts are dropped.
   */
  dropInline(): void {
    for (const [id, held] of this.layouts) if (held.inlineBytes > 0) this.delete(id);
  }

  get size(): number {
    return this.layouts.size;
  }

  /** Inline bytes held now (tests, metrics). */
  get heldInlineBytes(): number {
    return this.inlineBytes;
  }
}
