/**
 * Device passwords: generated, high-entropy secrets (120 random bits), shown once and
 * stored only as a SHA-256 digest. A guessing attack on 2^120 candidates is hopeless
 * whatever the digest costs, so no scrypt is needed and a login finds its device by one
 * unique-index lookup on the digest instead of trying every device's hash.
 *
 * Never imports: store backends, protocols.
 */
import { createHash, randomInt } from 'node:crypto';

/** 32 letters and digits without the look-alikes 0/o, 1/l: 5 bits per character. */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const GROUPS = 6;
const GROUP = 4;

/** A new device password: six groups of four characters (`abcd-efgh-…`), 120 bits. */
export function generateDevicePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let s = '';
    for (let i = 0; i < GROUP; i++) s += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(s);
  }
  return groups.join('-');
}

/**
 * The digest a device password is stored and looked up by. Case, dashes and spaces are
 * ignored, so a password typed on a phone keyboard (capitalised, without dashes) still works.
 */
export function devicePasswordDigest(password: string): string {
  return createHash('sha256').update(password.toLowerCase().replace(/[\s-]/g, ''), 'utf8').digest('hex');
}

/** Whether a password could be a generated one (so a login looks for a device only then). */
export function looksLikeDevicePassword(password: string): boolean {
  const p = password.toLowerCase().replace(/[\s-]/g, '');
  return p.length === GROUPS * GROUP && [...p].every((c) => ALPHABET.includes(c));
}
