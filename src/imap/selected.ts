/**
 * The selected mailbox as one session sees it (RFC 9051 2.3.1): UIDs in ascending order
 * give the sequence numbers, and changes made elsewhere (other sessions, delivery, POP3)
 * are read from `store.changesSince` and held back until the session may announce them.
 *
 * Never imports: SQL, the network. IMAP sequence numbers live only here (DESIGN.md).
 * Invariants:
 *  - A sequence number changes only when this view announces an EXPUNGE, so the client's
 *    numbering always equals `uids` (RFC 9051 7.5.1: never during FETCH/STORE/SEARCH by number).
 *  - New messages are appended at the end (UIDs grow), so announcing EXISTS never renumbers.
 *  - \Recent is session state: the first session of this process to see a UID claims it.
 */
import type { Changes, Id, MessageRow, ModSeq, Store, Uid } from '../store/types.js';
import { ImapNo } from './errors.js';
import { expandSeqSet, formatFlagList, formatSeqSet, seqSetMaxNumber, type SeqSet } from './protocol/index.js';

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

/** How many UIDs of a mailbox are above the recent claim (STATUS RECENT); does not claim. */
export function countRecent(box: RecentKey, uids: readonly number[]): number {
  const claimed = recentClaims.get(claimKey(box)) ?? 0;
  return uids.filter((u) => u > claimed).length;
}

/** The UIDs that are \Recent for the caller; with `claim`, no later session sees them so (RFC 3501 2.3.2). */
function claimRecent(box: RecentKey, uids: readonly number[], claim: boolean): number[] {
  const key = claimKey(box);
  const claimed = recentClaims.get(key) ?? 0;
  const mine = uids.filter((u) => u > claimed);
  if (claim && mine.length > 0) recentClaims.set(key, Math.max(claimed, ...mine.slice(-1)));
  return mine;
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
}

const PLAIN: SyncMode = { condstore: false, qresync: false };

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

/** Formats `(flags)` with \Recent added for rev1 clients. */
export function flagsWithRecent(flags: readonly string[], recent: boolean, rev2: boolean): string {
  return formatFlagList(recent && !rev2 ? [...flags, '\\Recent'] : flags);
}

export class MailboxView {
  private uids: Uid[] = [];
  private flags = new Map<number, string[]>();
  private recent = new Set<number>();
  private modSeq: ModSeq = 0;
  private keywords = new Set<string>();
  private pendingExpunge = new Set<number>();
  /** UID → MODSEQ of the flag change not yet announced. */
  private pendingFlags = new Map<number, ModSeq>();
  private announcedExists = 0;
  private keywordsChanged = false;
  /** Recently seen rows, so a message expunged elsewhere can still be served until its EXPUNGE is announced (RFC 2180 4.1.1). */
  private rows = new Map<number, MessageRow>();
  /** UIDs from the last SEARCH RETURN (SAVE) (RFC 5182); `$` refers to them. */
  saved: Uid[] = [];

  private constructor(
    readonly mailboxId: Id,
    readonly name: string,
    readonly uidValidity: number,
    readonly readOnly: boolean,
    private readonly userId: Id,
  ) {}

  /** Loads the mailbox rows; the caller sends the SELECT responses from `exists`, `flagList()` etc. */
  static async open(store: Store, mailboxId: Id, userId: Id, readOnly: boolean): Promise<MailboxView> {
    const box = await store.getMailboxById(mailboxId);
    if (!box) throw new Error('mailbox vanished');
    const view = new MailboxView(box.id, box.name, box.uidValidity, readOnly, userId);
    const rows = await store.listMessages(box.id, userId);
    view.modSeq = box.highestModSeq;
    for (const r of rows) view.add(r);
    for (const u of claimRecent(box, view.uids, !readOnly)) view.recent.add(u);
    view.announcedExists = view.uids.length;
    view.uidNextValue = box.uidNext;
    view.keywordsChanged = false;
    return view;
  }

  private uidNextValue = 0;
  get uidNext(): number {
    return Math.max(this.uidNextValue, (this.uids[this.uids.length - 1] ?? 0) + 1);
  }

  private add(r: MessageRow): void {
    this.uids.push(r.uid);
    this.remember([r]);
    this.setFlags(r.uid, r.flags);
  }

  private setFlags(uid: number, flags: string[]): void {
    this.flags.set(uid, flags);
    for (const f of flags) {
      if (!f.startsWith('\\') && !this.hasKeyword(f)) {
        this.keywords.add(f);
        this.keywordsChanged = true;
      }
    }
  }

