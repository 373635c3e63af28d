/**
 * The POP3 maildrop (RFC 1939): INBOX as a snapshot taken at login, held under a
 * store lease so only one POP3 session per user works on it at a time (across
 * processes and nodes), with deletions applied only at UPDATE (QUIT).
 *
 * Never imports: protocol code (src/pop3), SQL. Everything goes through the Store.
 * Invariants:
 * - Message numbers are positions in the snapshot; they never change in a session.
 * - Nothing is written to the store before commit() except \Seen from RETR (only for
 *   messages not \Seen in the snapshot: one write per message at most).
 * - The lease is renewed while the session lives; a crashed node's lease expires.
 * - Octet counts are the MIME index's size (bare LF counted as CRLF), which is exactly
 *   what RETR sends before byte-stuffing (RFC 1939 11: sizes are of the CRLF form).
 */
import { randomBytes } from 'node:crypto';
import type { Id, Mailbox, MessageRow, Store, Uid, User } from '../store/types.js';
import { POP3_HIDDEN_KEYWORD, type Pop3Policy } from './pop3-policy.js';
import { deletedBy } from './recently-deleted.js';
import { deleteForDevice } from './device-delete.js';
import type { DeviceDeleteMode } from '../auth/device-limits.js';

/** How long a maildrop lease lasts without renewal; renewed every third of it. */
export const MAILDROP_LEASE_MS = 60_000;

/** Who reads the maildrop: whose `\Seen` RETR sets (a member's is private), and whether the device may delete. */
export interface MaildropViewer {
  viewerId: Id;
  readOnly: boolean;
  /** Who deletes, for Recently Deleted (actorOf); default the account address. */
  actor?: string;
  /** The device logged in with (its hidden set is left out), and its `delete=` mode. */
  deviceId?: Id | null;
  deleteMode?: DeviceDeleteMode;
  /** window=Nd: mail with an older internal date is not in the maildrop. */
  windowSince?: Date | null;
}

export interface MaildropMessage {
  uid: Uid;
  uidl: string;
  /** Octets as sent by RETR (CRLF form, before byte-stuffing). */
  octets: number;
  contentId: string;
  /** Offset where the body starts (after the header and its blank line), for TOP. */
  bodyStart: number;
  /** No LF without CR before it (the index's size is the raw size): RETR and TOP only stuff dots. */
  crlfOnly: boolean;
  internalDate: Date;
  deleted: boolean;
  retrieved: boolean;
  /** \Seen at login or set by this session: RETR then writes nothing. */
  seen: boolean;
}

export type OpenResult = { ok: true; maildrop: Maildrop } | { ok: false; reason: 'in-use' | 'login-delay' };

/** Content is immutable, so what the index says about it can be cached for the process. */
interface ContentFacts {
  octets: number;
  bodyStart: number;
  crlfOnly: boolean;
}
const contentFacts = new Map<string, ContentFacts>();
const FACTS_MAX = 50_000;

async function factsOf(store: Store, contentId: string, rawSize: number): Promise<ContentFacts> {
  let f = contentFacts.get(contentId);
  if (!f) {
    const meta = await store.getContent(contentId);
    // The index counts each bare LF as two octets, so equal sizes mean there is none.
    f = meta ? { octets: meta.index.size, bodyStart: meta.index.body.headerEnd, crlfOnly: meta.index.size === meta.size } : { octets: rawSize, bodyStart: 0, crlfOnly: false };
    if (contentFacts.size >= FACTS_MAX) contentFacts.clear();
    contentFacts.set(contentId, f);
  }
  return f;
}

function hidden(row: MessageRow): boolean {
  const k = POP3_HIDDEN_KEYWORD.toLowerCase();
  return row.flags.some((f) => f.toLowerCase() === k);
}

function seen(row: MessageRow): boolean {
  return row.flags.some((f) => f.toLowerCase() === '\\seen');
}

export class Maildrop {
  private renewTimer: NodeJS.Timeout | undefined;
  private lost = false;
  private released = false;

