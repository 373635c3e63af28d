/**
 * CAPA (RFC 2449 5): what this server advertises, by session state. Only what works
 * end to end is listed: no APOP (it needs the plaintext password on the server, and
 * Mailroom stores only scrypt hashes), USER and SASL only where plaintext login is
 * allowed (RFC 2595 4: before STLS when not allowed, they are hidden).
 */
import { scramMechanisms } from '../auth/scram.js';
import { expireText, type Pop3Policy } from '../mail/pop3-policy.js';

export interface CapaFacts {
  authenticated: boolean;
  /** Login with a password is allowed on this connection now. */
  plaintextAllowed: boolean;
  tls: boolean;
  /** STLS is possible (plain listener with a certificate, not yet TLS). */
  canStls: boolean;
  /** The user's policy after login; before, the config defaults (then "USER": may differ per user). */
  policy: Pop3Policy;
}

/**
 * Every mechanism follows the plaintext policy (RFC 2595 4), SCRAM too: an eavesdropper could
 * test guesses offline against a SCRAM exchange seen in the clear. -PLUS only on TLS.
 */
export function saslMechanisms(tls: boolean, plaintextAllowed: boolean): string[] {
  return plaintextAllowed ? [...scramMechanisms(tls), 'PLAIN', 'LOGIN'] : [];
}

export function capabilities(f: CapaFacts): string[] {
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  const perUser = f.authenticated ? '' : ' USER'; // RFC 2449 6.7, 6.8: USER = may vary per user
  caps.push(`EXPIRE ${expireText(f.policy.keepDays)}${perUser}`);
  caps.push(`LOGIN-DELAY ${f.policy.loginDelay}${perUser}`);
  caps.push('UTF8'); // RFC 6856 2; no "UTF8 USER": user names are addresses, passwords are bytes anyway
  caps.push('IMPLEMENTATION Mailroom');
  if (!f.authenticated) {
    if (f.plaintextAllowed) caps.push('USER', `SASL ${saslMechanisms(f.tls, true).join(' ')}`);
    if (f.canStls) caps.push('STLS');
  }
  return caps;
}
