// HELO domain / EHLO domain / LHLO domain   RFC 5321 4.1.1.1, RFC 2033 4.1
import type { SmtpSession } from '../session.js';
import { parseHello } from '../protocol/command.js';
import { authMechanisms } from './auth.js';

/** EHLO keywords for this session's state: only what fully works is listed. */
export function extensions(s: SmtpSession): string[] {
  const limits = s.services.config.smtp;
  const list = [
    'PIPELINING', // RFC 2920
    `SIZE ${limits.max_message_size}`, // RFC 1870
    '8BITMIME', // RFC 6152
    'SMTPUTF8', // RFC 6531
    'ENHANCEDSTATUSCODES', // RFC 2034
    'CHUNKING', // RFC 3030
    'BINARYMIME', // RFC 3030
    `LIMITS RCPTMAX=${limits.max_recipients}`, // RFC 9422
  ];
  // RFC 4468 3.1, 3.3: BURL with no argument says "after AUTH"; once authenticated, `imap` says
  // URLAUTH URLs to this server are resolved (in process, by URLFETCH's own code).
  if (s.opts.mode === 'submission') list.push(s.user ? 'BURL imap' : 'BURL');
  if (s.opts.mode !== 'lmtp') list.push('DSN'); // RFC 3461
  if (s.opts.mode !== 'lmtp' && !s.secure && s.net.secureContext) list.push('STARTTLS'); // RFC 3207
  // RFC 8689 4.1: REQUIRETLS only on TLS sessions; local delivery keeps it trivially, the queue enforces it onward.
  if (s.opts.mode !== 'lmtp' && s.secure) list.push('REQUIRETLS');
  const mechanisms = authMechanisms(s);
  if (s.opts.mode === 'submission' && mechanisms.length > 0) list.push(`AUTH ${mechanisms.join(' ')}`); // RFC 4954
  return list;
}

async function greet(s: SmtpSession, args: string, esmtp: boolean): Promise<void> {
  const name = parseHello(args);
  await s.resetTransaction(); // RFC 5321 4.1.4: EHLO resets like RSET
  s.helo = name;
  s.esmtp = esmtp;
  const first = `${s.hostname} Hello ${name} [${s.net.remoteAddress}]`;
  if (!esmtp) return s.reply(250, undefined, first);
  s.reply(250, undefined, first, ...extensions(s)); // RFC 2034: no enhanced code in the EHLO reply
}

export const helo = (s: SmtpSession, args: string) => greet(s, args, false);
export const ehlo = (s: SmtpSession, args: string) => greet(s, args, true);
export const lhlo = (s: SmtpSession, args: string) => greet(s, args, true);
