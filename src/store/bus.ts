/**
 * Change doorbells. A store publishes an event after each commit that changed a
 * mailbox; sessions (IMAP IDLE, POP3) subscribe and then read `changesSince`.
 * Losing an event only delays a session: the change log is the truth.
 * On PostgreSQL the same interface is carried across nodes by LISTEN/NOTIFY.
 */
import { EventEmitter } from 'node:events';
import type { Id, ModSeq } from './types.js';

export type ChangeKind = 'append' | 'expunge' | 'flags' | 'mailbox-created' | 'mailbox-renamed' | 'mailbox-deleted';

export interface ChangeEvent {
  kind: ChangeKind;
  userId: Id;
  mailboxId: Id;
  /** The mailbox's HIGHESTMODSEQ after the change (0 for mailbox-level events). */
  modSeq: ModSeq;
}

export type ChangeListener = (event: ChangeEvent) => void;

export interface ChangeBus {
  publish(event: ChangeEvent): void;
  /** Listens to every change of one user's mailboxes; returns the unsubscribe function. */
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
    for (const listener of this.emitter.listeners(channel(event.userId)) as ChangeListener[]) {
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
