// STARTTLS   RFC9051 6.2.1
import { tagged } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import type { ImapCommand } from './types.js';

export const starttls = {
  name: 'STARTTLS',
  states: ['notAuthenticated'],
  async run({ session, args, tag }) {
    args.end();
    if (session.tls) throw new ImapNo('TLS is already active', 'CLIENTBUG', 'BAD');
    if (!session.info.secureContext) throw new ImapNo('TLS is not available', 'UNAVAILABLE');
    session.send(tagged(tag, 'OK', 'Begin TLS negotiation now'));
    session.upgradeTls(); // RFC 9051 6.2.1: buffered plaintext after the command is discarded
    return { sent: true };
  },
} as const satisfies ImapCommand;
