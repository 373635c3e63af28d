// FETCH/UID FETCH of FLAGS and UID only   RFC9051 6.4.5, 6.4.9
// Answered from the selected view's compact state (selected.ts), with no store read per
// message: `UID FETCH 1:* (FLAGS)` of a 100,000-message mailbox is a loop over two typed
// arrays, each distinct flag list formatted once, written in large chunks with backpressure.
import type { FetchItem } from '../protocol/index.js';
import { flagsWithRecent, type ViewMessage } from '../selected.js';
import type { ImapSession } from '../session.js';

/** Bytes per write: a 100,000-message FETCH is about a dozen writes, memory stays flat. */
const CHUNK_BYTES = 256 * 1024;
const NO_BYTES = Buffer.alloc(0);

/** True when every item is FLAGS or UID: nothing but what the view holds. */
export function onlyFlagsAndUid(items: readonly FetchItem[]): boolean {
  return items.every((i) => i.type === 'simple' && (i.attr === 'FLAGS' || i.attr === 'UID'));
}

/**
 * Writes the FETCH responses for `msgs` from the view. The view first reads changes made
 * elsewhere (not yet announced: the numbering of `msgs` stays valid, RFC 9051 7.5.1), so
 * the flags are as fresh as a store read would give.
 */
export async function fetchFlagsFromView(s: ImapSession, msgs: readonly ViewMessage[], items: readonly FetchItem[]): Promise<void> {
  const view = s.view();
  await view.poll(s.services.store);
  // Each distinct flag list is encoded once; responses are written as bytes straight into
  // a chunk (no string per line to build, flatten and encode: that was most of the time).
  const formatted: Buffer[] = []; // by flag list index * 2 + recent
  // \Recent only for rev1, and only when some message is recent (usually none is)
  const recentToo = !s.rev2 && view.recentCount() > 0;
  const flagsBytes = (seq: number, uid: number): Buffer => {
    const set = view.flagSetIdOfSeq(seq);
    const recent = recentToo && view.isRecent(uid);
    const key = set * 2 + (recent ? 1 : 0);
    return (formatted[key] ??= Buffer.from(`FLAGS ${flagsWithRecent(view.flagsOfSet(set), recent, s.rev2)}`, 'utf8'));
  };
  const uidItem = items.map((i) => i.type === 'simple' && i.attr === 'UID');
  const flagsWanted = uidItem.includes(false);
  let out = new ChunkWriter(CHUNK_BYTES);
  for (let k = 0; k < msgs.length && !s.isClosed; k++) {
    const m = msgs[k];
    // room for the line's fixed parts and numbers; the flag list is its interned length
    const flags = flagsWanted ? flagsBytes(m.seq, m.uid) : NO_BYTES;
    const need = 48 + uidItem.length * (flags.length + 24);
    if (!out.fits(need)) {
      s.sendBytes(out.take());
      if (s.needsDrain()) await s.drain();
      out = new ChunkWriter(Math.max(CHUNK_BYTES, need));
    }
    out.ascii('* ');
    out.int(s.uidOnly ? m.uid : m.seq); // RFC 9586 3.1: `* uid UIDFETCH (...)`
    out.ascii(s.uidOnly ? ' UIDFETCH (' : ' FETCH (');
    for (let a = 0; a < uidItem.length; a++) {
      if (a > 0) out.byte(0x20);
      if (uidItem[a]) {
        out.ascii('UID ');
        out.int(m.uid);
      } else out.bytes(flags);
    }
    out.ascii(')\r\n');
  }
  if (out.length > 0 && !s.isClosed) s.sendBytes(out.take());
}

/** Appends ASCII, integers and bytes to one preallocated buffer. */
class ChunkWriter {
  private readonly buf: Buffer;
  length = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  fits(n: number): boolean {
    return this.length + n <= this.buf.length;
  }

  byte(b: number): void {
    this.buf[this.length++] = b;
  }

  ascii(text: string): void {
    for (let i = 0; i < text.length; i++) this.buf[this.length++] = text.charCodeAt(i);
  }

  int(n: number): void {
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    this.length += digits;
    for (let i = this.length - 1; digits-- > 0; i--, n = Math.floor(n / 10)) this.buf[i] = 0x30 + (n % 10);
  }

  bytes(b: Buffer): void {
    b.copy(this.buf, this.length);
    this.length += b.length;
  }

  /** The bytes written (the writer is done with them). */
  take(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
