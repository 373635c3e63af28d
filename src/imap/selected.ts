/**
 * The selected mailbox as one session sees it (RFC 9051 2.3.1): UIDs in ascending order
 * give the sequence numbers, and changes made elsewhere (other sessions, delivery, POP3)
 * are read from `store.changesSince` and held back until the session may announce them.
 * Per-message state is compact (message-columns.ts: typed arrays of UIDs and interned flag
 * lists), loaded by one `store.mailboxSnapshot`; SELECT's figures (EXISTS, first unseen,
 * keywords) are computed from it, never from per-message objects.
 *
 * Never imports: SQL, the network. IMAP sequence numbers live only here (DESIGN.md).
 * Invariants:
 *  - A sequence number changes only when this view announces an EXPUNGE, so the client's
 *    numbering always equals `uids` (RFC 9051 7.5.1: never during FETCH/STORE/SEARCH by number).
 *  - New messages are appended at the end (UIDs grow), so announcing EXISTS never renumbers.
 *  - \Recent is session state: the first session of this process to see a UID claims it.
 */
import { ALL_RIGHTS, type Changes, type Id, type Mailbox, type MessageRow, type ModSeq, type Store, type Uid } from '../store/types.js';
import { ImapNo } from './errors.js';
import { FlagTable, MessageColumns } from './message-columns.js';
import { cachedSnapshot, rememberSnapshot, type CachedSnapshot } from './snapshot-cache.js';
import type { SearchContext } from './search-context.js';
import { formatFlagList, formatSeqSet, seqSetMaxNumber, seqSetRanges, type SeqSet } from './protocol/index.js';

/**
 * Highest UID per mailbox that some session of this process has already reported as \Recent.
 * Keyed by id and UIDVALIDITY: a re-created mailbox has a new UIDVALIDITY (store invariant),
 * so even if a backend ever handed out an old id again, the old claim would not hide the new
 * mailbox's messages (RFC 3501 2.3.2).
 */
const recentClaims = new Map<string, number>();

/** What identifies one incarnation of a mailbox for \Recent. */
export interface RecentKey {
  id: Id;
  uidValidity: number;
}

function claimKey(box: RecentKey): string {
  return `${box.id}/${box.uidValidity}`;
}

/** The highest UID some session of this process reported as \Recent (0: none); UIDs above it are \Recent for the next session to look. */
export function recentClaim(box: RecentKey): number {
  return recentClaims.get(claimKey(box)) ?? 0;
}

/**
 * Claims the UIDs above the current claim up to `upTo` (RFC 3501 2.3.2: one session sees a
 * message as \Recent); returns the claimed range [from, upTo] or null when nothing new.
 */
function claimRecent(box: RecentKey, upTo: number, claim: boolean): [number, number] | null {
  const claimed = recentClaim(box);
  if (upTo <= claimed) return null;
  if (claim) recentClaims.set(claimKey(box), upTo);
  return [claimed + 1, upTo];
}

/**
 * changesSince calls in flight, per store: sessions that ask the same question at the same
 * moment share one answer. A delivery rings every session IDLEing on the mailbox at once,
 * all at the same MODSEQ: 10,000 sessions cost one store read, not 10,000. The answer is
 * shared, so nobody may modify it (views copy what they keep).
 */
const inflight = new WeakMap<Store, Map<string, Promise<Changes>>>();

function sharedChangesSince(store: Store, mailboxId: Id, modSeq: ModSeq, viewerId: Id): Promise<Changes> {
  let calls = inflight.get(store);
  if (!calls) inflight.set(store, (calls = new Map()));
  const key = `${mailboxId}/${modSeq}/${viewerId}`;
  let p = calls.get(key);
  if (!p) {
    const map = calls;
    p = store.changesSince(mailboxId, modSeq, viewerId).finally(() => map.delete(key));
    map.set(key, p);
  }
  return p;
}

