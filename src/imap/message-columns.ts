/**
 * The per-message state of a selected mailbox as parallel typed arrays in sequence order
 * (index i = sequence number i + 1): the UID and the index of its flag list in a
 * `FlagTable`. No object per message, so a 100,000-message INBOX costs two 400 KB arrays
 * and 10,000 sessions on small mailboxes cost almost nothing. A further column (e.g. a
 * per-message MODSEQ for CONDSTORE) is one more array kept in step by `push` and `remove`.
 *
 * Invariant: UIDs strictly ascending (the store hands them out in order, never reused).
 */
import type { Uid } from '../store/types.js';

export class MessageColumns {
  private uidCol: Uint32Array;
  private flagCol: Uint32Array;
  private size: number;

  /** Takes ownership of the arrays (same length, UIDs ascending). */
  constructor(uids: Uint32Array, flagSets: Uint32Array) {
    this.uidCol = uids;
    this.flagCol = flagSets;
    this.size = uids.length;
  }

  get length(): number {
    return this.size;
  }

  uidAt(i: number): Uid {
    return this.uidCol[i] as Uid;
  }

  flagSetAt(i: number): number {
    return this.flagCol[i];
  }

  setFlagSet(i: number, set: number): void {
    this.flagCol[i] = set;
  }

  lastUid(): number {
    return this.size > 0 ? this.uidCol[this.size - 1] : 0;
  }

  /** The UIDs in sequence order, as a view (valid until the next push or remove). */
  uids(): Uint32Array {
    return this.uidCol.subarray(0, this.size);
  }

  /** The flag-list indexes in sequence order, as a view (valid until the next push or remove). */
  flagSets(): Uint32Array {
    return this.flagCol.subarray(0, this.size);
  }

  /** Index of `uid` (binary search), -1 when absent. */
  indexOf(uid: number): number {
    const i = this.lowerBound(uid);
    return i < this.size && this.uidCol[i] === uid ? i : -1;
  }

  /** The first index whose UID is >= `uid` (`length` when none). */
  lowerBound(uid: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.uidCol[mid] < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Appends a message with a UID above every present one. */
  push(uid: number, flagSet: number): void {
    if (uid <= this.lastUid()) throw new Error(`UID ${uid} is not above ${this.lastUid()}`);
    if (this.size === this.uidCol.length) {
      const cap = Math.max(16, this.size * 2);
      this.uidCol = grow(this.uidCol, cap);
      this.flagCol = grow(this.flagCol, cap);
    }
    this.uidCol[this.size] = uid;
    this.flagCol[this.size] = flagSet;
    this.size++;
  }

  /** Removes the entries at the given indexes (ascending, distinct), in one pass. */
  remove(indexes: readonly number[]): void {
    if (indexes.length === 0) return;
    let w = indexes[0];
    let k = 0;
    for (let r = indexes[0]; r < this.size; r++) {
      if (k < indexes.length && indexes[k] === r) {
        k++;
        continue;
      }
      this.uidCol[w] = this.uidCol[r];
      this.flagCol[w] = this.flagCol[r];
      w++;
    }
    this.size = w;
  }
}

function grow(a: Uint32Array, cap: number): Uint32Array {
  const b = new Uint32Array(cap);
  b.set(a.subarray(0, Math.min(a.length, cap)));
  return b;
}

/**
 * Distinct flag lists, interned: messages refer to them by index. A mailbox has a handful
 * (`\Seen`, none, `\Seen \Answered`, …), so flags cost one number per message.
 */
export class FlagTable {
  private readonly lists: string[][] = [];
  private readonly byKey = new Map<string, number>();
  /** Per list: has \Seen (SELECT's first unseen, scanned over every message). */
  private readonly seen: boolean[] = [];

  constructor(initial: readonly string[][] = []) {
    for (const l of initial) this.add(l);
  }

  /** Index of the list, added when new (same flags in the same order = same list). */
  intern(flags: readonly string[]): number {
    return this.byKey.get(flags.join(' ')) ?? this.add(flags);
  }

  get(i: number): readonly string[] {
    return this.lists[i];
  }

  hasSeen(i: number): boolean {
    return this.seen[i];
  }

  all(): readonly (readonly string[])[] {
    return this.lists;
  }

  private add(flags: readonly string[]): number {
    const i = this.lists.length;
    this.lists.push([...flags]);
    this.byKey.set(flags.join(' '), i);
    this.seen.push(flags.includes('\\Seen'));
    return i;
  }
}
