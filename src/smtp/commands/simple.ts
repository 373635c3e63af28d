// RSET, NOOP, QUIT, VRFY, EXPN, HELP   RFC 5321 4.1.1.5-4.1.1.10, 3.5.3
import type { SmtpSession } from '../session.js';

export async function rset(s: SmtpSession, args: string): Promise<void> {
  if (args !== '') return s.reply(501, '5.5.4', 'RSET takes no arguments');
  await s.resetTransaction(); // RFC 5321 4.1.1.5: the greeting state is kept
  s.reply(250, '2.0.0', 'Flushed');
}

export async function noop(s: SmtpSession): Promise<void> {
  s.reply(250, '2.0.0', 'OK'); // RFC 5321 4.1.1.9: parameters are ignored
}

export async function quit(s: SmtpSession): Promise<void> {
  s.quitting = true;
  await s.resetTransaction();
  s.io.end(`221 2.0.0 ${s.hostname} closing connection\r\n`);
}

export async function vrfy(s: SmtpSession, args: string): Promise<void> {
  if (args === '') return s.reply(501, '5.5.4', 'Syntax: VRFY address');
  // RFC 5321 3.5.3: 252 when we will not say (no address harvesting).
  s.reply(252, '2.5.0', 'Cannot VRFY user, but will accept message and attempt delivery');
}

export async function expn(s: SmtpSession): Promise<void> {
  s.reply(502, '5.5.1', 'EXPN is not available'); // RFC 5321 3.5.3: lists are not disclosed
}

export async function help(s: SmtpSession): Promise<void> {
  s.reply(214, '2.0.0', 'Mailroom: see RFC 5321; commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY');
}