/** Rows a view remembers for RFC 2180 4.1.1 (about 0.5 KB each). */
const ROW_MEMORY = 5000;

export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

/** A message as resolved from a sequence set. */
export interface ViewMessage {
  seq: number;
  uid: Uid;
}

/** What the session enabled that changes unsolicited responses (RFC 7162 3.1, 3.2.7). */
export interface SyncMode {
  /** MODSEQ (and UID) in every unsolicited FETCH. */
  condstore: boolean;
  /** `* VANISHED uid-set` instead of `* n EXPUNGE`. */
  qresync: boolean;
  /** UIDONLY (RFC 9586): `* uid UIDFETCH` and VANISHED; no sequence number is ever sent. */
  uidOnly?: boolean;
}

const PLAIN: SyncMode = { condstore: false, qresync: false };

/**
 * The start of a FETCH response: `* seq FETCH (`, or with UIDONLY `* uid UIDFETCH (`
 * (RFC 9586 3.1), where the UID item is left out unless asked for: the number already is the UID.
 */
export function fetchHead(m: ViewMessage, uidOnly: boolean): string {
  return uidOnly ? `* ${m.uid} UIDFETCH (` : `* ${m.seq} FETCH (`;
}

/** UIDs per `* VANISHED` line, so a line stays far below common client limits (RFC 7162 4). */
const VANISHED_PER_LINE = 1000;

/** `* VANISHED [(EARLIER) ]uid-set` lines for ascending UIDs; none for an empty list. */
export function vanishedLines(uids: readonly number[], earlier: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < uids.length; i += VANISHED_PER_LINE) {
    out.push(`* VANISHED ${earlier ? '(EARLIER) ' : ''}${formatSeqSet(uids.slice(i, i + VANISHED_PER_LINE))}\r\n`);
  }
  return out;
}

/** Expunged UIDs plus the view's device-hidden ones, ascending and without repeats (for VANISHED (EARLIER)). */
export function withHidden(view: MailboxView, expunged: readonly number[]): number[] {
  const hidden = view.hiddenUids();
  if (hidden.length === 0) return [...expunged];
  return [...new Set([...expunged, ...hidden])].sort((a, b) => a - b);
}

/** Formats `(flags)` with \Recent added for rev1 clients. */
export function flagsWithRecent(flags: readonly string[], recent: boolean, rev2: boolean): string {
  return formatFlagList(recent && !rev2 ? [...flags, '\\Recent'] : flags);
}

export class MailboxView {
  /** Live SEARCH/SORT results by tag (RFC 5267 4); they end with the view. Made on first use: 10,000 idle sessions need none. */
  private contextMap: Map<string, SearchContext> | undefined;
  private readonly msgs: MessageColumns;
  private readonly flagTable: FlagTable;
  /** UID ranges [lo, hi] this session claimed as \Recent (usually one: the claim at SELECT). */
  private recentRanges: [number, number][] = [];
  private modSeq: ModSeq;
  private uidNextValue: number;
  // The collections below are made on first write (`??=`): most sessions sit idle and never need them.
  private keywords: Set<string> | undefined;
  private pendingExpunge: Set<number> | undefined;
  /** UID → MODSEQ of the flag change not yet announced. */
  private pendingFlags: Map<number, ModSeq> | undefined;
  private announcedExists: number;
  private keywordsChanged = false;
  /** Recently read rows, so a message expunged elsewhere can still be served until its EXPUNGE is announced (RFC 2180 4.1.1). */
  private rows: Map<number, MessageRow> | undefined;
  /** UIDs from the last SEARCH RETURN (SAVE) (RFC 5182); `$` refers to them. */
  saved: Uid[] = [];
  /** UIDs hidden from this session's device (delete=device): changes to them are not news here. */
  private hiddenForDevice: Set<number> | undefined;
  /** The device this session logged in with (null for the account password): its hides are re-read on flag changes. */
  private deviceId: Id | null = null;
  /** window=Nd: messages arriving later with an older internal date (an APPEND with a date, a MOVE in) stay out too. */
  private windowSince: Date | null = null;
  /** The user's Recently Deleted mailbox: read-only, COPY and MOVE out of it restore. */
  recentlyDeleted = false;

