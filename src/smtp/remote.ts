/**
 * The hand-off of remote recipients (submission to other domains, aliases that
 * forward elsewhere) to the outbound queue. Until the queue exists this says
 * "not available" and RCPT answers with a clear temporary error, so nothing is
 * accepted that could not be sent.
 */
import type { Readable } from 'node:stream';
import type { Services } from '../services.js';

export interface RemoteMessage {
  /** MAIL FROM ('' = null sender). */
  from: string;
  to: string[];
  message: Buffer | Readable;
  requireTls: boolean;
}

export interface RemoteQueue {
  available: boolean;
  /** Resolves once the message is durable in the queue. */
  enqueue(msg: RemoteMessage): Promise<void>;
}

export function remoteQueue(_services: Services): RemoteQueue {
  return {
    available: false,
    enqueue: async () => {
      throw new Error('outbound queue not available');
    },
  };
}