  private constructor(
    private readonly store: Store,
    readonly user: User,
    readonly inbox: Mailbox,
    readonly policy: Pop3Policy,
    private readonly leaseKey: string,
    private readonly owner: string,
    readonly messages: MaildropMessage[],
    private readonly as: MaildropViewer,
  ) {}

  /**
   * Locks the user's maildrop, enforces LOGIN-DELAY and takes the snapshot.
   * `in-use` when another session holds it (RFC 2449 8.1.1), `login-delay` when the
   * last login was too recent (RFC 2449 8.1.3; the lock is not kept then).
   */
  static async open(store: Store, user: User, policy: Pop3Policy, sessionId: string, now = new Date(), as: MaildropViewer = { viewerId: user.id, readOnly: false }): Promise<OpenResult> {
    const leaseKey = `pop3-maildrop:${user.id}`;
    const owner = `${sessionId}:${randomBytes(6).toString('hex')}`;
    if (!(await store.acquireLease(leaseKey, owner, MAILDROP_LEASE_MS))) return { ok: false, reason: 'in-use' };
    try {
      const login = await store.recordLogin(user.id, 'pop3', now, policy.loginDelay * 1000);
      if (!login.ok) {
        await store.releaseLease(leaseKey, owner);
        return { ok: false, reason: 'login-delay' };
      }
      const inbox = await store.getMailbox(user.id, 'INBOX');
      if (!inbox) throw new Error('user has no INBOX');
      const deviceHidden = as.deviceId == null ? [] : await store.deviceHiddenUids(as.deviceId, inbox.id);
      const gone = new Set<number>(deviceHidden);
      const rows = (await store.listMessages(inbox.id, as.viewerId)).filter((r) => !hidden(r) && (gone.size === 0 || !gone.has(r.uid)) && (!as.windowSince || r.internalDate >= as.windowSince));
      const messages: MaildropMessage[] = [];
      for (const r of rows) {
        const f = await factsOf(store, r.contentId, r.size);
        messages.push({ uid: r.uid, uidl: r.uidl, octets: f.octets, bodyStart: f.bodyStart, crlfOnly: f.crlfOnly, contentId: r.contentId, internalDate: r.internalDate, deleted: false, retrieved: false, seen: seen(r) });
      }
      const drop = new Maildrop(store, user, inbox, policy, leaseKey, owner, messages, as);
      drop.startRenewing();
      return { ok: true, maildrop: drop };
    } catch (err) {
      await store.releaseLease(leaseKey, owner).catch(() => undefined);
      throw err;
    }
  }

  private startRenewing(): void {
    this.renewTimer = setInterval(() => {
      this.store.renewLease(this.leaseKey, this.owner, MAILDROP_LEASE_MS).then(
        (ok) => (this.lost ||= !ok),
        () => undefined, // a failed renewal is retried at the next tick; the lease still has time
      );
    }, MAILDROP_LEASE_MS / 3);
    this.renewTimer.unref();
  }

  /** The message with 1-based number n: 'nosuch' outside the snapshot, 'deleted' when marked. */
  get(n: number): MaildropMessage | 'nosuch' | 'deleted' {
    const m = Number.isSafeInteger(n) && n >= 1 ? this.messages[n - 1] : undefined;
    if (!m) return 'nosuch';
    return m.deleted ? 'deleted' : m;
  }

  /** RFC 1939 5 STAT: count and octets of the messages not marked deleted. */
  stat(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    for (const m of this.messages) {
      if (m.deleted) continue;
      count++;
      octets += m.octets;
    }
    return { count, octets };
  }

  /**
   * After RETR: remembers it (EXPIRE 0) and sets \Seen when the policy says so. Mail
   * already \Seen at login (or marked earlier in this session) needs no write transaction:
   * a re-downloading leave-on-server client would otherwise take the write lock per RETR.
   */
  async retrieved(m: MaildropMessage): Promise<void> {
    m.retrieved = true;
    if (this.policy.markSeen && !m.seen) {
      await this.store.updateFlags({ mailboxId: this.inbox.id, uids: [m.uid], op: 'add', flags: ['\\Seen'], viewerId: this.as.viewerId });
      m.seen = true;
    }
  }