  /** The live contexts, made on first use. */
  get contexts(): Map<string, SearchContext> {
    return (this.contextMap ??= new Map());
  }

  /** Whether any live context exists (no map is made to answer). */
  get hasContexts(): boolean {
    return (this.contextMap?.size ?? 0) > 0;
  }

  /**
   * The device's hidden UIDs (delete=device, window=Nd), ascending. A QRESYNC catch-up adds
   * them to what vanished: the hide left no expunge record, and another session of the same
   * device (or a window that moved on) may have hidden them since the client last synced.
   */
  hiddenUids(): number[] {
    return [...(this.hiddenForDevice ?? [])].sort((a, b) => a - b);
  }

  /** This login's rights on the mailbox (RFC 4314): all of them on the user's own. */
  rights: string = ALL_RIGHTS;
  /** The mailbox's owner: whose change events ring for it (another user's, when shared). */
  ownerId: Id = 0;

  private constructor(
    readonly mailboxId: Id,
    /** The name the client used (another user's mailbox with its namespace prefix). */
    public name: string,
    readonly uidValidity: number,
    readonly readOnly: boolean,
    private readonly userId: Id,
    snapshot: { uids: Uint32Array; flagSets: string[][]; flagSet: Uint32Array; uidNext: number; modSeq: ModSeq },
  ) {
    this.msgs = new MessageColumns(snapshot.uids, snapshot.flagSet);
    this.flagTable = new FlagTable(snapshot.flagSets);
    for (const list of snapshot.flagSets) this.learnKeywords(list);
    this.keywordsChanged = false;
    this.announcedExists = this.msgs.length;
    this.uidNextValue = snapshot.uidNext;
    this.modSeq = snapshot.modSeq;
  }

  /**
   * Loads the mailbox; the caller sends the SELECT responses from `exists`, `flagList()` etc.
   * `box` is the mailbox row just read. When this process remembers the mailbox's state at
   * an earlier MODSEQ (snapshot-cache.ts), only the changes since are read and applied, as
   * if a view opened then had polled now; else one full snapshot. Either way the state is
   * remembered for the next SELECT. A device that hides messages (delete=device) or sees a
   * window of days has a view of its own: never taken from or given to the shared cache.
   */
  static async open(store: Store, box: Mailbox, userId: Id, readOnly: boolean, deviceId: Id | null = null, windowSince: Date | null = null): Promise<MailboxView> {
    // A device's own hidden set is read only for device logins: owner sessions pay nothing.
    const hidden = deviceId === null ? [] : await store.deviceHiddenUids(deviceId, box.id);
    if (hidden.length > 0 || windowSince !== null) {
      const own = await MailboxView.fromSnapshot(store, box.id, userId, readOnly, hidden, windowSince);
      own.deviceId = deviceId;
      own.windowSince = windowSince;
      own.name = box.name;
      own.ownerId = box.userId;
      return own;
    }
    const view = (await MailboxView.fromCache(store, box, userId, readOnly)) ?? (await MailboxView.fromSnapshot(store, box.id, userId, readOnly));
    rememberSnapshot(store, view.mailboxId, userId, view.compactState());
    view.deviceId = deviceId;
    view.name = box.name;
    view.ownerId = box.userId;
    return view;
  }

