/**
 * Everything stored of a new password: its scrypt hash and its SCRAM keys.
 * Never imports: store, protocols (the CLI computes this before it loads either).
 */
import { hashPassword } from './password.js';
import { scramKeysFor } from './scram-keys.js';

/** What is stored of a password: its scrypt hash and its SCRAM keys. */
export interface PasswordHashes {
  hash: string;
  scramKeys: string;
}

/** Hashes a password for storage; the scrypt and the SCRAM derivations run side by side in the libuv pool. */
export async function passwordHashes(password: string): Promise<PasswordHashes> {
  const [hash, scramKeys] = await Promise.all([hashPassword(password), scramKeysFor(password)]);
  return { hash, scramKeys };
}
