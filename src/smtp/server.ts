/**
 * Inbound SMTP: the MX (port 25), authenticated submission (587 with STARTTLS,
 * 465 with implicit TLS) and LMTP (RFC 2033), one hand-written ESMTP engine in
 * three modes. Entry point: `smtpProtocol(services, { mode, implicitTls })`,
 * wired per listener in src/protocols.ts.
 *
 * Why by hand and not the smtp-server library: it has no CHUNKING/BDAT,
 * BINARYMIME, LIMITS or REQUIRETLS and hides the byte stream those need; the
 * protocol core here is small (protocol/ is pure and fuzzed). mailauth does the
 * SPF/DKIM/DMARC/ARC checks.
 *
 * Never imports: SQL drivers or store backends (only the store contract via
 * services), IMAP/POP3 code.
 * The bytes go through the one connection layer (src/net/connection.ts): lines,
 * BDAT counts, the DATA terminator, STARTTLS, timeouts, trace, backpressure.
 *
 * Invariants: a 250 after DATA/BDAT LAST (and each LMTP 250) is written only after
 * the copy is durable; a message is stored only while its client is still there to
 * hear the reply (a reply that could not be written is logged at warn with the
 * queue id, and a re-send is recognised by resend-guard.ts); a refused message
 * leaves nothing stored; every reply to a 4xx/5xx carries an enhanced status code
 * (RFC 2034); bytes pipelined after STARTTLS are discarded (RFC 3207 4.2).
 */
import type { Services } from '../services.js';
import type { ConnectionHandler } from '../net/listeners.js';
import { busyLines } from '../net/protocol.js';
import { SmtpSession, type SmtpOptions } from './session.js';
import { remoteQueue } from './remote.js';
import { fileResolver, systemResolver } from './auth-results.js';
import { resendGuardOf } from '../mail/resend-guard.js';

export type { SmtpMode, SmtpOptions } from './session.js';

/** The listener handler and the over-the-limit line for one SMTP-family listener. */
export function smtpProtocol(services: Services, opts: SmtpOptions): { handler: ConnectionHandler; busyLine: string } {
  const remote = remoteQueue(services);
  const file = services.config.smtp.dns_file;
  const resolver = file ? fileResolver(file) : systemResolver;
  const resend = resendGuardOf(services);
  const handler: ConnectionHandler = (socket, session) => {
    void new SmtpSession(services, opts, session, socket, { remote, resolver, resend }).run();
  };
  return { handler, busyLine: busyLines.smtp };
}