  private static async fromSnapshot(store: Store, mailboxId: Id, userId: Id, readOnly: boolean, hidden: number[] = [], windowSince: Date | null = null): Promise<MailboxView> {
    const snap = await store.mailboxSnapshot(mailboxId, userId);
    const box = snap.mailbox;
    // window=Nd: mail older than the window is out of this view like hidden mail (one query per SELECT, windowed devices only).
    if (windowSince !== null) for (const r of await store.listMessages(mailboxId, userId)) if (r.internalDate < windowSince) hidden.push(r.uid);
    if (hidden.length > 0) {
      const gone = new Set<number>(hidden);
      const keep: number[] = [];
      for (let i = 0; i < snap.uids.length; i++) if (!gone.has(snap.uids[i])) keep.push(i);
      snap.uids = Uint32Array.from(keep, (i) => snap.uids[i]);
      snap.flagSet = Uint32Array.from(keep, (i) => snap.flagSet[i]);
    }
    // Recently Deleted is always read-only: moving a message out of it is the one change (a restore).
    const view = new MailboxView(box.id, box.name, box.uidValidity, readOnly || box.recentlyDeleted, userId, {
      uids: snap.uids, flagSets: snap.flagSets, flagSet: snap.flagSet, uidNext: box.uidNext, modSeq: box.highestModSeq,
    });
    if (hidden.length > 0) view.hiddenForDevice = new Set(hidden);
    const mine = claimRecent(box, view.msgs.lastUid(), !view.readOnly);
    if (mine) view.recentRanges.push(mine);
    view.recentlyDeleted = box.recentlyDeleted;
    return view;
  }

  /** Whose `\\Seen` the view reads and writes (a member's, a grantee's, or the owner's). */
  get viewerId(): Id {
    return this.userId;
  }

  /** Undefined when nothing usable is remembered, or the changes since are many (a fresh snapshot is then cheaper). */
  private static async fromCache(store: Store, box: Mailbox, userId: Id, readOnly: boolean): Promise<MailboxView | undefined> {
    const cached = cachedSnapshot(store, box.id, userId, box.uidValidity);
    if (!cached) return undefined;
    const ch = await sharedChangesSince(store, box.id, cached.modSeq, userId);
    if (!ch.expungedComplete || ch.changed.length + ch.expunged.length > Math.max(1000, cached.uids.length / 8)) return undefined;
    const view = new MailboxView(box.id, box.name, box.uidValidity, readOnly || box.recentlyDeleted, userId, {
      uids: cached.uids.slice(), flagSets: cached.flagSets as string[][], flagSet: cached.flagSet.slice(), uidNext: box.uidNext, modSeq: cached.modSeq,
    });
    view.recentlyDeleted = box.recentlyDeleted;
    const mine = claimRecent(box, view.msgs.lastUid(), !view.readOnly);
    if (mine) view.recentRanges.push(mine);
    await view.apply(store, ch);
    if (view.pendingExpunge) view.removeUids([...view.pendingExpunge]);
    view.pendingFlags = undefined;
    view.rows = undefined; // rows of the changes: a fresh view remembers none
    view.announcedExists = view.msgs.length;
    view.keywordsChanged = false;
    return view;
  }

  /** This view's messages as a snapshot to remember: copies (the view keeps changing its own arrays). */
  private compactState(): CachedSnapshot {
    return { uidValidity: this.uidValidity, modSeq: this.modSeq, uids: this.msgs.uids().slice(), flagSet: this.msgs.flagSets().slice(), flagSets: this.flagTable.all().map((l) => [...l]) };
  }

  get uidNext(): number {
    return Math.max(this.uidNextValue, this.msgs.lastUid() + 1);
  }

  /** The MODSEQ up to which this view has read changes. */
  get highestModSeq(): ModSeq {
    return this.modSeq;
  }

  /** The highest UID in the view (0 when empty). */
  lastUid(): number {
    return this.msgs.lastUid();
  }

  private learnKeywords(flags: readonly string[]): void {
    for (const f of flags) {
      if (!f.startsWith('\\') && !this.hasKeyword(f)) {
        (this.keywords ??= new Set()).add(f);
        this.keywordsChanged = true;
      }
    }
  }

  private setFlagsAt(i: number, flags: readonly string[]): void {
    this.msgs.setFlagSet(i, this.flagTable.intern(flags));
    this.learnKeywords(flags);
  }

