// ENABLE capability *(SP capability)   RFC5161 3.1, RFC9051 6.3.1, RFC7162 3.1.8 (CONDSTORE), 3.2.3 (QRESYNC),
//   RFC6855 3 (UTF8=ACCEPT), RFC9586 3 (UIDONLY)
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
      const c = cap.toUpperCase();
      if (c === 'IMAP4REV2' && !session.rev2) {
        session.rev2 = true;
        enabled.push('IMAP4rev2');
      } else if (c === 'CONDSTORE' && !session.condstore) {
        session.condstore = true;
        enabled.push('CONDSTORE');
      } else if (c === 'QRESYNC' && !session.qresync) {
        session.qresync = true; // RFC 7162 3.2.3: QRESYNC implies CONDSTORE
        session.condstore = true;
        enabled.push('QRESYNC');
      } else if (c === 'UTF8=ACCEPT' && !session.utf8Accept) {
        session.utf8Accept = true; // later commands' mailbox names are parsed and sent as UTF-8
        enabled.push('UTF8=ACCEPT');
      } else if (c === 'UIDONLY' && !session.uidOnly) {
        session.uidOnly = true; // from the next command on: UID forms only, UIDFETCH and VANISHED responses
        enabled.push('UIDONLY');
      }
    }
    session.send(`* ENABLED${enabled.map((c) => ` ${c}`).join('')}\r\n`);
  },
} as const satisfies ImapCommand;
