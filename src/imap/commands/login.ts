// LOGIN userid password   RFC9051 6.2.3
// AUTHENTICATE mechanism [initial-response]   RFC9051 6.2.2, RFC4959 (SASL-IR), RFC4616 (PLAIN)
import { codes } from '../protocol/index.js';
import { decodeLoginStep, decodePlain, LOGIN_PROMPTS, SaslError } from '../../auth/sasl.js';
import { ImapNo } from '../errors.js';
import { isScramMechanism } from '../../auth/scram.js';
import { scramLogin } from '../../auth/scram-login.js';
import type { AuthResult } from '../../auth/authenticate.js';
import type { ImapSession } from '../session.js';
import type { Completion, ImapCommand } from './types.js';

function requirePlaintextAllowed(s: ImapSession): void {
  // RFC 9051 6.2.3: LOGINDISABLED means LOGIN (and plaintext SASL) is refused before TLS
  if (!s.plaintextAllowed()) throw new ImapNo('Plaintext authentication is disabled; use STARTTLS first', 'PRIVACYREQUIRED');
}

async function check(s: ImapSession, username: string, password: string): Promise<Completion> {
  return conclude(s, await s.services.auth.authenticate({ username, password, remoteAddress: s.info.remoteAddress, protocol: 'imap' }));
}

async function conclude(s: ImapSession, result: AuthResult | null): Promise<Completion> {
  if (result === null) throw new ImapNo('Authentication cancelled', undefined, 'BAD');
  if (!result.ok) {
    if (result.reason === 'unavailable') throw new ImapNo('Account database temporarily unavailable; try again', 'UNAVAILABLE'); // RFC 5530 3
    if (result.reason === 'throttled') throw new ImapNo('Too many failed logins; try again later', 'UNAVAILABLE');
    throw new ImapNo('Authentication failed', 'AUTHENTICATIONFAILED'); // RFC 5530: no hint whether the user exists
  }
  s.loggedIn(result.user, result.login);
  s.info.log.info({ user: result.user.address, member: result.login.member, device: result.login.device?.name }, 'login');
  return { code: codes.capability(s.capabilities()), text: 'Logged in' }; // RFC 9051 6.2.3: capabilities may ride on OK
}

export const login = {
  name: 'LOGIN',
  states: ['notAuthenticated'],
  async run({ session, args }) {
    const user = args.astring('user name');
    args.sp('after user name');
    const password = args.astring('password');
    args.end();
    requirePlaintextAllowed(session);
    return check(session, user, password);
  },
} as const satisfies ImapCommand;

/** One SASL client response: "*" cancels (RFC 9051 6.2.2 BAD). */
async function response(s: ImapSession, challenge: string): Promise<string> {
  s.tracer.expectSecretContinuation();
  s.send(`+ ${challenge}\r\n`);
  const line = await s.readLine();
  if (line.trim() === '*') throw new ImapNo('Authentication cancelled', undefined, 'BAD');
  return line;
}

export const authenticate = {
  name: 'AUTHENTICATE',
  states: ['notAuthenticated'],
  async run({ session, args }) {
    const mech = args.atom('SASL mechanism').toUpperCase();
    let initial: string | undefined;
    if (args.optionalSp()) initial = args.token('initial response'); // RFC 4959: SASL-IR, "=" is empty
    args.end();
    if (isScramMechanism(mech) && (!mech.endsWith('-PLUS') || session.tls)) {
      requirePlaintextAllowed(session); // a SCRAM exchange in the clear allows offline guessing
      try {
        const ctx = { remoteAddress: session.info.remoteAddress, protocol: 'imap' as const, binding: session.channelBinding() };
        return await conclude(session, await scramLogin(session.services.auth, mech, initial, (c) => response(session, c), ctx));
      } catch (err) {
        if (err instanceof SaslError) throw new ImapNo(`Invalid SASL response: ${err.message}`, undefined, 'BAD');
        throw err;
      }
    }
    if (mech !== 'PLAIN' && mech !== 'LOGIN') throw new ImapNo(`Unsupported mechanism ${mech.slice(0, 30)}`, 'CANNOT');
    requirePlaintextAllowed(session);
    try {
      if (mech === 'PLAIN') {
        const creds = decodePlain(initial ?? (await response(session, '')));
        return await check(session, creds.username, creds.password);
      }
      const user = decodeLoginStep(initial ?? (await response(session, LOGIN_PROMPTS.username)));
      const password = decodeLoginStep(await response(session, LOGIN_PROMPTS.password));
      return await check(session, user, password);
    } catch (err) {
      if (err instanceof SaslError) throw new ImapNo(`Invalid SASL response: ${err.message}`, undefined, 'BAD');
      throw err;
    }
  },
} as const satisfies ImapCommand;