  private hasKeyword(k: string): boolean {
    const low = k.toLowerCase();
    for (const x of this.keywords ?? []) if (x.toLowerCase() === low) return true;
    return false;
  }

  get exists(): number {
    return this.msgs.length;
  }

  /** FLAGS: the system flags and every keyword in use (RFC 9051 7.3.5). */
  flagList(): string[] {
    return [...SYSTEM_FLAGS, ...(this.keywords ?? [])];
  }

  /** PERMANENTFLAGS: `\*` says new keywords persist (RFC 9051 7.1). */
  permanentFlags(): string[] {
    return this.readOnly ? [] : [...this.flagList(), '\\*'];
  }

  /** Every UID in sequence order, copied into an array (O(n): prefer `uidAt`/`seqOf` on big mailboxes). */
  allUids(): readonly Uid[] {
    return Array.from(this.msgs.uids(), (u) => u as Uid);
  }

  /** The UID of sequence number `seq` (1-based, at most `exists`). */
  uidAt(seq: number): Uid {
    return this.msgs.uidAt(seq - 1);
  }

  flagsOf(uid: number): readonly string[] {
    const i = this.msgs.indexOf(uid);
    return i < 0 ? [] : this.flagTable.get(this.msgs.flagSetAt(i));
  }

  /** The index of the interned flag list of sequence number `seq` (equal lists, equal index, within this view). */
  flagSetIdOfSeq(seq: number): number {
    return this.msgs.flagSetAt(seq - 1);
  }

  /** How many interned flag lists there are: indexes from `flagSetIdOfSeq` are below it. */
  flagSetCount(): number {
    return this.flagTable.all().length;
  }

  /** The interned flag list of an index from `flagSetIdOfSeq`. */
  flagsOfSet(set: number): readonly string[] {
    return this.flagTable.get(set);
  }

  /** The flags of sequence number `seq` and the index of their interned list (FETCH FLAGS formats each list once). */
  flagSetOfSeq(seq: number): { set: number; flags: readonly string[] } {
    const set = this.msgs.flagSetAt(seq - 1);
    return { set, flags: this.flagTable.get(set) };
  }

  isRecent(uid: number): boolean {
    for (const [lo, hi] of this.recentRanges) if (uid >= lo && uid <= hi) return this.msgs.indexOf(uid) >= 0;
    return false;
  }

  recentCount(): number {
    let n = 0;
    for (const [lo, hi] of this.recentRanges) n += this.msgs.lowerBound(hi + 1) - this.msgs.lowerBound(lo);
    return n;
  }

  /** Binary search; 0 when the UID is not in the view. */
  seqOf(uid: number): number {
    return this.msgs.indexOf(uid) + 1;
  }

  /** First unseen sequence number (rev1 SELECT UNSEEN code), 0 if none. */
  firstUnseen(): number {
    for (let i = 0; i < this.msgs.length; i++) if (!this.flagTable.hasSeen(this.msgs.flagSetAt(i))) return i + 1;
    return 0;
  }

  /**
   * Messages named by a set. By sequence number, a number above EXISTS is a client error
   * (RFC 9051 6.4.5 BAD); by UID, unknown UIDs are ignored (RFC 9051 6.4.9).
   */
  resolve(set: SeqSet, byUid: boolean): ViewMessage[] {
    if (set.kind === 'saved') return this.saved.map((uid) => ({ seq: this.seqOf(uid), uid })).filter((m) => m.seq > 0);
    const spans = this.resolveSpans(set, byUid);
    const out: ViewMessage[] = [];
    for (let k = 0; k < spans.length; k += 2) for (let i = spans[k]; i < spans[k + 1]; i++) out.push({ seq: i + 1, uid: this.msgs.uidAt(i) });
    return out;
  }

