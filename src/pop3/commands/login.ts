// USER name / PASS string / AUTH mechanism [initial-response] / APOP   RFC1939 7, RFC5034 4, RFC2449 8.1
/**
 * Logging in: credentials go through `services.auth` (the shared per-IP and per-account
 * throttle), then the maildrop is locked and snapshotted. Failures keep the session in
 * AUTHORIZATION (RFC 1939 7) and count as errors.
 */
import { actorOf } from '../../mail/recently-deleted.js';
import { SaslError, decodeLoginStep, decodePlain, LOGIN_PROMPTS } from '../../auth/sasl.js';
import { Maildrop } from '../../mail/maildrop.js';
import { deviceDeleteMode, deviceReadOnly, deviceWindowSince, pop3SettingsFor } from '../../auth/device-limits.js';
import { pop3Policy } from '../../mail/pop3-policy.js';
import { saslMechanisms } from '../capabilities.js';
import { isScramMechanism } from '../../auth/scram.js';
import { scramLogin } from '../../auth/scram-login.js';
import type { AuthResult } from '../../auth/authenticate.js';
import { continuation, multiline, ok } from '../protocol/responses.js';
import type { Pop3Session } from '../session.js';
import type { CommandEntry } from './types.js';

const PLAINTEXT_REFUSED = 'plaintext authentication disallowed on non-secure connections; use STLS or the POP3S port';

/** Checks the password and opens the maildrop; answers either way. */
async function login(s: Pop3Session, username: string, password: string): Promise<void> {
  return open(s, await s.services.auth.authenticate({ username, password, remoteAddress: s.net.remoteAddress, protocol: 'pop3' }));
}

/** Answers a login attempt's result; on success locks and opens the maildrop. */
async function open(s: Pop3Session, result: AuthResult): Promise<void> {
  const { store, config, log } = s.services;
  if (!result.ok) {
    if (result.reason === 'unavailable') return s.fail('account database temporarily unavailable; try again later', 'SYS/TEMP'); // RFC 3206 4
    if (result.reason === 'throttled') return s.fail('too many failed logins; try again later', 'SYS/TEMP');
    return s.fail('invalid user name or password', 'AUTH'); // RFC 3206 4: [AUTH] = credentials problem
  }
  const user = result.user;
  const login = result.login;
  const policy = pop3Policy(config.pop3, pop3SettingsFor(user.settings, login.device?.settings));
  const opened = await Maildrop.open(store, user, policy, `${s.services.leaseOwner}${s.net.id}`, new Date(), { viewerId: login.viewerId, readOnly: deviceReadOnly(login.device?.settings), actor: actorOf(user.address, login), deviceId: login.device?.id ?? null, deleteMode: deviceDeleteMode(login.device?.settings), windowSince: deviceWindowSince(login.device?.settings) });
  if (!opened.ok) {
    if (opened.reason === 'in-use') return s.fail('maildrop already locked by another POP3 session; try later', 'IN-USE'); // RFC 2449 8.1.1
    return s.fail(`logins are allowed at most every ${policy.loginDelay} seconds`, 'LOGIN-DELAY'); // RFC 2449 8.1.2
  }
  s.state = { name: 'transaction', drop: opened.maildrop };
  s.watchLogin(login);
  log.info({ user: user.address, member: login.member, device: login.device?.name }, 'pop3 login');
  const { count, octets } = opened.maildrop.stat();
  await s.send(ok(`${user.address} has ${count} message${count === 1 ? '' : 's'} (${octets} octets)`));
}

export const user: CommandEntry = {
  states: ['authorization'],
  async run(s, cmd) {
    if (!s.plaintextAllowed()) return s.fail(PLAINTEXT_REFUSED, 'AUTH');
    if (cmd.args.length !== 1) return s.fail('USER takes exactly one argument: the address');
    s.state = { name: 'authorization', user: cmd.args[0] };
    await s.send(ok('send PASS'));
  },
};

export const pass: CommandEntry = {
  states: ['authorization'],
  async run(s, cmd) {
    const st = s.state;
    if (st.name !== 'authorization' || st.user === null) return s.fail('send USER first');
    s.state = { name: 'authorization', user: null }; // RFC 1939 7: a failed PASS needs a new USER
    if (!s.plaintextAllowed()) return s.fail(PLAINTEXT_REFUSED, 'AUTH');
    if (cmd.rest === '') return s.fail('PASS takes the password as its argument');
    await login(s, st.user, cmd.rest); // RFC 1939 7: spaces are part of the password
  },
};

/** Reads one SASL response line; null when the client cancelled ("*") or left. */
async function saslStep(s: Pop3Session, challenge: string): Promise<string | null> {
  await s.send(continuation(challenge));
  s.trace.expectSecretContinuation();
  const line = await s.nextLine();
  if (line === null || line.trim() === '*') return null; // RFC 5034 4: "*" cancels
  return line;
}

export const auth: CommandEntry = {
  states: ['authorization'],
  async run(s, cmd) {
    if (cmd.args.length === 0) {
      if (!s.plaintextAllowed()) return s.send(multiline('no mechanisms before STLS', []));
      return s.send(multiline('SASL mechanisms follow', saslMechanisms(s.tls, true))); // pre-RFC 5034 clients list this way
    }
    if (!s.plaintextAllowed()) return s.fail(PLAINTEXT_REFUSED, 'AUTH');
    const offered = saslMechanisms(s.tls, true);
    if (cmd.args.length > 2) return s.fail('AUTH takes a mechanism and an optional initial response');
    const mechanism = cmd.args[0].toUpperCase();
    const initial = cmd.args[1];
    if (isScramMechanism(mechanism) && offered.includes(mechanism)) {
      try {
        const ctx = { remoteAddress: s.net.remoteAddress, protocol: 'pop3' as const, binding: s.channelBinding() };
        const result = await scramLogin(s.services.auth, mechanism, initial, (c) => saslStep(s, c), ctx);
        if (result === null) return s.fail('authentication cancelled');
        return await open(s, result);
      } catch (e) {
        if (e instanceof SaslError) return s.fail(`authentication failed: ${e.message}`, 'AUTH');
        throw e;
      }
    }
    try {
      if (mechanism === 'PLAIN') {
        const response = initial ?? (await saslStep(s, ''));
        if (response === null) return s.fail('authentication cancelled');
        const creds = decodePlain(response);
        return await login(s, creds.username, creds.password);
      }
      if (mechanism === 'LOGIN') {
        const name = initial ?? (await saslStep(s, LOGIN_PROMPTS.username));
        if (name === null) return s.fail('authentication cancelled');
        const username = decodeLoginStep(name);
        const pw = await saslStep(s, LOGIN_PROMPTS.password);
        if (pw === null) return s.fail('authentication cancelled');
        return await login(s, username, decodeLoginStep(pw));
      }
    } catch (e) {
      if (e instanceof SaslError) return s.fail(`authentication failed: ${e.message}`, 'AUTH');
      throw e;
    }
    return s.fail(`unsupported SASL mechanism ${mechanism.slice(0, 20)}; supported: ${offered.join(' ')}`);
  },
};

export const apop: CommandEntry = {
  states: ['authorization'],
  // Not advertised: APOP needs the clear password on the server; Mailroom keeps only scrypt hashes.
  run: (s) => s.fail('APOP is not supported; use USER/PASS or AUTH over TLS'),
};
