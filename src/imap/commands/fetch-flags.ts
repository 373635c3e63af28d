// FETCH/UID FETCH of FLAGS and UID only   RFC9051 6.4.5, 6.4.9
// Answered from the selected view's compact state (selected.ts), with no store read per
// message: `UID FETCH 1:* (FLAGS)` of a 100,000-message mailbox is a loop over two typed
// arrays, each distinct flag list formatted once, written in large chunks with backpressure.
import type { FetchItem } from '../protocol/index.js';
import { flagsWithRecent, type MailboxView, type ViewMessage } from '../selected.js';
import type { ImapSession } from '../session.js';
import { copyBytes, writeInt } from '../ascii-bytes.js';

/** Bytes per write: a 100,000-message FETCH is about a dozen writes, memory stays flat. */
const CHUNK_BYTES = 256 * 1024;
/** The first write is smaller, so the client starts reading while the rest is formatted. */
const FIRST_CHUNK_BYTES = 16 * 1024;
const NO_BYTES = Buffer.alloc(0);
/** Up to this many distinct flag lists, each is formatted before the loop rather than when first met. */
const EAGER_FLAG_LISTS = 256;

/** True when every item is FLAGS or UID: nothing but what the view holds. */
export function onlyFlagsAndUid(items: readonly FetchItem[]): boolean {
  return items.every((i) => i.type === 'simple' && (i.attr === 'FLAGS' || i.attr === 'UID'));
}

/**
 * Writes the FETCH responses for the messages at index `spans` (flat `[from, to, …]`, index =
 * sequence number − 1, as `MailboxView.resolveSpans` gives, taken before this call). The
 * view first reads changes made elsewhere (not yet announced: the numbering stays valid,
 * RFC 9051 7.5.1), so the flags are as fresh as a store read would give.
 */
export async function fetchFlagsFromView(s: ImapSession, spans: readonly number[], items: readonly FetchItem[]): Promise<void> {
  const view = s.view();
  // A command starts with every message of the view announced (the last command's
  // announce), so the poll only appends, changes flags or marks pending expunges: the
  // indexes of the spans keep naming the same messages (a message expunged elsewhere
  // keeps its place, served with its last flags as RFC 2180 4.1.1 allows).
  await view.poll(s.services.store);
  const lines = new FlagLines(view, items, s.uidOnly, s.rev2);
  let out = Buffer.allocUnsafe(FIRST_CHUNK_BYTES);
  let pos = 0;
  for (let k = 0; k < spans.length && !s.isClosed; k += 2) {
    for (let i = spans[k]; i < spans[k + 1] && !s.isClosed; ) {
      const [end, next] = lines.fill(out, pos, i, spans[k + 1]);
      if (next < spans[k + 1]) {
        // full: send it; a line longer than a whole chunk (thousands of keywords) gets a buffer of its own
        if (end > 0) s.sendBytes(out.subarray(0, end));
        if (s.needsDrain()) await s.drain();
        out = Buffer.allocUnsafe(end === 0 ? lines.lineBound(next) : Math.max(CHUNK_BYTES, lines.lineBound(next)));
        pos = 0;
      } else pos = end;
      i = next;
    }
  }
  if (pos > 0 && !s.isClosed) s.sendBytes(out.subarray(0, pos));
}

/** Index spans of messages in the order given (one span each: `$` and PARTIAL results keep their order). */
export function spansOf(msgs: readonly ViewMessage[]): number[] {
  const spans: number[] = [];
  for (const m of msgs) spans.push(m.seq - 1, m.seq);
  return spans;
}

/**
 * Formats FETCH lines of FLAGS and UID straight into bytes from the view's columns: each
 * distinct flag list is encoded once, the fixed parts are bytes made once, and numbers are
 * written digit by digit, so the loop allocates nothing per message (at 100,000 messages
 * per FETCH, strings, objects and Buffer.copy calls per line were most of the time).
 */