  /**
   * The messages of a set of ranges as index spans, flat `[from, to, from, to, …]` (index =
   * sequence number − 1, `to` excluded), ascending and disjoint: what `resolve` answers,
   * without an object per message (`UID FETCH 1:*` of 100,000 messages is one span). UID
   * ranges are found by binary search, never by iterating a huge range. Same errors as `resolve`.
   */
  resolveSpans(set: Extract<SeqSet, { kind: 'ranges' }>, byUid: boolean): number[] {
    const spans: number[] = [];
    if (byUid) {
      const max = this.msgs.lastUid(); // `*` is the largest UID in use
      for (const [lo, hi] of seqSetRanges(set, max)) {
        const from = this.msgs.lowerBound(lo);
        const to = this.msgs.lowerBound(hi + 1);
        if (from < to) spans.push(from, to);
      }
      return spans;
    }
    // RFC 9051 6.4.5: a sequence number above EXISTS is a client error
    if (seqSetMaxNumber(set) > this.msgs.length) throw new ImapNo(`Invalid sequence number (mailbox has ${this.msgs.length} messages)`, 'CLIENTBUG', 'BAD');
    for (const [lo, hi] of seqSetRanges(set, this.msgs.length)) if (lo <= this.msgs.length) spans.push(lo - 1, Math.min(hi, this.msgs.length));
    return spans;
  }

  /** True when every change read so far was announced: HIGHESTMODSEQ may be reported (RFC 7162 3.2.7). */
  settled(): boolean {
    return !this.pendingExpunge?.size && !this.pendingFlags?.size;
  }

  /** Reads changes made elsewhere; nothing is announced until `flush`. Throws StoreError 'notfound' when the mailbox is gone. */
  async poll(store: Store): Promise<void> {
    const ch = await sharedChangesSince(store, this.mailboxId, this.modSeq, this.userId);
    if (this.deviceId !== null && this.flagsChangedIn(ch)) await this.learnHidden(store, this.deviceId);
    await this.apply(store, ch);
  }

  /**
   * Another session of the same device hid messages (delete=device): a hide is not in the
   * change log, but its \Deleted clearing is, so a flag change on a known message is the cue
   * to re-read the device's hidden set. Deliveries alone cost device sessions nothing.
   */
  private flagsChangedIn(ch: Changes): boolean {
    const last = this.msgs.lastUid();
    return ch.changed.some((row) => row.uid <= last && !this.hiddenForDevice?.has(row.uid));
  }

  private async learnHidden(store: Store, deviceId: Id): Promise<void> {
    for (const uid of await store.deviceHiddenUids(deviceId, this.mailboxId)) {
      if (this.hiddenForDevice?.has(uid)) continue;
      (this.hiddenForDevice ??= new Set()).add(uid);
      if (this.msgs.indexOf(uid) >= 0) (this.pendingExpunge ??= new Set()).add(uid);
    }
  }

  /**
   * For SELECT ... (QRESYNC) before any SELECT data is sent (RFC 7162 3.2.5): reads the
   * changes after `since` and applies them silently, so EXISTS, HIGHESTMODSEQ and the
   * VANISHED (EARLIER) / FETCH answers all come from one snapshot. Returns those changes
   * (shared with other sessions' reads: not to be modified).
   */
  async catchUp(store: Store, since: ModSeq): Promise<Changes> {
    // The client is as new as this view (a reconnect with no changes): nothing to read; later changes come by poll
    if (since >= this.modSeq && this.settled()) return { highestModSeq: this.modSeq, changed: [], expunged: [], expungedComplete: true };
    const ch = await sharedChangesSince(store, this.mailboxId, Math.min(since, this.modSeq), this.userId);
    await this.apply(store, ch);
    if (this.pendingExpunge) this.removeUids([...this.pendingExpunge]);
    this.pendingFlags = undefined;
    this.announcedExists = this.msgs.length;
    this.keywordsChanged = false; // the FLAGS response of this SELECT lists them
    return ch;
  }

