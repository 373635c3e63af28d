/**
 * DKIM keys and signing (RFC 6376; ed25519 per RFC 8463). Keys live under the data
 * directory, one PEM file per selector: `<data>/dkim/<domain>/<selector>.pem` (mode
 * 0600). Outgoing mail is signed at enqueue with every key of the sender's domain
 * (RSA and ed25519 side by side is the usual way to offer both). Signing itself is
 * mailauth's (a well-kept implementation of the canonicalisations); this module owns
 * where keys live and what the DNS record says.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { DKIMSignOptions } from 'mailauth';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { normaliseDomain } from './address.js';

export type DkimAlgorithm = 'rsa' | 'ed25519';

export interface DkimKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  privateKey: string;
}

export interface DkimRecord {
  /** `selector._domainkey.domain` */
  name: string;
  /** The TXT value, e.g. `v=DKIM1; k=rsa; p=MIIB…` */
  value: string;
  /** A zone-file line, with the value split into strings of at most 255 characters (RFC 1035 3.3.14). */
  zoneLine: string;
}

const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export class DkimError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DkimError';
  }
}

function keyDir(dataDir: string, domain: string): string {
  return join(dataDir, 'dkim', normaliseDomain(domain));
}

/** Creates a key pair for `domain` and stores the private key; throws DkimError if the selector is taken or malformed. */
export async function generateDkimKey(dataDir: string, domain: string, selector = 'mailroom', algorithm: DkimAlgorithm = 'rsa'): Promise<{ key: DkimKey; record: DkimRecord; file: string }> {
  if (!SELECTOR.test(selector)) throw new DkimError(`invalid selector "${selector}": letters, digits and inner hyphens only`);
  const d = normaliseDomain(domain);
  const dir = keyDir(dataDir, d);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${selector}.pem`);
  const pair = algorithm === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    await writeFile(file, privateKey, { mode: 0o600, flag: 'wx' }); // wx: never overwrite a published key
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new DkimError(`a key with selector "${selector}" exists for ${d}; choose another --selector`);
    throw err;
  }
  const key = { domain: d, selector, algorithm, privateKey };
  return { key, record: dkimRecord(key), file };
}

/** The DNS TXT record publishing the public half of `key`. */
export function dkimRecord(key: DkimKey): DkimRecord {
  const spki = createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' });
  // RFC 6376 3.6.1: p= is the base64 SubjectPublicKeyInfo for RSA; RFC 8463 3: the raw 32-byte key for ed25519.
  const p = (key.algorithm === 'ed25519' ? spki.subarray(spki.length - 32) : spki).toString('base64');
  const value = `v=DKIM1; k=${key.algorithm}; p=${p}`;
  const name = `${key.selector}._domainkey.${key.domain}`;
  const chunks = value.match(/.{1,255}/g) ?? [value];
  return { name, value, zoneLine: `${name}. IN TXT ( ${chunks.map((c) => `"${c}"`).join(' ')} )` };
}

/** Every key stored for `domain` (none when the directory is missing), by selector. */
export async function loadDkimKeys(dataDir: string, domain: string): Promise<DkimKey[]> {
  let d: string;
  try {
    d = normaliseDomain(domain);
  } catch {
    return [];
  }
  const dir = keyDir(dataDir, d);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.pem')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const keys: DkimKey[] = [];
  for (const name of names) {
    const privateKey = await readFile(join(dir, name), 'utf8');
    const type = createPublicKey(privateKey).asymmetricKeyType;
    keys.push({ domain: d, selector: name.slice(0, -4), algorithm: type === 'ed25519' ? 'ed25519' : 'rsa', privateKey });
  }
  return keys;
}

/**
 * DKIM-Signature header lines (CRLF-terminated) for the message, one per key; '' when
 * there are no keys. `open` is called once per signing pass so a spooled message is
 * streamed rather than held in memory.
 */
export async function dkimSignatures(keys: DkimKey[], open: () => Readable, now = new Date()): Promise<string> {
  if (keys.length === 0) return '';
  // mailauth's typings describe one signature; the signer takes `signatureData` (one entry per key) at run time.
  const options = {
    canonicalization: 'relaxed/relaxed',
    signTime: now,
    signatureData: keys.map((k) => ({
      signingDomain: k.domain,
      selector: k.selector,
      privateKey: k.privateKey,
      algorithm: k.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256',
    })),
  } as unknown as DKIMSignOptions;
  const result = await dkimSign(open(), options);
  if (result.errors?.length) throw new DkimError(`DKIM signing failed: ${result.errors.map((e) => String((e as Error).message ?? e)).join('; ')}`);
  return result.signatures.trim() === '' ? '' : result.signatures;
}
