/**
 * Which handler serves each listener: IMAP, POP3, SMTP (MX, submission, LMTP), and
 * HTTP (src/http/healthz.ts). To add a protocol: import its factory and return it
 * for its listener names. The `Protocol` shape lives next to the listeners
 * (src/net/protocol.ts).
 */
import type { ListenerName } from './config/schema.js';
import type { Protocol } from './net/protocol.js';
import { httpProtocol } from './http/healthz.js';
import { imapProtocol } from './imap/server.js';
import { pop3Protocol } from './pop3/server.js';
import type { Services } from './services.js';
import { smtpProtocol } from './smtp/server.js';

export function protocolFor(name: ListenerName, _services: Services): Protocol {
  switch (name) {
    case 'pop3':
    case 'pop3s':
      return pop3Protocol(_services, { implicitTls: name === 'pop3s' });
    case 'smtp':
    case 'submission':
    case 'submissions':
    case 'lmtp':
      return smtpProtocol(_services, { mode: name === 'smtp' ? 'mx' : name === 'lmtp' ? 'lmtp' : 'submission', implicitTls: name === 'submissions' });
    case 'imap':
    case 'imaps':
      return imapProtocol(_services, { implicitTls: name === 'imaps' });
    case 'http':
      return httpProtocol(_services.config.limits.http_request_timeout_s * 1000);
  }
}