  /** A read-only device (`readonly=yes`) may not DELE. */
  get readOnly(): boolean {
    return this.as.readOnly;
  }

  /** RFC 1939 5 RSET: unmarks every message. */
  reset(): void {
    for (const m of this.messages) m.deleted = false;
  }

  /** Messages that UPDATE removes: marked deleted, plus what EXPIRE says (RFC 2449 6.7). */
  doomed(now = new Date()): MaildropMessage[] {
    if (this.as.readOnly) return []; // a read-only device removes nothing, not even by EXPIRE
    const keep = this.policy.keepDays;
    const cutoff = keep === null ? null : now.getTime() - keep * 86_400_000;
    return this.messages.filter((m) => {
      if (m.deleted) return true;
      if (keep === 0) return m.retrieved; // EXPIRE 0: the client may not leave retrieved mail on the server
      return cutoff !== null && keep !== null && keep > 0 && m.internalDate.getTime() < cutoff;
    });
  }

  /**
   * RFC 1939 6 UPDATE: removes the doomed messages (expunge: for everyone, IMAP sees
   * EXPUNGE; hide: flags them $POP3Deleted) and releases the lock. Throws when the lock
   * was lost (the session stalled past the lease), so nothing is removed on a stale view.
   */
  async commit(now = new Date()): Promise<number> {
    if (this.lost) throw new Error('maildrop lock lost');
    const doomed = this.doomed(now);
    const uids = doomed.map((m) => m.uid);
    // The lock is checked (by renewing it) only when something is removed: a leave-on-server
    // QUIT changes nothing, so it saves a write transaction and its fsync.
    if (uids.length > 0) {
      if (!(await this.store.renewLease(this.leaseKey, this.owner, MAILDROP_LEASE_MS))) throw new Error('maildrop lock lost');
      const mode = this.as.deleteMode ?? 'everywhere';
      if (mode !== 'everywhere') {
        // The device's own mode wins over the account's pop3.deleteMode (src/mail/device-delete.ts).
        const dele = doomed.filter((m) => m.deleted).map((m) => m.uid);
        const expired = doomed.filter((m) => !m.deleted).map((m) => m.uid);
        const base = { mode, deviceId: this.as.deviceId ?? null, userId: this.user.id, mailbox: this.inbox, clearDeleted: false };
        await deleteForDevice(this.store, { ...base, uids: dele, by: deletedBy('pop3', this.as.actor ?? this.user.address) });
        await deleteForDevice(this.store, { ...base, uids: expired, by: deletedBy('retention', this.user.address) });
      } else if (this.policy.deleteMode === 'expunge') {
        // Recently Deleted records DELE as POP3 and the EXPIRE policy as retention.
        const dele = doomed.filter((m) => m.deleted).map((m) => m.uid);
        const expired = doomed.filter((m) => !m.deleted).map((m) => m.uid);
        if (dele.length > 0) await this.store.expunge(this.inbox.id, dele, deletedBy('pop3', this.as.actor ?? this.user.address));
        if (expired.length > 0) await this.store.expunge(this.inbox.id, expired, deletedBy('retention', this.user.address));
      } else if (this.as.deviceId != null) {
        // A device's hide is its own: another POP3 computer still downloads the mail (IMAP keeps it).
        await this.store.hideFromDevice(this.as.deviceId, this.inbox.id, uids);
      } else {
        await this.store.updateFlags({ mailboxId: this.inbox.id, uids, op: 'add', flags: [POP3_HIDDEN_KEYWORD], viewerId: this.user.id });
      }
    }
    await this.release();
    return uids.length;
  }

  /** Ends the session without UPDATE (connection lost, shutdown): nothing is removed. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.renewTimer);
    await this.store.releaseLease(this.leaseKey, this.owner).catch(() => undefined);
  }

  /** The user id, for logs. */
  get userId(): Id {
    return this.user.id;
  }
}
