// MAIL FROM:<reverse-path> [SP params]   RFC 5321 4.1.1.2; RFC 1870, 6152, 6531, 3030, 8689, 4954 5
import { deviceReadOnly } from '../../auth/device-limits.js';
import type { SmtpSession } from '../session.js';
import { parseMailFrom } from '../protocol/command.js';
import { isOwnAddress } from '../sender.js';

export async function mail(s: SmtpSession, args: string): Promise<void> {
  if (!s.helo) return s.reply(503, '5.5.1', `Send ${s.lmtp ? 'LHLO' : 'EHLO/HELO'} first`);
  if (s.tx) return s.reply(503, '5.5.1', 'Sender already specified'); // RFC 5321 4.1.4
  if (s.opts.mode === 'submission' && !s.user) return s.reply(530, '5.7.0', 'Authentication required'); // RFC 4954 6
  if (s.opts.mode === 'submission' && deviceReadOnly(s.login?.device?.settings)) return s.reply(550, '5.7.1', 'This device is read-only; sending is refused'); // RFC 3463 5.7.1
  const m = parseMailFrom(args);
  const hasParams = m.size !== undefined || m.body || m.smtputf8 || m.requireTls || m.ret || m.envid || m.auth;
  if (hasParams && !s.esmtp) return s.reply(555, '5.5.4', 'Parameters need EHLO');
  // DSN (RFC 3461) is advertised on the MX and submission, not on LMTP.
  if ((m.ret || m.envid) && s.lmtp) return s.reply(555, '5.5.4', 'DSN parameters are not supported');
  if (m.requireTls && !(s.secure && !s.lmtp)) return s.reply(555, '5.5.4', 'REQUIRETLS is only offered on TLS sessions'); // RFC 8689 4.1
  const max = s.services.config.smtp.max_message_size;
  if (m.size !== undefined && m.size > max) return s.reply(552, '5.3.4', `Message size exceeds fixed maximum message size of ${max} bytes`); // RFC 1870 6.1
  if (s.opts.mode === 'submission' && s.user && !(await isOwnAddress(s.services.store, s.user, m.sender.address))) {
    return s.reply(553, '5.7.1', `Sender address <${m.sender.address}> is not yours`); // RFC 6409 6.1
  }
  s.tx = { mail: m, recipients: [] };
  s.reply(250, '2.1.0', 'Sender OK');
}
