/**
 * Every login attempt, logged and counted: one line per login or failed login with user,
 * protocol, client address and device (`login` / `login failed`), and
 * `mailroom_logins_total{protocol,result}`. Wraps the one authenticator every protocol
 * uses, so no protocol can forget it.
 *
 * Never imports: protocols, the store. Invariant: never logs a password.
 */
import type { Logger } from 'pino';
import { countLogin } from '../metrics/registry.js';
import type { Authenticator } from './authenticate.js';

export function observedLogins<A extends Authenticator>(auth: A, log: Logger): A {
  return {
    ...auth,
    async authenticate(creds) {
      const result = await auth.authenticate(creds);
      const where = { user: creds.username.trim().slice(0, 320), protocol: creds.protocol, client: creds.remoteAddress };
      if (result.ok) {
        countLogin(creds.protocol, 'ok');
        log.info({ ...where, device: result.login.device?.name ?? null, member: result.login.member }, 'login');
      } else {
        countLogin(creds.protocol, result.reason === 'invalid' ? 'failed' : result.reason);
        log.warn({ ...where, reason: result.reason }, 'login failed');
      }
      return result;
    },
  };
}
