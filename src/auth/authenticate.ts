/**
 * The one login check for every protocol: throttle, look up, verify, record.
 * Never says whether the account exists (same answer and the same work for an
 * unknown user as for a wrong password).
 *
 * Never imports: protocols, config (server.ts passes plain numbers).
 * Invariants: a wrong password always costs a real scrypt and counts in the
 * throttle; only verified successes enter the credential cache; a full hash
 * queue or an unreachable store is 'unavailable', never 'invalid', and never
 * counts as a failure (clients would drop a saved password).
 */
import type { Device, Id, Store, User } from '../store/types.js';
import { OWNER_MEMBER } from '../store/types.js';
import { devicePasswordDigest, looksLikeDevicePassword } from './device-password.js';
import { deviceAllows, REQUIRE_DEVICE_PASSWORDS, type MailProtocol } from './device-limits.js';
import { hashPassword, libuvScrypt, verifyPassword, type Scrypt } from './password.js';
import type { AuthThrottle } from './throttle.js';
import { isStoreError } from '../store/errors.js';
import { CredentialCache } from './credential-cache.js';
import { HashPool, HashPoolBusy } from './hash-pool.js';
import { createHmac, randomBytes } from 'node:crypto';
import { DEFAULT_ITERATIONS, parseScramKeys, scramKeysFor, type ScramHash, type ScramKey } from './scram-keys.js';

/**
 * Who logged in: the account, the member (`owner` for the account's own password) and the
 * device password used, if any. `viewerId` is whose `\Seen` the session reads and writes.
 */
export interface LoginIdentity {
  userId: Id;
  member: string;
  memberId: Id | null;
  viewerId: Id;
  device: { id: Id; name: string; settings: Record<string, string> } | null;
  /** The stored account password hash this login was checked against (null for a device login). */
  passwordHash: string | null;
  protocol: MailProtocol;
}

/** 'unavailable': the store could not be asked (e.g. PostgreSQL down) or the hash queue is full; a temporary failure, not a wrong password. */
export type AuthResult = { ok: true; user: User; login: LoginIdentity } | { ok: false; reason: 'invalid' | 'throttled' | 'unavailable' };

export interface Credentials {
  username: string;
  password: string;
  remoteAddress: string;
  /** The protocol asking: device limits (`protocols=`) and the last-login record use it. */
  protocol: MailProtocol;
}

/** A device's last login is written at most this often per protocol and address (ephemeral writes, still not free). */
const DEVICE_LOGIN_RECORD_MS = 60_000;

function ownerLogin(user: User, protocol: MailProtocol): LoginIdentity {
  return { userId: user.id, member: OWNER_MEMBER, memberId: null, viewerId: user.id, device: null, passwordHash: user.passwordHash, protocol };
}

function deviceLogin(device: Device, protocol: MailProtocol): LoginIdentity {
  return {
    userId: device.userId, member: device.member, memberId: device.memberId, viewerId: device.viewerId,
    device: { id: device.id, name: device.name, settings: device.settings }, passwordHash: null, protocol,
  };
}

/**
 * A SCRAM login in progress: `key` is what the server-first message needs (salt, iterations);
 * `finish` is called with the proof check and does the accounting. For an unknown user or one
 * without SCRAM keys, `key` is a made-up one with a stable salt that no proof matches.
 */
export type ScramStart =
  | { ok: false; reason: 'throttled' | 'unavailable' }
  | { ok: true; key: ScramKey; finish(verified: boolean): Promise<AuthResult> };

export interface ScramRequest {
  username: string;
  hash: ScramHash;
  remoteAddress: string;
  protocol: MailProtocol;
}

export interface Authenticator {
  authenticate(creds: Credentials): Promise<AuthResult>;
  /** The lookup half of a SCRAM login (src/auth/scram-login.ts runs the exchange). */
  scramStart(req: ScramRequest): Promise<ScramStart>;
  /** Forgets cached verifications of a user; call it where this process changes a password or deletes a user. */
  forgetUser(userId: Id): void;
}

/** A login refused for its credentials (never for the throttle or an outage). */
export interface FailedAttempt {
  /** The name as sent (trimmed). */
  username: string;
  /** The account the name belongs to, when it is one. */
  user: User | null;
  protocol: MailProtocol;
  remoteAddress: string;
  /** The device password's name, when the password was one. */
  device: string | null;
  /** `invalid` (wrong password or no such account), `protocol` (device not allowed on it), `device-password-required`. */
  reason: 'invalid' | 'protocol' | 'device-password-required';
}

