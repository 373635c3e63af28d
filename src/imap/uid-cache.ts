/**
 * Process-wide, per store: for each (mailbox, UIDVALIDITY), a map from UID to something
 * that never changes while the mailbox keeps its UIDVALIDITY (RFC 9051 2.3.1.1: a UID names
 * one message, whose content and INTERNALDATE never change). Bounded in entries by dropping
 * whole mailboxes, the one used longest ago first; the one in use stays whole. Used for
 * content ids (content-ids.ts) and SORT/THREAD keys (sort-keys.ts).
 */
import type { Id, Store } from '../store/types.js';

interface Boxes<V> {
  /** `${mailboxId}/${uidValidity}` → UID → value; Map order is the LRU order of mailboxes. */
  boxes: Map<string, Map<number, V>>;
  entries: number;
}

export class UidCache<V> {
  private readonly byStore = new WeakMap<Store, Boxes<V>>();

  constructor(private readonly maxEntries: number) {}

  private of(store: Store): Boxes<V> {
    let c = this.byStore.get(store);
    if (!c) this.byStore.set(store, (c = { boxes: new Map(), entries: 0 }));
    return c;
  }

  /** The mailbox's map, now the most recently used. */
  box(store: Store, mailboxId: Id, uidValidity: number): Map<number, V> {
    const c = this.of(store);
    const key = `${mailboxId}/${uidValidity}`;
    let box = c.boxes.get(key);
    if (box) c.boxes.delete(key); // re-inserted below: most recently used last
    else box = new Map();
    c.boxes.set(key, box);
    return box;
  }

  /** The mailbox's map if there is one, without touching the LRU order. */
  peek(store: Store, mailboxId: Id, uidValidity: number): Map<number, V> | undefined {
    return this.of(store).boxes.get(`${mailboxId}/${uidValidity}`);
  }

  /** Sets one entry of a map from `box`, counting it when new. */
  set(store: Store, box: Map<number, V>, uid: number, value: V): void {
    if (!box.has(uid)) this.of(store).entries++;
    box.set(uid, value);
  }

  /** Drops whole mailboxes, least recently used first, until the bound holds (never `keep`, the one in use). */
  trim(store: Store, keep: Map<number, V>): void {
    const c = this.of(store);
    for (const [key, box] of c.boxes) {
      if (c.entries <= this.maxEntries) return;
      if (box === keep) continue;
      c.boxes.delete(key);
      c.entries -= box.size;
    }
  }
}
