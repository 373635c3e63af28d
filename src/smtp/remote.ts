/**
 * The hand-off of remote recipients (submission to other domains, aliases that
 * forward elsewhere, success DSNs to remote senders) to the outbound queue
 * (src/mail/outbound.ts): resolves once the queue entry is durable, so the 250
 * after DATA may follow. DSN parameters travel with each recipient (RFC 3461).
 */
import type { Services } from '../services.js';
import { enqueue, type DsnNotify } from '../mail/outbound.js';
import type { MessageSource } from '../mail/message-source.js';

export interface RemoteRecipient {
  address: string;
  notify?: DsnNotify[];
  /** `type;address` as given in ORCPT (decoded). */
  orcpt?: string;
}

export interface RemoteMessage {
  /** MAIL FROM ('' = null sender). */
  from: string;
  to: RemoteRecipient[];
  /** Read, never disposed, by the queue: the caller owns it. */
  message: MessageSource;
  requireTls: boolean;
  smtpUtf8: boolean;
  eightBit: boolean;
  envid?: string;
  ret?: 'FULL' | 'HDRS';
  /** DKIM-sign (submission); false for mail relayed from elsewhere and for DSNs. */
  sign: boolean;
}

export interface RemoteQueue {
  available: boolean;
  /** Resolves with the queue id once the message is durable in the queue. */
  enqueue(msg: RemoteMessage): Promise<string>;
}

export function remoteQueue(services: Services): RemoteQueue {
  return {
    available: true,
    async enqueue(m) {
      const { id } = await enqueue(
        services,
        m.message,
        { from: m.from, recipients: m.to, envid: m.envid, ret: m.ret, requireTls: m.requireTls, smtpUtf8: m.smtpUtf8, eightBit: m.eightBit },
        { sign: m.sign },
      );
      return id;
    },
  };
}