/** Told of every login's outcome after it is decided (./login-events.ts records them); must not throw or block. */
export interface LoginObserver {
  succeeded(user: User, login: LoginIdentity, remoteAddress: string): void;
  failed(attempt: FailedAttempt): void;
}

export interface AuthenticatorOptions {
  /** Who is told of each login's outcome (failed logins, the new-device notice); default nobody. */
  observer?: LoginObserver;
  /** Where scrypt runs; default node's async scrypt (libuv pool). The server passes HashPool.scrypt. */
  scrypt?: Scrypt;
  /** Verified-credential cache; default none (every login hashes). */
  cache?: CredentialCache;
  /** Injectable so tests need not wait out throttle delays. */
  sleep?: (ms: number) => Promise<void>;
}

/** Builds the authenticator. */
export function createAuthenticator(store: Store, throttle: AuthThrottle, options: AuthenticatorOptions = {}): Authenticator {
  const scrypt = options.scrypt ?? libuvScrypt;
  const cache = options.cache;
  const observer = options.observer;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= hashPassword('unused', scrypt).catch((err: unknown) => ((dummyHash = undefined), Promise.reject(err))));

  /** The user's device with this password, if it is one (one indexed lookup, only for passwords shaped like a generated one). */
  async function findDevice(user: User, password: string): Promise<Device | null> {
    if (!looksLikeDevicePassword(password)) return null;
    const d = await store.deviceBySecret(devicePasswordDigest(password));
    return d && d.userId === user.id ? d : null;
  }

  function recordDeviceLogin(d: Device, protocol: MailProtocol, address: string): void {
    const last = d.lastLogin;
    const now = new Date();
    if (last && last.protocol === protocol && last.address === address && now.getTime() - last.at.getTime() < DEVICE_LOGIN_RECORD_MS) return;
    // Not awaited: the login does not wait for its own record (an ephemeral write; losing one is harmless).
    store.recordDeviceLogin(d.id, now, protocol, address).catch(() => {});
  }

  /** A real scrypt, unless this exact password was verified against this exact stored hash within the TTL. */
  /** Keys an attacker cannot tell from real ones: the salt is stable per name, the StoredKey matches nothing. */
  const fakeSecret = randomBytes(32);
  function fakeKey(hash: ScramHash, account: string): ScramKey {
    const salt = createHmac('sha256', fakeSecret).update(`${hash}\0${account.toLowerCase()}`).digest().subarray(0, 16);
    const len = hash === 'SHA-1' ? 20 : 32;
    return { salt, iterations: DEFAULT_ITERATIONS, storedKey: randomBytes(len), serverKey: randomBytes(len) };
  }

  /** A password set before SCRAM keys existed gets them at its first verified PLAIN/LOGIN (compare-and-set on the hash). */
  function addScramKeys(user: User, password: string): void {
    if (user.scramKeys !== '') return;
    // Not awaited: the login does not wait for it; a lost write is retried at the next login.
    scramKeysFor(password)
      .then((keys) => store.setScramKeys(user.id, user.passwordHash, keys))
      .catch(() => {});
  }

  /**
   * The throttle's verdict for this attempt (waited out here), then the account, null when
   * there is none. A store outage must not read as a wrong password (clients would drop the
   * saved one) nor count towards the throttle; any other lookup failure (a malformed name)
   * is "no such user".
   */
  async function admitted(account: string, remoteAddress: string): Promise<{ ok: true; user: User | null } | { ok: false; reason: 'throttled' | 'unavailable' }> {
    const verdict = await throttle.before(remoteAddress, account);
    if (verdict.delayMs > 0) await sleep(verdict.delayMs);
    if (verdict.blocked) return { ok: false, reason: 'throttled' };
    try {
      return { ok: true, user: account.includes('@') && account.length <= 320 ? await store.getUser(account) : null };
    } catch (err) {
      if (isStoreError(err, 'unavailable')) return { ok: false, reason: 'unavailable' };
      return { ok: true, user: null };
    }
  }

  async function verify(user: User, password: string): Promise<boolean> {
    if (cache?.has(user.id, password, user.passwordHash)) return true;
    const good = await verifyPassword(password, user.passwordHash, scrypt);
    if (good) cache?.remember(user.id, password, user.passwordHash); // never a failure
    return good;
  }

  return {
    async authenticate({ username, password, remoteAddress, protocol }): Promise<AuthResult> {
      const account = username.trim();
      const found = await admitted(account, remoteAddress);
      if (!found.ok) return found;
      const user = found.user;
      let device: Device | null = null;
      try {
        device = user ? await findDevice(user, password) : null;
      } catch (err) {
        if (isStoreError(err, 'unavailable')) return { ok: false, reason: 'unavailable' };
        throw err;
      }
      if (user && device) {
        await throttle.succeeded(remoteAddress, account);
        // A device limited to other protocols gets the protocol's usual failure; it is no guess, so the throttle does not count it.
        if (!deviceAllows(device.settings, protocol)) {
          observer?.failed({ username: account, user, protocol, remoteAddress, device: device.name, reason: 'protocol' });
          return { ok: false, reason: 'invalid' };
        }
        recordDeviceLogin(device, protocol, remoteAddress);
        const login = deviceLogin(device, protocol);
        observer?.succeeded(user, login, remoteAddress);
        return { ok: true, user, login };
      }
      let good: boolean;
      try {
        // Unknown users cost one scrypt too, so timing does not reveal which accounts exist.
        good = user ? await verify(user, password) : await verifyPassword(password, await dummy(), scrypt);
      } catch (err) {
        if (err instanceof HashPoolBusy) return { ok: false, reason: 'unavailable' }; // like a store outage: retry later
        throw err;
      }
      if (user && good) {
        await throttle.succeeded(remoteAddress, account);
        addScramKeys(user, password);
        // auth.require_device_passwords: the account password no longer opens mail protocols.
        if (user.settings[REQUIRE_DEVICE_PASSWORDS] === 'yes') {
          observer?.failed({ username: account, user, protocol, remoteAddress, device: null, reason: 'device-password-required' });
          return { ok: false, reason: 'invalid' };
        }
        const login = ownerLogin(user, protocol);
        observer?.succeeded(user, login, remoteAddress);
        return { ok: true, user, login };
      }
      await throttle.failed(remoteAddress, account);
      observer?.failed({ username: account, user, protocol, remoteAddress, device: null, reason: 'invalid' });
      return { ok: false, reason: 'invalid' };
    },
    async scramStart({ username, hash, remoteAddress, protocol }): Promise<ScramStart> {
      const account = username.trim();
      const found = await admitted(account, remoteAddress);
      if (!found.ok) return found;
      const user = found.user;
      // Device passwords have no SCRAM keys: the salt is sent before we could know which password the client holds.
      const real = user ? parseScramKeys(user.scramKeys)[hash] : undefined;
      return {
        ok: true,
        key: real ?? fakeKey(hash, account),
        async finish(verified: boolean): Promise<AuthResult> {
          if (user && real && verified) {
            await throttle.succeeded(remoteAddress, account);
            if (user.settings[REQUIRE_DEVICE_PASSWORDS] === 'yes') return { ok: false, reason: 'invalid' };
            return { ok: true, user, login: ownerLogin(user, protocol) };
          }
          await throttle.failed(remoteAddress, account);
          return { ok: false, reason: 'invalid' };
        },
      };
    },
    forgetUser(userId) {
      cache?.forgetUser(userId);
    },
  };
}

/** `auth.*` settings the server passes (see src/config/schema.ts). */
export interface LoginSettings {
  cacheSize: number;
  cacheTtlS: number;
  hashWorkers: number;
  hashQueue: number;
}

/** The server's authenticator: scrypt on its own worker threads, plus the credential cache. close() stops the workers. */
export function startAuthenticator(store: Store, throttle: AuthThrottle, settings: LoginSettings, observer?: LoginObserver): Authenticator & { close(): Promise<void> } {
  const pool = new HashPool({ workers: settings.hashWorkers, maxQueue: settings.hashQueue });
  const cache = new CredentialCache({ size: settings.cacheSize, ttlMs: settings.cacheTtlS * 1000 });
  return { ...createAuthenticator(store, throttle, { scrypt: pool.scrypt, cache, observer }), close: () => pool.close() };
}
