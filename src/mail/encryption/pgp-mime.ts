/**
 * Encryption at rest for one account (opt-in): a message is stored as PGP/MIME (RFC 3156 4)
 * encrypted to the account's OpenPGP public key, so a stolen disk, a database dump or a
 * leaked password without the private key reveals no message body. The whole original
 * message (its header and body) is the encrypted payload; the outer header keeps the
 * fields mail needs to be listed, threaded and routed (From, To, Subject, Date,
 * Message-ID, Received…), which are therefore not protected.
 *
 * `openpgp` is imported on first use: accounts without a key never load it.
 * Never imports: the store, protocol code.
 */
import { randomBytes } from 'node:crypto';
import { readHeaderBlock } from '../../mime/header-block.js';

type OpenPgp = typeof import('openpgp');
let lib: Promise<OpenPgp> | undefined;
const openpgp = (): Promise<OpenPgp> => (lib ??= import('openpgp'));

/** Per-user setting that holds the armored public key. */
export const ENCRYPTION_KEY_SETTING = 'encryption.key';

/** The armored public key new mail for this user is encrypted to, if the user opted in. */
export function encryptionKeyOf(user: { settings: Record<string, string> }): string | undefined {
  return user.settings[ENCRYPTION_KEY_SETTING] || undefined;
}

export interface KeyFacts {
  fingerprint: string;
  userIds: string[];
  algorithm: string;
}

/** Checks an armored key can encrypt (a public key, not expired or revoked, with an encryption subkey). */
export async function inspectPublicKey(armored: string): Promise<KeyFacts> {
  const pgp = await openpgp();
  let key;
  try {
    key = await pgp.readKey({ armoredKey: armored });
  } catch (e) {
    throw new Error(`not an OpenPGP key: ${(e as Error).message}`);
  }
  if (key.isPrivate()) throw new Error('this is a private key: give the public key (gpg --armor --export ADDRESS)');
  try {
    await key.getEncryptionKey();
  } catch (e) {
    throw new Error(`the key cannot encrypt: ${(e as Error).message}`);
  }
  return { fingerprint: key.getFingerprint().toUpperCase(), userIds: key.getUserIDs(), algorithm: key.getAlgorithmInfo().algorithm };
}

/** Outer-header fields that describe the body: they go inside, with the body. */
const CONTENT_FIELD = /^(content-|mime-version$)/i;

/** True when the message is already encrypted end to end (PGP/MIME or S/MIME): stored as it came. */
export function alreadyEncrypted(raw: Buffer): boolean {
  const head = readHeaderBlock(raw, 0, null);
  const type = head.fields.find((f) => f.name.toLowerCase() === 'content-type')?.value ?? '';
  return /^\s*(multipart\/encrypted|application\/(x-)?pkcs7-mime)\b/i.test(type);
}

/**
 * The PGP/MIME form of `raw` for the key: outer header = the original's fields other than
 * Content-* and MIME-Version, byte for byte; body = multipart/encrypted with the version part
 * and the armored OpenPGP message of the original bytes.
 */
export async function encryptToPgpMime(raw: Buffer, armoredPublicKey: string): Promise<Buffer> {
  const pgp = await openpgp();
  const encryptionKeys = await pgp.readKey({ armoredKey: armoredPublicKey });
  const message = await pgp.createMessage({ binary: new Uint8Array(raw.buffer, raw.byteOffset, raw.length), format: 'binary' });
  const armored = (await pgp.encrypt({ message, encryptionKeys, format: 'armored' })) as string;

  const head = readHeaderBlock(raw, 0, null);
  const kept = head.fields.filter((f) => f.value !== null && !CONTENT_FIELD.test(f.name)).map((f) => normaliseEnd(raw.subarray(f.start, f.end)));
  const boundary = `=_mailroom_pgp_${randomBytes(12).toString('hex')}`;
  const body = [
    'This is an OpenPGP/MIME encrypted message (RFC 3156); the server stores it encrypted to your key.',
    '',
    `--${boundary}`,
    'Content-Type: application/pgp-encrypted',
    'Content-Description: PGP/MIME version identification',
    '',
    'Version: 1',
    '',
    `--${boundary}`,
    'Content-Type: application/octet-stream; name="encrypted.asc"',
    'Content-Description: OpenPGP encrypted message',
    'Content-Disposition: inline; filename="encrypted.asc"',
    '',
    armored.replace(/\r?\n/g, '\r\n').replace(/\r\n$/, ''),
    `--${boundary}--`,
    '',
  ].join('\r\n');
  const outer = [
    'MIME-Version: 1.0',
    `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\r\n boundary="${boundary}"`,
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([...kept, Buffer.from(outer + body, 'latin1')]);
}

/** A header field's bytes with a CRLF line end (a bare LF or a missing end at EOF fixed). */
function normaliseEnd(field: Buffer): Buffer {
  const text = field.toString('latin1').replace(/\r?\n/g, '\r\n');
  return Buffer.from(text.endsWith('\r\n') ? text : `${text}\r\n`, 'latin1');
}
