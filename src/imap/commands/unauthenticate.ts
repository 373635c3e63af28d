// UNAUTHENTICATE   RFC8437 3
import { codes } from '../protocol/index.js';
import type { ImapCommand } from './types.js';

export const unauthenticate = {
  name: 'UNAUTHENTICATE',
  states: ['authenticated', 'selected'],
  async run({ session, args }) {
    args.end();
    // RFC 8437 3: a selected mailbox is closed without expunge; TLS and COMPRESS stay as they are
    session.loggedOut();
    return { code: codes.capability(session.capabilities()), text: 'Not authenticated any more' };
  },
} as const satisfies ImapCommand;
