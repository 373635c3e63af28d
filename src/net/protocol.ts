/**
 * What a listener needs from a protocol: the connection handler and the line said to
 * a client over the per-IP limit. Each protocol's factory (imapProtocol, pop3Protocol,
 * smtpProtocol, httpProtocol) returns one; src/protocols.ts maps listeners to them.
 */
import type { ConnectionHandler } from './listeners.js';

export interface Protocol {
  handler: ConnectionHandler;
  /** Written before closing a connection over the per-IP limit. */
  busyLine?: string;
}

/** Lines for a connection over the per-IP limit, in each protocol's words. */
export const busyLines = {
  imap: '* BYE [UNAVAILABLE] Mailroom: too many connections from your address\r\n', // RFC9051 7.1.5
  pop3: '-ERR [SYS/TEMP] Mailroom: too many connections from your address\r\n', // RFC2449 8.1.2
  smtp: '421 4.7.0 Mailroom: too many connections from your address\r\n', // RFC5321 3.8
  http: 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n',
} as const;
