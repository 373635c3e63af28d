// CAPABILITY, NOOP, LOGOUT, ID   RFC9051 6.1.1-6.1.3, RFC2971 3.1
import { formatString } from '../protocol/index.js';
import type { ImapCommand } from './types.js';

const ANY = ['notAuthenticated', 'authenticated', 'selected'] as const;

export const capability = {
  name: 'CAPABILITY',
  states: ANY,
  async run({ session, args }) {
    args.end();
    session.send(`* CAPABILITY ${session.capabilities().join(' ')}\r\n`); // RFC 9051 7.2.2
  },
} as const satisfies ImapCommand;

export const noop = {
  name: 'NOOP',
  states: ANY,
  // NOOP is the classic poll: pending EXPUNGE/EXISTS/FETCH go out before its OK (RFC 9051 6.1.2)
  async run({ args }) {
    args.end();
  },
} as const satisfies ImapCommand;

export const logout = {
  name: 'LOGOUT',
  states: ANY,
  async run({ session, args, tag }) {
    args.end();
    session.send('* BYE Logging out\r\n'); // RFC 9051 6.1.3 MUST send BYE before OK
    session.send(`${tag} OK LOGOUT completed\r\n`);
    session.close();
    return { sent: true };
  },
} as const satisfies ImapCommand;

/** ID ( "name" "value" ... ) / NIL: the client's fields are read and ignored (RFC 2971 3.1). */
export const id = {
  name: 'ID',
  states: ANY,
  async run({ session, args }) {
    if (args.peekAtom() === 'NIL') args.atom();
    else {
      const fields = args.list((r) => r.nstring(), { allowEmpty: true, what: 'ID parameters' });
      if (fields.length % 2 !== 0 || fields.length > 60) throw args.error('ID needs field/value pairs (at most 30)'); // RFC 2971 3.3
    }
    args.end();
    session.send(`* ID (${formatString('name')} ${formatString('Mailroom')} ${formatString('vendor')} ${formatString('Mailroom')})\r\n`);
  },
} as const satisfies ImapCommand;
