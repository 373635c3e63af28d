/**
 * One write transaction's bookkeeping: the MODSEQ it stamps per mailbox (bumped once
 * per mailbox per transaction), the change events to publish after commit, and the
 * blob files to unlink after commit.
 */
import type { ChangeEvent, ChangeKind } from '../bus.js';
import type { FsBlobStore } from '../blob/fs-blob-store.js';
import type { Id, ModSeq } from '../types.js';
import type { Statements } from './db.js';

export class Tx {
  private readonly modSeqs = new Map<Id, ModSeq>();
  private readonly events = new Map<Id, { kind: ChangeKind; userId: Id }>();
  /** Blob hashes whose rows were deleted: their files go after commit. */
  readonly unlink = new Set<string>();

  constructor(
    readonly s: Statements,
    readonly blobs: FsBlobStore,
  ) {}

  /** The MODSEQ this transaction gives changes in `mailboxId`; the first call bumps HIGHESTMODSEQ. */
  modSeq(mailboxId: Id): ModSeq {
    let m = this.modSeqs.get(mailboxId);
    if (m === undefined) {
      const row = this.s
        .get('UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq')
        .get(mailboxId) as { highest_modseq: number };
      m = row.highest_modseq;
      this.modSeqs.set(mailboxId, m);
    }
    return m;
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
