/**
 * What a mail app needs to know to connect: for IMAP, POP3 and submission, the host,
 * port and TLS mode of each listener that is on, implicit TLS first (RFC 8314 3: it is
 * preferred to STARTTLS). Every autoconfiguration format (Thunderbird, Autodiscover,
 * Apple profiles) and the SRV records of `mailroom dns` are written from this one list.
 */
import type { Config, ListenAddress, ListenerName } from '../config/schema.js';

export type MailProtocol = 'imap' | 'pop3' | 'smtp';
export type TlsMode = 'implicit' | 'starttls';

export interface Endpoint {
  protocol: MailProtocol;
  listener: ListenerName;
  host: string;
  port: number;
  tls: TlsMode;
}

/** Listeners mail apps use, in order of preference within each protocol. */
const CLIENT_LISTENERS: readonly { listener: ListenerName; protocol: MailProtocol; tls: TlsMode }[] = [
  { listener: 'imaps', protocol: 'imap', tls: 'implicit' },
  { listener: 'imap', protocol: 'imap', tls: 'starttls' },
  { listener: 'pop3s', protocol: 'pop3', tls: 'implicit' },
  { listener: 'pop3', protocol: 'pop3', tls: 'starttls' },
  { listener: 'submissions', protocol: 'smtp', tls: 'implicit' },
  { listener: 'submission', protocol: 'smtp', tls: 'starttls' },
];

/**
 * The endpoints of the listeners that are on. `bound` (the running server's addresses)
 * wins over the configured port, which is 0 when the system picks one.
 */
export function clientEndpoints(config: Config, bound: Partial<Record<ListenerName, ListenAddress>> = {}): Endpoint[] {
  const out: Endpoint[] = [];
  for (const { listener, protocol, tls } of CLIENT_LISTENERS) {
    const configured = config.listen[listener];
    if (configured === 'off') continue;
    out.push({ protocol, listener, host: config.hostname, port: bound[listener]?.port ?? configured.port, tls });
  }
  return out;
}

/** The endpoints of one protocol, preferred first. */
export function endpointsOf(endpoints: Endpoint[], protocol: MailProtocol): Endpoint[] {
  return endpoints.filter((e) => e.protocol === protocol);
}
