/**
 * Change doorbells. A store publishes an event after each commit that changed a
 * mailbox; sessions (IMAP IDLE, POP3) subscribe and then read `changesSince`.
 * Losing an event only delays a session: the change log is the truth.
 * On PostgreSQL the same interface is carried across nodes by LISTEN/NOTIFY.
 *
 * One event kind is not about one mailbox: `recheck` (see RECHECK) says "something
 * changed that this process did not see happen (another process committed, the
 * cross-node listener reconnected), every subscriber re-check once". It reaches every
 * subscriber, whatever user it subscribed for.
 *
 * `subscription` (mailboxId 0) says a user's subscriptions changed (IMAP NOTIFY SubscriptionChange);
 * rung by the store's commit like the others, so other nodes hear it through NOTIFY.
 *
 * `credentials` (mailboxId 0) says a user's password, devices, members or login settings
 * changed: open sessions of that user check that their login still holds.
 */
import { EventEmitter } from 'node:events';
import type { Id, ModSeq } from './types.js';

export type ChangeKind = 'append' | 'expunge' | 'flags' | 'mailbox-created' | 'mailbox-renamed' | 'mailbox-deleted' | 'subscription' | 'credentials' | 'recheck';

export interface ChangeEvent {
  kind: ChangeKind;
  userId: Id;
  mailboxId: Id;
  /** The mailbox's HIGHESTMODSEQ after the change (0 for mailbox-level events). */
  modSeq: ModSeq;
}

/**
 * The broadcast doorbell: userId, mailboxId and modSeq are 0 because the ringer does not
 * know them (a commit by another process, found by the per-process change poller).
 * A subscriber re-reads what it watches once, as it would after a lost event.
 */
export const RECHECK: Readonly<ChangeEvent> = Object.freeze({ kind: 'recheck', userId: 0, mailboxId: 0, modSeq: 0 });

export type ChangeListener = (event: ChangeEvent) => void;

export interface ChangeBus {
  publish(event: ChangeEvent): void;
  /** Listens to every change of one user's mailboxes (and to RECHECK); returns the unsubscribe function. */
  subscribe(userId: Id, listener: ChangeListener): () => void;
}

/** Single-process bus. Listener errors are isolated so one broken session cannot stop delivery. */
export class LocalChangeBus implements ChangeBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every IDLE session of a user listens on one channel; thousands are legitimate.
    this.emitter.setMaxListeners(0);
  }

  publish(event: ChangeEvent): void {
    if (event.kind === 'recheck') {
      for (const name of this.emitter.eventNames()) this.deliver(name as string, event);
    } else this.deliver(channel(event.userId), event);
  }

  private deliver(name: string, event: ChangeEvent): void {
    for (const listener of this.emitter.listeners(name) as ChangeListener[]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its session's problem, never the publisher's.
      }
    }
  }

  subscribe(userId: Id, listener: ChangeListener): () => void {
    const name = channel(userId);
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}

function channel(userId: Id): string {
  return `user:${userId}`;
}
