// ENABLE capability *(SP capability)   RFC5161 3.1, RFC9051 6.3.1
import type { ImapCommand } from './types.js';

export const enable = {
  name: 'ENABLE',
  states: ['authenticated', 'selected'],
  async run({ session, args }) {
    const wanted: string[] = [args.atom('capability')];
    while (args.optionalSp()) wanted.push(args.atom('capability'));
    args.end();
    const enabled: string[] = [];
    for (const cap of wanted) {
      // Only what this server implements fully can be enabled; others are ignored (RFC 5161 3.1).
      if (cap.toUpperCase() === 'IMAP4REV2' && !session.rev2) {
        session.rev2 = true;
        enabled.push('IMAP4rev2');
      }
    }
    session.send(`* ENABLED${enabled.map((c) => ` ${c}`).join('')}\r\n`);
  },
} as const satisfies ImapCommand;
