/**
 * Read-ahead for RETR. POP3 clients download in order (RETR 1, 2, 3 …), so while one
 * message goes out the next one's bytes are read, and its RETR starts writing at once
 * instead of waiting for the blob file's open, read and close (three trips through the
 * libuv pool, each a wait for a CPU on a busy machine).
 *
 * Invariants: at most one message per session is held, and only one of at most
 * READ_AHEAD_MAX octets; content is immutable, so bytes read ahead are the bytes a RETR
 * would read; a failed read is forgotten (never an unhandled rejection) and that RETR
 * reads the usual way.
 */
import type { Readable } from 'node:stream';
import type { Store } from '../store/types.js';

/** Larger messages stream as they are read (a whole one in memory per session would be too much). */
export const READ_AHEAD_MAX = 1024 * 1024;

export class ReadAhead {
  private held: { contentId: string; chunks: Promise<Buffer[] | null> } | null = null;

  constructor(private readonly store: Pick<Store, 'openContent'>) {}

  /** Starts reading a content that a RETR will probably ask for next; replaces what was held. */
  start(contentId: string, octets: number): void {
    if (octets > READ_AHEAD_MAX) return;
    this.held = { contentId, chunks: this.read(contentId) };
  }

  /** The chunks read ahead for `contentId` (null when there are none or the read failed); forgets them either way. */
  async take(contentId: string): Promise<Buffer[] | null> {
    const held = this.held;
    this.held = null;
    return held && held.contentId === contentId ? held.chunks : null;
  }

  /** Drops what is held (the session ends). */
  clear(): void {
    this.held = null;
  }

  private async read(contentId: string): Promise<Buffer[] | null> {
    try {
      const chunks: Buffer[] = [];
      for await (const c of (await this.store.openContent(contentId)) as Readable) chunks.push(c as Buffer);
      return chunks;
    } catch {
      return null; // the RETR reads again and reports what it finds
    }
  }
}
