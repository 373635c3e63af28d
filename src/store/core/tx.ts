/**
 * One transaction as the storage rules see it: the connection and dialect (ReadTx),
 * plus, for writes, the bookkeeping every backend shares (Tx): the MODSEQ stamped per
 * mailbox (bumped once per mailbox per transaction), the change events to publish after
 * commit, the blob hashes to unlink after commit, and the user rows locked so far.
 */
import type { ChangeEvent, ChangeKind } from '../bus.js';
import type { Id, ModSeq } from '../types.js';
import type { BlobBackend } from './blobs.js';
import type { Conn, Dialect } from './port.js';

export class ReadTx implements Conn {
  constructor(
    readonly c: Conn,
    readonly d: Dialect,
  ) {}

  query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.c.query<T>(sql, params);
  }

  get<T>(sql: string, params?: unknown[]): Promise<T | undefined> {
    return this.c.get<T>(sql, params);
  }

  exec(sql: string, params?: unknown[]): Promise<{ changes: number; lastId?: number }> {
    return this.c.exec(sql, params);
  }
}

export class Tx extends ReadTx {
  constructor(
    c: Conn,
    d: Dialect,
    readonly blobs: BlobBackend,
  ) {
    super(c, d);
  }

  private readonly modSeqs = new Map<Id, ModSeq>();
  private readonly events = new Map<Id, { kind: ChangeKind; userId: Id }>();
  private readonly lockedUsers = new Set<Id>();
  /** Blob hashes released to zero references whose bytes go after commit. */
  readonly unlink = new Set<string>();
  /** Contents whose row this transaction deleted (their last reference went): remembered layouts are forgotten after commit. */
  readonly goneContents = new Set<string>();

  /**
   * Locks users' rows (ascending id, once per transaction). Every write that touches a
   * user's mailboxes or quota takes this lock first, so writers of one user queue up in
   * one order (no deadlocks) and quota checks see exact usage. A no-op where the write
   * transaction already excludes other writers.
   */
  async lockUsers(ids: Id[]): Promise<void> {
    if (!this.d.rowLocks) return;
    for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
      if (this.lockedUsers.has(id)) continue;
      await this.exec('SELECT 1 FROM users WHERE id = ? FOR UPDATE', [id]);
      this.lockedUsers.add(id);
    }
  }

  /** A statement of the caller's locked this user's row (FOR UPDATE OF in a join): lockUsers skips it from now on. */
  lockedByCaller(id: Id): void {
    this.lockedUsers.add(id);
  }

  /** The MODSEQ this transaction gives changes in `mailboxId`; the first call bumps HIGHESTMODSEQ. */
  async modSeq(mailboxId: Id): Promise<ModSeq> {
    let m = this.modSeqs.get(mailboxId);
    if (m === undefined) {
      const row = await this.get<{ highest_modseq: number }>(
        'UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq',
        [mailboxId],
      );
      m = row!.highest_modseq;
      this.modSeqs.set(mailboxId, m);
    }
    return m;
  }

  /** The MODSEQ already taken for `mailboxId` in this transaction, if any. */
  knownModSeq(mailboxId: Id): ModSeq | undefined {
    return this.modSeqs.get(mailboxId);
  }

  /** Records a MODSEQ bumped by a statement that did more (see stampAndTakeUids); only before modSeq() was called for the mailbox. */
  setModSeq(mailboxId: Id, modSeq: ModSeq): void {
    if (this.modSeqs.has(mailboxId)) throw new Error(`MODSEQ of mailbox ${mailboxId} already taken in this transaction`);
    this.modSeqs.set(mailboxId, modSeq);
  }

  /** Records one event per mailbox (the first kind recorded wins). */
  touch(kind: ChangeKind, userId: Id, mailboxId: Id): void {
    if (!this.events.has(mailboxId)) this.events.set(mailboxId, { kind, userId });
  }

  /** Events with each mailbox's HIGHESTMODSEQ after this transaction (0 when no rows changed). */
  changeEvents(): ChangeEvent[] {
    return [...this.events].map(([mailboxId, e]) => ({ ...e, mailboxId, modSeq: this.modSeqs.get(mailboxId) ?? 0 }));
  }
}
