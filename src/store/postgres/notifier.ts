/**
 * Change doorbells to other nodes, sent after commit: a node's events go out in one NOTIFY
 * transaction of their own, on one connection whose commits do not wait for the WAL flush,
 * and events committed while one is in flight go together in the next.
 *
 * Why not NOTIFY inside the write transaction: PostgreSQL serialises the commits of all
 * transactions that NOTIFY under one lock per database, held until the commit's WAL flush
 * is done (async.c PreCommit_Notify), so every delivery waited for every other's flush
 * in turn: no group commit, and a second node made deliveries no faster. A doorbell needs
 * no durability of its own (the change log is the truth; docs and ../bus.ts), so its
 * transaction is `synchronous_commit=off`; the data it rings for is durable already.
 *
 * Invariants: events are sent only after their transaction committed, in commit order per
 * node; a failed send keeps its events (up to MAX_PENDING) and retries after a pause; close()
 * sends what is pending first. A crash between a commit and its doorbell only delays other
 * nodes' sessions until their next change or re-check, as a lost NOTIFY always could.
 */

/** Sends one batch of payloads (one transaction); rejects when nothing was sent. */
export type SendBatch = (payloads: string[]) => Promise<void>;

/** Payloads kept while the database cannot be reached; older ones are dropped past this (doorbells only). */
const MAX_PENDING = 10_000;
const RETRY_MS = 250;

export class ChangeNotifier {
  private pending: string[] = [];
  /** The batch in flight, if any; later payloads wait in `pending` for the next. */
  private sending: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly send: SendBatch) {}

  /** Queues a payload; it goes with the next batch (at once, when none is in flight). */
  notify(payload: string): void {
    if (this.closed) return;
    this.pending.push(payload);
    if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING);
    this.kick();
  }

  /** Sends what is pending (no retry after a failure), then takes no more payloads. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.kick();
    while (this.sending) await this.sending;
  }

  private kick(): void {
    if (this.sending || this.retry || this.pending.length === 0) return;
    const batch = this.pending.splice(0);
    this.sending = this.send(batch).then(
      () => {
        this.sending = undefined;
        this.kick();
      },
      () => {
        this.sending = undefined;
        if (this.closed) return; // closing: one attempt only
        const room = MAX_PENDING - this.pending.length; // the oldest go first
        if (room > 0) this.pending.unshift(...batch.slice(Math.max(0, batch.length - room)));
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.kick();
        }, RETRY_MS);
        this.retry.unref();
      },
    );
  }
}
