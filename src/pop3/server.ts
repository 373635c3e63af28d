/**
 * The POP3 server (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH, RFC 6856 UTF8)
 * on the shared store: `pop3Protocol(services, { implicitTls })` is the listener handler
 * for `pop3` (plain + STLS) and `pop3s` (implicit TLS).
 *
 * Never imports: SQL or store backends (only the Store contract through src/mail/),
 * src/imap. Mixed IMAP+POP3 rules (snapshot, lock, UIDL, delete modes) live in
 * src/mail/maildrop.ts and src/mail/pop3-policy.ts.
 * Invariants: one POP3 session per maildrop (store lease); deletions reach the store
 * only at QUIT; every response is written with socket backpressure.
 */
import { busyLines, type Protocol } from '../net/protocol.js';
import type { Services } from '../services.js';
import { Pop3Session } from './session.js';

export function pop3Protocol(services: Services, opts: { implicitTls: boolean }): Protocol {
  return {
    busyLine: busyLines.pop3,
    handler(socket, session) {
      const s = new Pop3Session(services, session, socket, opts.implicitTls);
      s.run().catch((e: unknown) => {
        session.log.error({ err: e }, 'pop3 session crashed');
        socket.destroy();
      });
    },
  };
}
