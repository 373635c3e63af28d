/**
 * SCRAM verifiers (RFC 5802 3): per hash, the salt, the iteration count, StoredKey and
 * ServerKey. They are derived once, where the password is known (a password change, or
 * the first successful PLAIN/LOGIN after migration 14), and stored in `users.scram_keys`
 * as text, one line per hash:
 *   SHA-256 i=4096 s=<salt b64> k=<StoredKey b64> v=<ServerKey b64>
 * The server never needs the password for SCRAM, and the keys alone cannot log in with
 * PLAIN (StoredKey is a hash of ClientKey).
 * Never imports: store, protocols.
 */
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { saslPrep } from './saslprep.js';

export type ScramHash = 'SHA-1' | 'SHA-256';

export const SCRAM_HASHES: readonly ScramHash[] = ['SHA-1', 'SHA-256'];

/** RFC 7677 4 asks for at least 4096 for SHA-256; clients cap far higher. */
export const DEFAULT_ITERATIONS = 4096;

export interface ScramKey {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export type ScramKeys = Partial<Record<ScramHash, ScramKey>>;

export function nodeHash(hash: ScramHash): 'sha1' | 'sha256' {
  return hash === 'SHA-1' ? 'sha1' : 'sha256';
}

export function hmac(hash: ScramHash, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(nodeHash(hash), key).update(data).digest();
}

export function digest(hash: ScramHash, data: Buffer): Buffer {
  return createHash(nodeHash(hash)).update(data).digest();
}

/** SaltedPassword := Hi(Normalize(password), salt, i), Hi being PBKDF2 with HMAC (RFC 5802 2.2). */
export function saltedPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  const len = hash === 'SHA-1' ? 20 : 32;
  return new Promise((resolve, reject) => {
    pbkdf2(saslPrep(password), salt, iterations, len, nodeHash(hash), (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** StoredKey and ServerKey from a SaltedPassword (RFC 5802 3). */
export function keysFromSalted(hash: ScramHash, salted: Buffer): { clientKey: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const clientKey = hmac(hash, salted, 'Client Key');
  return { clientKey, storedKey: digest(hash, clientKey), serverKey: hmac(hash, salted, 'Server Key') };
}

export async function deriveScramKey(hash: ScramHash, password: string, salt: Buffer = randomBytes(16), iterations = DEFAULT_ITERATIONS): Promise<ScramKey> {
  const { storedKey, serverKey } = keysFromSalted(hash, await saltedPassword(hash, password, salt, iterations));
  return { salt, iterations, storedKey, serverKey };
}

/** The stored text for a password: every supported hash, each with its own salt. */
export async function scramKeysFor(password: string, iterations = DEFAULT_ITERATIONS): Promise<string> {
  const keys: ScramKeys = {};
  for (const h of SCRAM_HASHES) keys[h] = await deriveScramKey(h, password, randomBytes(16), iterations);
  return formatScramKeys(keys);
}

export function formatScramKeys(keys: ScramKeys): string {
  return SCRAM_HASHES.filter((h) => keys[h])
    .map((h) => {
      const k = keys[h]!;
      return `${h} i=${k.iterations} s=${k.salt.toString('base64')} k=${k.storedKey.toString('base64')} v=${k.serverKey.toString('base64')}`;
    })
    .join('\n');
}

const LINE = /^(SHA-1|SHA-256) i=(\d{1,8}) s=([A-Za-z0-9+/=]+) k=([A-Za-z0-9+/=]+) v=([A-Za-z0-9+/=]+)$/;

/** The stored keys; a malformed line is skipped (that hash then refuses the user like one without keys). */
export function parseScramKeys(text: string): ScramKeys {
  const keys: ScramKeys = {};
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const hash = m[1] as ScramHash;
    const key = { iterations: Number(m[2]), salt: Buffer.from(m[3], 'base64'), storedKey: Buffer.from(m[4], 'base64'), serverKey: Buffer.from(m[5], 'base64') };
    const len = hash === 'SHA-1' ? 20 : 32;
    if (key.iterations < 1 || key.salt.length === 0 || key.storedKey.length !== len || key.serverKey.length !== len) continue;
    keys[hash] = key;
  }
  return keys;
}