  private hasKeyword(k: string): boolean {
    const low = k.toLowerCase();
    for (const x of this.keywords) if (x.toLowerCase() === low) return true;
    return false;
  }

  get exists(): number {
    return this.uids.length;
  }

  /** FLAGS: the system flags and every keyword in use (RFC 9051 7.3.5). */
  flagList(): string[] {
    return [...SYSTEM_FLAGS, ...this.keywords];
  }

  /** PERMANENTFLAGS: `\*` says new keywords persist (RFC 9051 7.1). */
  permanentFlags(): string[] {
    return this.readOnly ? [] : [...this.flagList(), '\\*'];
  }

  allUids(): readonly Uid[] {
    return this.uids;
  }

  flagsOf(uid: number): string[] {
    return this.flags.get(uid) ?? [];
  }

  isRecent(uid: number): boolean {
    return this.recent.has(uid);
  }

  recentCount(): number {
    return this.recent.size;
  }

  /** Binary search; 0 when the UID is not in the view. */
  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.uids[mid];
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** First unseen sequence number (rev1 SELECT UNSEEN code), 0 if none. */
  firstUnseen(): number {
    for (let i = 0; i < this.uids.length; i++) if (!this.flagsOf(this.uids[i]).includes('\\Seen')) return i + 1;
    return 0;
  }

  /**
   * Messages named by a set. By sequence number, a number above EXISTS is a client error
   * (RFC 9051 6.4.5 BAD); by UID, unknown UIDs are ignored (RFC 9051 6.4.9).
   */
  resolve(set: SeqSet, byUid: boolean): ViewMessage[] {
    if (byUid) {
      const max = this.uids.length ? this.uids[this.uids.length - 1] : 0;
      if (set.kind === 'saved') return this.saved.map((uid) => ({ seq: this.seqOf(uid), uid })).filter((m) => m.seq > 0);
      const out: ViewMessage[] = [];
      // `*` is the largest UID in use; iterate the mailbox, not the (possibly huge) range.
      const ranges = set.ranges.map((r) => {
        const a = r.start === '*' ? max : r.start;
        const b = r.end === '*' ? max : r.end;
        return [Math.min(a, b), Math.max(a, b)] as const;
      });
      this.uids.forEach((uid, i) => {
        if (ranges.some(([lo, hi]) => uid >= lo && uid <= hi)) out.push({ seq: i + 1, uid });
      });
      return out;
    }
    if (set.kind === 'saved') return this.saved.map((uid) => ({ seq: this.seqOf(uid), uid })).filter((m) => m.seq > 0);
    // RFC 9051 6.4.5: a sequence number above EXISTS is a client error
    if (seqSetMaxNumber(set) > this.uids.length) throw new ImapNo(`Invalid sequence number (mailbox has ${this.uids.length} messages)`, 'CLIENTBUG', 'BAD');
    return expandSeqSet(set, this.uids.length).map((seq) => ({ seq, uid: this.uids[seq - 1] }));
  }

  /** HIGHESTMODSEQ as far as this view has read changes. */
  get highestModSeq(): ModSeq {
    return this.modSeq;
  }

  /** True when every change read so far was announced: HIGHESTMODSEQ may be reported (RFC 7162 3.2.7). */
  settled(): boolean {
    return this.pendingExpunge.size === 0 && this.pendingFlags.size === 0;
  }

  /** Reads changes made elsewhere; nothing is announced until `flush`. Throws StoreError 'notfound' when the mailbox is gone. */
  async poll(store: Store): Promise<void> {
    await this.apply(store, await store.changesSince(this.mailboxId, this.modSeq, this.userId));
  }

  /**
   * For SELECT ... (QRESYNC) before any SELECT data is sent (RFC 7162 3.2.5): reads the
   * changes after `since` and applies them silently, so EXISTS, HIGHESTMODSEQ and the
   * VANISHED (EARLIER) / FETCH answers all come from one snapshot. Returns those changes.
   */
  async catchUp(store: Store, since: ModSeq): Promise<Changes> {
    const ch = await store.changesSince(this.mailboxId, Math.min(since, this.modSeq), this.userId);
    await this.apply(store, ch);
    this.removeUids([...this.pendingExpunge]);
    this.pendingFlags.clear();
    this.announcedExists = this.uids.length;
    this.keywordsChanged = false; // the FLAGS response of this SELECT lists them
    return ch;
  }

