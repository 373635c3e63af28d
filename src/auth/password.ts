/**
 * Password hashing with scrypt (node:crypto, no native addon). The stored form
 * names its parameters so they can be raised later without breaking old hashes:
 *   $scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>
 * Where the scrypt runs is the caller's choice (`Scrypt`): the default is node's
 * async scrypt in the libuv pool, fine for the CLI; the server passes its hash
 * worker pool (hash-pool.ts) so logins never queue file I/O behind a hash.
 * Never imports: store, protocols.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const DEFAULT = { ln: 15, r: 8, p: 1 }; // N = 32768: about 50–170 ms and 32 MiB per hash

/** Derives `keylen` bytes from a password and salt; the one place a hash costs CPU. */
export type Scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) => Promise<Buffer>;

/** node's async scrypt: runs in the libuv thread pool, shared with every fs call of the process. */
export const libuvScrypt: Scrypt = (password, salt, keylen, options) =>
  new Promise((resolve, reject) => {
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });

/** scrypt options for the stored parameters; maxmem leaves room above 128·N·r. */
export function scryptOptions(ln: number, r: number, p: number): ScryptOptions {
  const N = 2 ** ln;
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

/** Hashes a password for storage. */
export async function hashPassword(password: string, scrypt: Scrypt = libuvScrypt): Promise<string> {
  const salt = randomBytes(16);
  const { ln, r, p } = DEFAULT;
  const key = await scrypt(password, salt, KEY_LENGTH, scryptOptions(ln, r, p));
  return `$scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

/**
 * Checks a password against a stored hash in constant time; false for any malformed
 * hash. Rejects only when `scrypt` does (e.g. the hash pool is full).
 */
export async function verifyPassword(password: string, stored: string, scrypt: Scrypt = libuvScrypt): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (!m) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || ln > 20 || r < 1 || p < 1) return false;
  const expected = Buffer.from(m[5], 'base64');
  if (expected.length < 16) return false;
  const key = await scrypt(password, Buffer.from(m[4], 'base64'), expected.length, scryptOptions(ln, r, p));
  return timingSafeEqual(key, expected);
}
