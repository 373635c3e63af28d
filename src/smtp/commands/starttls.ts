// STARTTLS   RFC 3207 4, 4.2
import type { SmtpSession } from '../session.js';

export async function starttls(s: SmtpSession, args: string): Promise<void> {
  if (args !== '') return s.reply(501, '5.5.4', 'STARTTLS takes no arguments');
  if (s.secure) return s.reply(503, '5.5.1', 'TLS already active');
  const ctx = s.net.secureContext;
  if (!ctx) return s.reply(454, '4.7.0', 'TLS not available');
  // Resolves at once unless the socket buffer is full (then at drain): the switch is made before the client can answer.
  await s.reply(220, '2.0.0', 'Ready to start TLS');
  await s.io.startTls(ctx); // drops pipelined plaintext, RFC 3207 4.2
  // RFC 3207 4.2: forget everything learnt before the handshake.
  await s.resetTransaction();
  s.helo = undefined;
  s.esmtp = false;
  s.loggedOut();
}
