/**
 * Runs a SCRAM login over any protocol's SASL exchange (IMAP AUTHENTICATE, POP3 AUTH,
 * SMTP AUTH): the protocol supplies how a challenge is sent and a response read; the
 * authenticator supplies throttle, lookup and accounting. Three round trips: server-first,
 * then the server-final (v=) as a last challenge, answered by an empty response
 * (RFC 4422 5: none of the three protocols carries data in its success reply).
 * Malformed messages throw SaslError.
 */
import { decodeBase64, SaslError } from './sasl.js';
import { ScramExchange, scramHashOf, type ChannelBinding, type ScramMechanism } from './scram.js';
import type { AuthResult, Authenticator } from './authenticate.js';
import type { MailProtocol } from './device-limits.js';

/** Sends a base64 challenge, resolves with the client's response line, or null when it cancelled. */
export type SaslChallenge = (challenge: string) => Promise<string | null>;

export interface ScramContext {
  remoteAddress: string;
  protocol: MailProtocol;
  /** The TLS connection's binding (src/auth/channel-binding.ts), null without TLS. */
  binding: ChannelBinding | null;
}

function utf8(response: string): string {
  const bytes = decodeBase64(response);
  if (bytes.length === 0) throw new SaslError('empty SCRAM message');
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new SaslError('SCRAM message is not UTF-8');
  return text;
}

/** The login's result, or null when the client cancelled. */
export async function scramLogin(auth: Authenticator, mechanism: ScramMechanism, initial: string | undefined, challenge: SaslChallenge, ctx: ScramContext): Promise<AuthResult | null> {
  const exchange = new ScramExchange(mechanism, ctx.binding);
  const firstLine = initial ?? (await challenge(''));
  if (firstLine === null) return null;
  const first = exchange.start(utf8(firstLine));
  const start = await auth.scramStart({ username: first.username, hash: scramHashOf(mechanism), remoteAddress: ctx.remoteAddress, protocol: ctx.protocol });
  if (!start.ok) return { ok: false, reason: start.reason };
  const finalLine = await challenge(Buffer.from(exchange.serverFirst(start.key)).toString('base64'));
  if (finalLine === null) return null;
  const verdict = exchange.finish(utf8(finalLine), start.key);
  const result = await start.finish(verdict.ok);
  if (!result.ok) return result;
  const ack = await challenge(Buffer.from(verdict.serverFinal).toString('base64'));
  if (ack === null) return null;
  if (decodeBase64(ack).length !== 0) throw new SaslError('expected an empty response after the server signature');
  return result;
}
