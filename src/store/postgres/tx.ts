/**
 * One PostgreSQL transaction's bookkeeping: the client, the MODSEQ it stamps per
 * mailbox (bumped once per mailbox per transaction, under the mailbox row lock), and
 * the change events to publish. Events are NOTIFYed inside the transaction, so other
 * nodes hear them exactly when (and only if) it commits.
 */
import type { ChangeEvent, ChangeKind } from '../bus.js';
import type { Id, ModSeq } from '../types.js';
import type { Client } from './db.js';

/** The NOTIFY channel every node LISTENs on. */
export const CHANGE_CHANNEL = 'mailroom_changes';

export class PgTx {
  private readonly modSeqs = new Map<Id, ModSeq>();
  private readonly events = new Map<Id, { kind: ChangeKind; userId: Id }>();
  private readonly lockedUsers = new Set<Id>();
  /** Blob hashes released to zero references (file-system blobs go after commit). */
  readonly unlink = new Set<string>();

  constructor(
    readonly c: Client,
    /** Identifies this process in NOTIFY payloads, so its own bus does not fire twice. */
    readonly origin: string,
  ) {}

  async rows<R>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.c.query(sql, params)).rows as R[];
  }

  async one<R>(sql: string, params: unknown[] = []): Promise<R | undefined> {
    return (await this.c.query(sql, params)).rows[0] as R | undefined;
  }

  async run(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.c.query(sql, params)).rowCount ?? 0;
  }

  /**
   * Locks users' rows (ascending id, once per transaction). Every write that touches a
   * user's mailboxes or quota takes this lock first, so writers of one user queue up in
   * one order (no deadlocks) and quota checks see exact usage.
   */
  async lockUsers(ids: Id[]): Promise<void> {
    for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
      if (this.lockedUsers.has(id)) continue;
      await this.run('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [id]);
      this.lockedUsers.add(id);
    }
  }

  /** The MODSEQ this transaction gives changes in `mailboxId`; the first call bumps HIGHESTMODSEQ. */
  async modSeq(mailboxId: Id): Promise<ModSeq> {
    let m = this.modSeqs.get(mailboxId);
    if (m === undefined) {
      const row = await this.one<{ highest_modseq: number }>(
        'UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = $1 RETURNING highest_modseq',
        [mailboxId],
      );
      m = row!.highest_modseq;
      this.modSeqs.set(mailboxId, m);
    }
    return m;
  }

  /** Records one event per mailbox (the first kind recorded wins). */
  touch(kind: ChangeKind, userId: Id, mailboxId: Id): void {
    if (!this.events.has(mailboxId)) this.events.set(mailboxId, { kind, userId });
  }

  changeEvents(): ChangeEvent[] {
    return [...this.events].map(([mailboxId, e]) => ({ ...e, mailboxId, modSeq: this.modSeqs.get(mailboxId) ?? 0 }));
  }

  /** NOTIFY each event; PostgreSQL delivers them to listeners on commit, never on rollback. */
  async notify(): Promise<void> {
    for (const e of this.changeEvents()) {
      await this.run('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, JSON.stringify({ ...e, origin: this.origin })]);
    }
  }
}
