/**
 * The one login check for every protocol: throttle, look up, verify, record.
 * Never says whether the account exists (same answer and the same work for an
 * unknown user as for a wrong password).
 */
import type { Store, User } from '../store/types.js';
import { hashPassword, verifyPassword } from './password.js';
import type { AuthThrottle } from './throttle.js';
import { isStoreError } from '../store/errors.js';

/** 'unavailable': the store could not be asked (e.g. PostgreSQL down); a temporary failure, not a wrong password. */
export type AuthResult = { ok: true; user: User } | { ok: false; reason: 'invalid' | 'throttled' | 'unavailable' };

export interface Credentials {
  username: string;
  password: string;
  remoteAddress: string;
}

export interface Authenticator {
  authenticate(creds: Credentials): Promise<AuthResult>;
}

let dummyHash: Promise<string> | undefined;

/** Builds the authenticator; `sleep` is injectable so tests need not wait. */
export function createAuthenticator(store: Store, throttle: AuthThrottle, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Authenticator {
  return {
    async authenticate({ username, password, remoteAddress }): Promise<AuthResult> {
      const account = username.trim();
      const verdict = await throttle.before(remoteAddress, account);
      if (verdict.delayMs > 0) await sleep(verdict.delayMs);
      if (verdict.blocked) return { ok: false, reason: 'throttled' };
      let user: User | null = null;
      try {
        user = account.includes('@') && account.length <= 320 ? await store.getUser(account) : null;
      } catch (err) {
        // An outage must not read as a wrong password (clients would drop the saved one)
        // nor count towards the brute-force throttle.
        if (isStoreError(err, 'unavailable')) return { ok: false, reason: 'unavailable' };
        user = null; // any other lookup failure (e.g. a malformed name) is "no such user", as before
      }
      // Unknown users cost one scrypt too, so timing does not reveal which accounts exist.
      const good = user ? await verifyPassword(password, user.passwordHash) : await verifyPassword(password, await (dummyHash ??= hashPassword('unused')));
      if (user && good) {
        await throttle.succeeded(remoteAddress, account);
        return { ok: true, user };
      }
      await throttle.failed(remoteAddress, account);
      return { ok: false, reason: 'invalid' };
    },
  };
}
