/**
 * The IMAP server (RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1, with IDLE, MOVE, UIDPLUS,
 * ESEARCH, LIST-EXTENDED, BINARY, …): builds the connection handler for the `imap`
 * (plain + STARTTLS) and `imaps` (implicit TLS) listeners.
 *
 *   session.ts      Connection (src/net) ↔ CommandReader ↔ commands, limits, timeouts
 *   state.ts        notAuthenticated | authenticated | selected | logout
 *   selected.ts     the selected mailbox: UID ↔ sequence numbers, pending changes, \Recent
 *   commands/       one module per command (family); commands/index.ts is the table
 *   errors.ts       StoreError / parse errors / internal errors → NO/BAD, in one place
 *   capabilities.ts what is advertised in each state
 *   protocol/       the pure codec (framing, arguments, response writers)
 *
 * Never imports: SQL or store backends (only src/store/types.ts), other protocols.
 * Invariants: sequence numbers change only by an EXPUNGE this server announced;
 * nothing a client sends can throw out of a session; internal errors are logged
 * with the session id and never shown to the client.
 */
import type { ConnectionHandler } from '../net/listeners.js';
import { busyLines } from '../net/protocol.js';
import type { Services } from '../services.js';
import { ImapSession } from './session.js';

export interface ImapProtocol {
  handler: ConnectionHandler;
  busyLine: string;
}

/** The handler for one IMAP listener; `implicitTls` for `imaps` (the socket is already TLS). */
export function imapProtocol(services: Services, opts: { implicitTls: boolean }): ImapProtocol {
  return {
    handler: (socket, session) => {
      const s = new ImapSession(services, socket, session, opts.implicitTls);
      s.start();
    },
    busyLine: busyLines.imap,
  };
}