class FlagLines {
  /** Per item: true for UID, false for FLAGS, in the order asked. */
  private readonly uidItem: boolean[];
  private readonly head: Buffer;
  /**
   * `FLAGS (...)` by flag list index * 2 + (recent ? 1 : 0), null until first needed. Filled
   * with null up front, never with holes: an array whose elements kind changes under the
   * loop sends the optimized code back to the interpreter at each FETCH.
   */
  private readonly formatted: (Buffer | null)[] = [];
  /** \Recent only for rev1, and only when some message is recent (usually none is). */
  private readonly recentToo: boolean;

  constructor(
    private readonly view: MailboxView,
    items: readonly FetchItem[],
    private readonly uidOnly: boolean,
    private readonly rev2: boolean,
  ) {
    this.uidItem = items.map((i) => i.type === 'simple' && i.attr === 'UID');
    this.head = Buffer.from(uidOnly ? ' UIDFETCH (' : ' FETCH (', 'latin1'); // RFC 9586 3.1: `* uid UIDFETCH (...)`
    this.recentToo = !rev2 && view.recentCount() > 0;
    const sets = view.flagSetCount();
    this.grow(2 * sets);
    // A mailbox has a handful of distinct lists: formatted at once, the loop's optimized
    // code never takes the path that formats (taking it the first time also deoptimizes).
    if (sets <= EAGER_FLAG_LISTS) for (let set = 0; set < sets; set++) for (const recent of this.recentToo ? [false, true] : [false]) this.format(set, recent, set * 2 + (recent ? 1 : 0));
  }

  private grow(size: number): void {
    while (this.formatted.length < size) this.formatted.push(null);
  }

  private flagsBytes(seq: number, uid: number): Buffer {
    const set = this.view.flagSetIdOfSeq(seq);
    const recent = this.recentToo && this.view.isRecent(uid);
    const key = set * 2 + (recent ? 1 : 0);
    return (key < this.formatted.length ? this.formatted[key] : null) ?? this.format(set, recent, key);
  }

  private format(set: number, recent: boolean, key: number): Buffer {
    this.grow(key + 1);
    return (this.formatted[key] = Buffer.from(`FLAGS ${flagsWithRecent(this.view.flagsOfSet(set), recent, this.rev2)}`, 'utf8'));
  }

  /** At least the bytes of the line of index `i`: fixed parts, numbers, the interned flag list. */
  lineBound(i: number): number {
    const flags = this.uidItem.includes(false) ? this.flagsBytes(i + 1, this.view.uidAt(i + 1)) : NO_BYTES;
    return 48 + this.uidItem.length * (flags.length + 24);
  }

  /** Writes the lines of indexes from..to-1 that fit in `out` after `pos`; returns where they end and the next index. */
  fill(out: Buffer, pos: number, from: number, to: number): [number, number] {
    const { uidItem, head, view, uidOnly } = this;
    const flagsWanted = uidItem.includes(false);
    let i = from;
    for (; i < to; i++) {
      const seq = i + 1;
      const uid = view.uidAt(seq);
      const flags = flagsWanted ? this.flagsBytes(seq, uid) : NO_BYTES;
      // room for the line's fixed parts and numbers; the flag list is its interned length
      if (pos + 48 + uidItem.length * (flags.length + 24) > out.length) break;
      out[pos++] = 0x2a; // '*'
      out[pos++] = 0x20;
      pos = writeInt(out, pos, uidOnly ? uid : seq);
      pos = copyBytes(out, pos, head);
      for (let a = 0; a < uidItem.length; a++) {
        if (a > 0) out[pos++] = 0x20;
        if (uidItem[a]) {
          pos = copyBytes(out, pos, UID_ITEM);
          pos = writeInt(out, pos, uid);
        } else pos = copyBytes(out, pos, flags);
      }
      out[pos++] = 0x29; // ')'
      out[pos++] = 0x0d;
      out[pos++] = 0x0a;
    }
    return [pos, i];
  }
}

const UID_ITEM = Buffer.from('UID ', 'latin1');