  /** Applies changes read from the store (the answer may be shared: read only). */
  private async apply(store: Store, ch: Changes): Promise<void> {
    const last = this.msgs.lastUid();
    for (const row of ch.changed) {
      if (this.hiddenForDevice?.has(row.uid)) continue;
      if (row.uid > this.msgs.lastUid()) {
        if (this.windowSince !== null && row.internalDate < this.windowSince) {
          (this.hiddenForDevice ??= new Set()).add(row.uid);
          continue;
        }
        this.msgs.push(row.uid, this.flagTable.intern(row.flags));
        this.learnKeywords(row.flags);
        this.remember([row]);
        continue;
      }
      const i = this.msgs.indexOf(row.uid);
      if (i >= 0 && !sameFlags(this.flagTable.get(this.msgs.flagSetAt(i)), row.flags)) {
        this.setFlagsAt(i, row.flags);
        (this.pendingFlags ??= new Map()).set(row.uid, row.modSeq);
      }
    }
    const silently: number[] = [];
    for (const uid of ch.expungedComplete ? ch.expunged : await this.missingUids(store)) {
      const i = this.msgs.indexOf(uid);
      if (i < 0) continue;
      // never announced: the client cannot know it, so it leaves without an EXPUNGE
      if (i + 1 > this.announcedExists) silently.push(i);
      else (this.pendingExpunge ??= new Set()).add(uid);
    }
    this.msgs.remove(silently.sort((a, b) => a - b));
    const mine = claimRecent({ id: this.mailboxId, uidValidity: this.uidValidity }, this.msgs.lastUid(), !this.readOnly);
    if (mine && this.msgs.lastUid() > last) this.recentRanges.push([Math.max(mine[0], last + 1), mine[1]]);
    this.modSeq = Math.max(this.modSeq, ch.highestModSeq);
  }

  /** UIDs of this view that are no longer stored: the expunge log was pruned past our MODSEQ (rare). */
  private async missingUids(store: Store): Promise<Uid[]> {
    const present = (await store.mailboxSnapshot(this.mailboxId, this.userId)).uids; // ascending, as ours
    const mine = this.msgs.uids();
    const out: Uid[] = [];
    let j = 0;
    for (const uid of mine) {
      while (j < present.length && present[j] < uid) j++;
      if (j >= present.length || present[j] !== uid) out.push(uid as Uid);
    }
    return out;
  }

  /** Keeps rows in a bounded LRU (most recent last); see `rows`. */
  remember(rows: readonly MessageRow[]): void {
    if (rows.length === 0) return;
    const memory = (this.rows ??= new Map());
    for (const r of rows) {
      memory.delete(r.uid);
      memory.set(r.uid, r);
    }
    for (const key of memory.keys()) {
      if (memory.size <= ROW_MEMORY) break;
      memory.delete(key);
    }
  }

  /** A remembered row of a message in this view (e.g. expunged elsewhere, not yet announced), with its last known flags. */
  rememberedRow(uid: number): MessageRow | undefined {
    const i = this.msgs.indexOf(uid);
    if (i < 0) return undefined;
    const r = this.rows?.get(uid);
    return r && { ...r, flags: [...this.flagTable.get(this.msgs.flagSetAt(i))] };
  }

  /** Records this session's own flag change (already answered), so `poll` does not repeat it. */
  noteFlags(rows: readonly MessageRow[]): void {
    for (const r of rows) {
      const i = this.msgs.indexOf(r.uid);
      if (i < 0) continue;
      this.setFlagsAt(i, r.flags);
      if (this.pendingFlags?.has(r.uid)) this.pendingFlags.set(r.uid, r.modSeq); // the flags shown later are these
    }
  }

