// BURL absolute-URI [SP "LAST"]   RFC 4468 3.2, 3.5; mixed with BDAT chunks (RFC 4468 3.2, RFC 3030 2)
//
// Only URLAUTH-authorized IMAP URLs (EHLO `BURL imap`, RFC 4468 3.3) to this server's own
// store: the URL is resolved in this process by src/imap/url/url-fetch.ts, the code behind
// IMAP URLFETCH, as the submission entity acting for the logged-in user, so the checks are
// URLFETCH's (token, expiry, access, message) and a `submit+` URL must name that user
// (RFC 4468 3.3). The bytes join the same chunk decoder and spool as BDAT's, so BURL and
// BDAT pieces make one message; any failure ends the whole transaction (RFC 4468 3.2).
import type { SmtpSession } from '../session.js';
import { finishChunking, newChunking } from './data.js';
import { parseBurl } from '../protocol/command.js';
import { parseAuthUrl } from '../../imap/url/auth-url.js';
import { accessAllows, resolveAuthUrl, type UrlRequester } from '../../imap/url/url-fetch.js';

/** Fails the whole mail transaction with one reply (RFC 4468 3.2 "the server will fail the entire transaction"). */
async function failTransaction(s: SmtpSession, code: number, enhanced: string, text: string): Promise<void> {
  await s.resetTransaction();
  return s.reply(code, enhanced, text);
}

export async function burl(s: SmtpSession, args: string): Promise<void> {
  const parsed = parseBurl(args);
  if (!s.user) return s.reply(530, '5.7.0', 'Authentication required'); // RFC 4468 3.1: BURL needs AUTH
  const tx = s.tx;
  if (!tx) return s.reply(503, '5.5.1', 'Need MAIL command first');
  if (tx.recipients.length === 0) return s.reply(554, '5.5.0', 'No recipients have been specified'); // RFC 4468 6: no URL resolved
  if (tx.chunking?.failed) return s.reply(503, '5.5.1', 'Earlier chunk failed; send RSET');
  const auth = /^imap:/i.test(parsed.url) ? parseAuthUrl(parsed.url) : null;
  // Only URLAUTH URLs: plain IMAP URLs would need a trust relationship with an IMAP server (RFC 4468 5, 6)
  if (!auth || auth.token === undefined) return failTransaction(s, 554, '5.7.8', 'URL resolution requires trust relationship');
  const who: UrlRequester = { kind: 'submit', onBehalfOf: s.user };
  if (!accessAllows(auth.access, who)) return failTransaction(s, 554, '5.7.0', 'IMAP URL authorization failed'); // RFC 4468 3.3
  const c = (tx.chunking ??= newChunking(s, tx.mail.body === 'BINARYMIME'));
  const max = s.services.config.smtp.max_message_size;
  try {
    const data = await resolveAuthUrl(s.services.store, parsed.url, who);
    if (!data) return failTransaction(s, 554, '5.6.6', 'IMAP URL resolution failed'); // RFC 4468 6 (wrong token, expired, no such message: one answer)
    const pieces = data.kind === 'bytes' ? [data.bytes] : await data.open();
    for await (const piece of pieces) {
      const { out } = c.decoder.push(piece as Buffer);
      if (c.decoder.size <= max) await c.spool.write(out);
    }
  } catch (err) {
    await s.resetTransaction(); // half a URL's bytes must not become part of a message (the session maps the error)
    throw err;
  }
  if (c.decoder.size > max) return failTransaction(s, 554, '5.3.4', 'Message too big for system'); // RFC 4468 6
  s.log.info({ user: s.user.address, url: auth.rump, last: parsed.last }, 'BURL resolved');
  if (!parsed.last) return s.reply(250, '2.5.0', 'Waiting for additional BURL or BDAT commands'); // RFC 4468 6
  await finishChunking(s, tx, c);
}
