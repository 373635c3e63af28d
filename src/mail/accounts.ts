/**
 * Account life cycle shared by the CLI and (later) the admin API: every new user
 * gets INBOX and the RFC 6154 special-use mailboxes, subscribed, so every client
 * finds Sent/Drafts/Trash/Junk/Archive without configuration.
 */
import type { SpecialUse, Store, User } from '../store/types.js';
import { isStoreError } from '../store/errors.js';
import { passwordHashes, type PasswordHashes } from '../auth/password-hashes.js';
import { parseAddress } from './address.js';

export const DEFAULT_MAILBOXES: { name: string; specialUse: SpecialUse | null }[] = [
  { name: 'INBOX', specialUse: null },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];

export { passwordHashes, type PasswordHashes } from '../auth/password-hashes.js';

/**
 * Creates the user, and its domain when missing. `hashing`: passwordHashes(password)
 * already started by the caller (the CLI starts it before it loads the store, so the
 * hash is computed meanwhile instead of after).
 */
export async function createUser(store: Store, address: string, password: string, hashing?: Promise<PasswordHashes>): Promise<User> {
  parseAddress(address);
  if (password.length === 0) throw new AccountError('password must not be empty');
  const { hash, scramKeys } = await (hashing ?? passwordHashes(password));
  return createUserWithHash(store, address, hash, scramKeys);
}

/** createUser with the password already hashed (hashPassword) and its SCRAM keys (scramKeysFor), so many users' can be computed in parallel. */
export async function createUserWithHash(store: Store, address: string, passwordHash: string, scramKeys?: string): Promise<User> {
  const parsed = parseAddress(address);
  if (!(await store.getDomain(parsed.domain))) {
    try {
      await store.addDomain(parsed.domain);
    } catch (err) {
      if (!isStoreError(err, 'exists')) throw err; // created meanwhile by someone else: fine
    }
  }
  const user = await store.addUser(parsed.address, passwordHash, DEFAULT_MAILBOXES, scramKeys);
  // All at once: on SQLite they share one commit (one fsync) instead of one each.
  await Promise.all(DEFAULT_MAILBOXES.map((mb) => store.setSubscribed(user.id, mb.name, true)));
  return user;
}

/** Sets a user's password; `hashing` as for createUser. */
export async function changePassword(store: Store, address: string, password: string, hashing?: Promise<PasswordHashes>): Promise<void> {
  if (password.length === 0) throw new AccountError('password must not be empty');
  const user = await requireUser(store, address);
  const { hash, scramKeys } = await (hashing ?? passwordHashes(password));
  await store.setPassword(user.id, hash, scramKeys);
}

export async function requireUser(store: Store, address: string): Promise<User> {
  const user = await store.getUser(parseAddress(address).address);
  if (!user) throw new AccountError(`no such user: ${address}`);
  return user;
}

export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountError';
  }
}