  private async apply(store: Store, ch: Changes): Promise<void> {
    const last = this.uids[this.uids.length - 1] ?? 0;
    const fresh: Uid[] = [];
    for (const row of ch.changed) {
      if (row.uid > last) {
        this.add(row);
        fresh.push(row.uid);
      } else if (this.flags.has(row.uid) && !sameFlags(this.flagsOf(row.uid), row.flags)) {
        this.setFlags(row.uid, row.flags);
        this.pendingFlags.set(row.uid, row.modSeq);
      }
    }
    for (const uid of ch.expungedComplete ? ch.expunged : await this.missingUids(store)) {
      if (!this.flags.has(uid)) continue;
      const seq = this.seqOf(uid);
      if (seq > this.announcedExists) {
        // never announced: the client cannot know it, so it leaves without an EXPUNGE
        this.uids.splice(seq - 1, 1);
        this.flags.delete(uid);
        this.recent.delete(uid);
      } else this.pendingExpunge.add(uid);
    }
    for (const u of claimRecent({ id: this.mailboxId, uidValidity: this.uidValidity }, fresh, !this.readOnly)) this.recent.add(u);
    this.modSeq = Math.max(this.modSeq, ch.highestModSeq);
  }

  /** UIDs of this view that are no longer stored: the expunge log was pruned past our MODSEQ (rare). */
  private async missingUids(store: Store): Promise<Uid[]> {
    const present = new Set((await store.listMessages(this.mailboxId, this.userId)).map((r) => r.uid as number));
    return this.uids.filter((u) => !present.has(u));
  }

  /** Keeps rows in a bounded LRU (most recent last); see `rows`. */
  remember(rows: readonly MessageRow[]): void {
    for (const r of rows) {
      this.rows.delete(r.uid);
      this.rows.set(r.uid, r);
    }
    for (const key of this.rows.keys()) {
      if (this.rows.size <= ROW_MEMORY) break;
      this.rows.delete(key);
    }
  }

  /** A remembered row of a message in this view (e.g. expunged elsewhere, not yet announced), with its last known flags. */
  rememberedRow(uid: number): MessageRow | undefined {
    if (!this.flags.has(uid)) return undefined;
    const r = this.rows.get(uid);
    return r && { ...r, flags: this.flagsOf(uid) };
  }

  /** Records this session's own flag change (already answered), so `poll` does not repeat it. */
  noteFlags(rows: readonly MessageRow[]): void {
    for (const r of rows) {
      if (!this.flags.has(r.uid)) continue;
      this.setFlags(r.uid, r.flags);
      if (this.pendingFlags.has(r.uid)) this.pendingFlags.set(r.uid, r.modSeq); // the flags shown later are these
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
    if (allowExpunge && this.pendingExpunge.size > 0) out.push(...this.removeUids([...this.pendingExpunge], sync.qresync));
    out.push(...this.flagsAnnouncement());
    if (this.uids.length !== this.announcedExists) {
      this.announcedExists = this.uids.length;
      out.push(`* ${this.uids.length} EXISTS\r\n`);
      if (!rev2) out.push(`* ${this.recent.size} RECENT\r\n`);
    }
    if (sync.condstore && this.pendingExpunge.size > 0) return out;
    for (const [uid, modSeq] of this.pendingFlags) {
      const seq = this.seqOf(uid);
      const mod = sync.condstore ? ` MODSEQ (${modSeq})` : ''; // RFC 7162 3.1: UID and MODSEQ once enabled
      if (seq > 0) out.push(`* ${seq} FETCH (UID ${uid} FLAGS ${flagsWithRecent(this.flagsOf(uid), this.recent.has(uid), rev2)}${mod})\r\n`);
    }
    this.pendingFlags.clear();
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
  removeUids(uids: readonly number[], vanished = false): string[] {
    const gone = new Set(uids.filter((u) => this.flags.has(u)));
    if (gone.size === 0) return [];
    const out: string[] = [];
    const keep: Uid[] = [];
    let removed = 0;
    this.uids.forEach((uid, i) => {
      if (gone.has(uid)) {
        out.push(`* ${i + 1 - removed} EXPUNGE\r\n`); // each EXPUNGE renumbers the ones after it
        removed++;
        this.flags.delete(uid);
        this.rows.delete(uid);
        this.recent.delete(uid);
        this.pendingExpunge.delete(uid);
        this.pendingFlags.delete(uid);
      } else keep.push(uid);
    });
    this.uids = keep;
    this.announcedExists -= removed; // the client counts each EXPUNGE as one fewer message
    this.saved = this.saved.filter((u) => !gone.has(u));
    return vanished ? vanishedLines([...gone].sort((a, b) => a - b), false) : out;
  }

  /** True when the message was expunged elsewhere and not yet announced. */
  isExpungedPending(uid: number): boolean {
    return this.pendingExpunge.has(uid);
  }
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => s.has(f.toLowerCase()));
}