  /**
   * The untagged responses for pending changes. EXPUNGE (or VANISHED) only when `allowExpunge`
   * (RFC 9051 7.5.1); then EXISTS/RECENT for new messages and FETCH FLAGS for changed ones.
   * With CONDSTORE, a FETCH carries MODSEQ, and it waits while an expunge cannot be
   * announced: a client takes the highest MODSEQ it saw as its resync point, and an expunge
   * with a lower MODSEQ would then never reach it (RFC 7162 3.2.5).
   */
  flush(allowExpunge: boolean, rev2: boolean, sync: SyncMode = PLAIN): string[] {
    const out: string[] = [];
    if (allowExpunge && this.pendingExpunge?.size) out.push(...this.removeUids([...this.pendingExpunge], sync.qresync || sync.uidOnly));
    out.push(...this.flagsAnnouncement());
    if (this.msgs.length !== this.announcedExists) {
      this.announcedExists = this.msgs.length;
      out.push(`* ${this.msgs.length} EXISTS\r\n`);
      if (!rev2) out.push(`* ${this.recentCount()} RECENT\r\n`);
    }
    if (sync.condstore && this.pendingExpunge?.size) return out;
    for (const [uid, modSeq] of this.pendingFlags ?? []) {
      const seq = this.seqOf(uid);
      const mod = sync.condstore ? ` MODSEQ (${modSeq})` : ''; // RFC 7162 3.1: UID and MODSEQ once enabled
      const flags = `FLAGS ${flagsWithRecent(this.flagsOf(uid), this.isRecent(uid), rev2)}${mod})\r\n`;
      if (seq > 0) out.push(sync.uidOnly ? `${fetchHead({ seq, uid: uid as Uid }, true)}${flags}` : `* ${seq} FETCH (UID ${uid} ${flags}`);
    }
    this.pendingFlags = undefined; // announced: an idle session keeps no empty map
    return out;
  }

  /** FLAGS and PERMANENTFLAGS again when a new keyword came into use (RFC 9051 7.3.5), else nothing. */
  flagsAnnouncement(): string[] {
    if (!this.keywordsChanged) return [];
    this.keywordsChanged = false;
    const out = [`* FLAGS ${formatFlagList(this.flagList())}\r\n`];
    if (!this.readOnly) out.push(`* OK [PERMANENTFLAGS ${formatFlagList(this.permanentFlags())}] Flags permitted\r\n`);
    return out;
  }

  /**
   * Removes UIDs (own EXPUNGE/MOVE or pending ones) and returns `* n EXPUNGE` lines, RFC 9051
   * 7.5.1 numbering, or with `vanished` (QRESYNC enabled) `* VANISHED uid-set` (RFC 7162 3.2.10).
   */
  /** Messages this device just hid (delete=device): gone from the view like an expunge, and never back. */
  hideUids(uids: readonly number[], vanished = false): string[] {
    const hidden = (this.hiddenForDevice ??= new Set());
    for (const u of uids) hidden.add(u);
    return this.removeUids(uids, vanished);
  }

  removeUids(uids: readonly number[], vanished = false): string[] {
    const indexes = [...new Set(uids.map((u) => this.msgs.indexOf(u)).filter((i) => i >= 0))].sort((a, b) => a - b);
    if (indexes.length === 0) return [];
    const out: string[] = [];
    const gone = new Set<number>();
    indexes.forEach((idx, removed) => {
      const uid = this.msgs.uidAt(idx);
      out.push(`* ${idx + 1 - removed} EXPUNGE\r\n`); // each EXPUNGE renumbers the ones after it
      gone.add(uid);
      this.rows?.delete(uid);
      this.pendingExpunge?.delete(uid);
      this.pendingFlags?.delete(uid);
    });
    this.msgs.remove(indexes);
    this.announcedExists -= indexes.length; // the client counts each EXPUNGE as one fewer message
    if (this.saved.length > 0) this.saved = this.saved.filter((u) => !gone.has(u));
    return vanished ? vanishedLines([...gone], false) : out; // indexes ascend, so do the UIDs in `gone`
  }

  /** True when the message was expunged elsewhere and not yet announced. */
  isExpungedPending(uid: number): boolean {
    return this.pendingExpunge?.has(uid) ?? false;
  }
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => s.has(f.toLowerCase()));
}
