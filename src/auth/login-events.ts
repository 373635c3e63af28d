/**
 * What the server keeps of each login's outcome (the authenticator's LoginObserver):
 * every failed login is recorded in the store (`mailroom user show`, the admin page), and a
 * successful one notes its origin (the device password, or for the account password the
 * client address), so the first login from a new origin can be told to the account.
 *
 * Never imports: protocols, src/mail (the notice is passed in). Invariant: nothing here
 * delays or fails a login; store errors go to onError.
 */
import type { Id, Store, User } from '../store/types.js';
import { limitKey } from '../net/listeners.js';
import type { FailedAttempt, LoginIdentity, LoginObserver } from './authenticate.js';

/** What a new-origin notice is told: the account, how it logged in, from where and when. */
export interface NewLogin {
  user: User;
  login: LoginIdentity;
  remoteAddress: string;
  at: Date;
}

export interface LoginEventOptions {
  /** Called once per new origin (not for the account's very first login); none: no notices. */
  notice?: (login: NewLogin) => Promise<void>;
  onError?: (err: unknown, what: string) => void;
}

/**
 * The key an account's origin is remembered by: the device, or the client address (an
 * IPv6 client by its /64: one host's share, which changes its low bits on its own).
 */
export function loginOrigin(login: Pick<LoginIdentity, 'device'>, remoteAddress: string): string {
  if (login.device) return `device:${login.device.id}`;
  return `address:${addressKey(remoteAddress)}`;
}

function addressKey(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return v4 ? v4[1] : limitKey(ip); // the per-IP limit's key: an IPv4 address or an IPv6 /64
}

/** Origins remembered in memory per process. */
const KNOWN_ORIGINS = 10_000;

export function loginEventRecorder(store: Pick<Store, 'recordFailedLogin' | 'noteLoginOrigin'>, options: LoginEventOptions = {}): LoginObserver {
  const onError = options.onError ?? (() => {});
  const notice = options.notice;
  // Origins this process already recorded: a repeat login costs no store write (bounded, oldest dropped first).
  const known = new Set<string>();

  async function noteOrigin(user: User, login: LoginIdentity, remoteAddress: string): Promise<void> {
    const at = new Date();
    const key = loginOrigin(login, remoteAddress);
    const cacheKey = `${user.id} ${key}`;
    if (known.has(cacheKey)) return;
    const origin = await store.noteLoginOrigin(user.id, key, at);
    known.add(cacheKey);
    if (known.size > KNOWN_ORIGINS) known.delete(known.values().next().value!);
    // The account's first login is its setting up: nothing to compare it with, nothing to warn of.
    if (origin.isNew && !origin.firstForAccount && notice) await notice({ user, login, remoteAddress, at });
  }

  return {
    succeeded(user, login, remoteAddress) {
      noteOrigin(user, login, remoteAddress).catch((err: unknown) => onError(err, 'new-login notice'));
    },
    failed(a: FailedAttempt) {
      const userId: Id | null = a.user?.id ?? null;
      store
        .recordFailedLogin({ at: new Date(), userId, username: a.username, protocol: a.protocol, address: a.remoteAddress, device: a.device, reason: a.reason })
        .catch((err: unknown) => onError(err, 'failed-login record'));
    },
  };
}
