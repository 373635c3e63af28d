/**
 * What every protocol session may use, built once by server.ts: configuration,
 * the store and its change bus, the shared authenticator (one brute-force
 * throttle for IMAP, POP3 and SMTP), local delivery and the root logger.
 * Protocol modules receive this value; they never open stores themselves.
 */
import type { Logger } from 'pino';
import type { Config } from './config/load.js';
import type { ListenAddress, ListenerName } from './config/schema.js';
import type { ChangeBus } from './store/bus.js';
import type { Store } from './store/types.js';
import type { Authenticator } from './auth/authenticate.js';
import type { LiveLogins } from './auth/live-logins.js';
import type { DeliveryContext } from './mail/delivery.js';

export interface Services {
  config: Config;
  store: Store;
  bus: ChangeBus;
  auth: Authenticator;
  /** Open sessions by login, ended when their credential is revoked or changed (containment). */
  logins: LiveLogins;
  delivery: DeliveryContext;
  log: Logger;
  /** Owner prefix of this process's store leases (src/mail/lease-owner.ts); a session appends its id. */
  leaseOwner: string;
  /** PEM certificate and key, for STARTTLS/STLS (the listener framework also offers `session.secureContext`). */
  tls: { cert: string; key: string };
  /** Bound address of each listener that is on, filled in once they all listen (port 0 in the config becomes the real port); absent: the configured addresses. */
  listening?: Partial<Record<ListenerName, ListenAddress>>;
}
