// AUTH mechanism [initial-response]   RFC 4954 4; mechanisms PLAIN (RFC 4616) and LOGIN
import { isIP } from 'node:net';
import type { SmtpSession } from '../session.js';
import { decodeLoginStep, decodePlain, LOGIN_PROMPTS, SaslError } from '../../auth/sasl.js';
import { isScramMechanism, scramMechanisms } from '../../auth/scram.js';
import { scramLogin } from '../../auth/scram-login.js';
import { channelBindingOf } from '../../auth/channel-binding.js';
import type { AuthResult } from '../../auth/authenticate.js';

/** Whether passwords may cross without TLS for this client (config `auth.allow_plaintext`). */
export function plaintextAuthAllowed(s: SmtpSession): boolean {
  const policy = s.services.config.auth.allow_plaintext;
  if (policy === 'always') return true;
  if (policy === 'never') return false;
  const ip = s.net.remoteAddress;
  return (isIP(ip) === 4 && ip.startsWith('127.')) || ip === '::1';
}

/**
 * The AUTH mechanisms offered now; none before TLS unless plaintext is allowed, SCRAM included
 * (an eavesdropper could test guesses offline against a SCRAM exchange seen in the clear).
 */
export function authMechanisms(s: SmtpSession): string[] {
  return s.secure || plaintextAuthAllowed(s) ? [...scramMechanisms(s.secure), 'PLAIN', 'LOGIN'] : [];
}

/** Reads one SASL response line; null when the client cancelled with "*". */
async function saslResponse(s: SmtpSession, challenge: string): Promise<string | null> {
  await s.reply(334, undefined, challenge);
  s.trace.expectSecretContinuation(); // the connection traces the line; the redactor hides it
  const got = await s.io.readLine(12 * 1024); // RFC 4954 4: at least 12288 octets
  if ('tooLong' in got) throw new SaslError('response too long');
  const line = got.line.toString('latin1');
  return line.trim() === '*' ? null : line;
}

async function credentials(s: SmtpSession, mechanism: string, initial: string | undefined): Promise<{ username: string; password: string } | null> {
  if (mechanism === 'PLAIN') {
    const response = initial ?? (await saslResponse(s, ''));
    if (response === null) return null;
    return decodePlain(response);
  }
  const user = initial ?? (await saslResponse(s, LOGIN_PROMPTS.username));
  if (user === null) return null;
  const pass = await saslResponse(s, LOGIN_PROMPTS.password);
  if (pass === null) return null;
  return { username: decodeLoginStep(user), password: decodeLoginStep(pass) };
}

export async function auth(s: SmtpSession, args: string): Promise<void> {
  if (!s.esmtp) return s.reply(503, '5.5.1', 'Send EHLO first');
  if (s.user) return s.reply(503, '5.5.1', 'Already authenticated'); // RFC 4954 4
  if (s.tx) return s.reply(503, '5.5.1', 'AUTH not allowed during a mail transaction');
  const [mech = '', initial, extra] = args.split(' ');
  const mechanism = mech.toUpperCase();
  if (extra !== undefined || mechanism === '') return s.reply(501, '5.5.4', 'Syntax: AUTH mechanism [initial-response]');
  if (!s.secure && !plaintextAuthAllowed(s)) return s.reply(530, '5.7.0', 'Must issue a STARTTLS command first'); // RFC 3207 4
  const scram = isScramMechanism(mechanism) && authMechanisms(s).includes(mechanism);
  if (!scram && mechanism !== 'PLAIN' && mechanism !== 'LOGIN') return s.reply(504, '5.5.4', 'Unrecognized authentication type');
  let result: AuthResult | null;
  try {
    if (scram) {
      const ctx = { remoteAddress: s.net.remoteAddress, protocol: 'smtp' as const, binding: channelBindingOf(s.io.socket) };
      result = await scramLogin(s.services.auth, mechanism, initial, (c) => saslResponse(s, c), ctx);
    } else {
      const creds = await credentials(s, mechanism, initial);
      result = creds && (await s.services.auth.authenticate({ ...creds, remoteAddress: s.net.remoteAddress, protocol: 'smtp' }));
    }
  } catch (err) {
    if (err instanceof SaslError) return s.reply(501, '5.5.2', `Cannot decode response: ${err.message}`);
    throw err;
  }
  if (!result) return s.reply(501, '5.0.0', 'Authentication cancelled'); // RFC 4954 4
  if (result.ok) {
    s.loggedIn(result.user, result.login);
    s.log.info({ user: result.user.address, member: result.login.member, device: result.login.device?.name }, 'authenticated');
    return s.reply(235, '2.7.0', 'Authentication successful');
  }
  if (result.reason === 'unavailable') return s.reply(454, '4.7.0', 'Temporary authentication failure'); // RFC 4954 6
  if (result.reason === 'throttled') return s.reply(454, '4.7.0', 'Too many failed logins, try again later');
  s.reply(535, '5.7.8', 'Authentication credentials invalid'); // RFC 4954 6
}
