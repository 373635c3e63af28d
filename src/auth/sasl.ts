/**
 * SASL PLAIN (RFC 4616) and LOGIN message decoding, shared by IMAP AUTHENTICATE,
 * POP3 AUTH and SMTP AUTH. Pure functions: base64 in, credentials or an error out.
 */

export class SaslError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaslError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64 (RFC 4648 alphabet, correct padding); "=" alone is an empty response (RFC 4954, RFC 9051 6.2.2). */
export function decodeBase64(text: string): Buffer {
  const t = text.trim();
  if (t === '=') return Buffer.alloc(0);
  if (!BASE64.test(t) || t.length % 4 !== 0) throw new SaslError('invalid base64');
  return Buffer.from(t, 'base64');
}

export interface PlainCredentials {
  authzid: string;
  username: string;
  password: string;
}

/** PLAIN: [authzid] NUL authcid NUL passwd, UTF-8 (RFC 4616 2). */
export function decodePlain(response: string): PlainCredentials {
  const parts = decodeBase64(response).toString('utf8').split('\0');
  if (parts.length !== 3) throw new SaslError('malformed PLAIN response');
  const [authzid, username, password] = parts;
  if (!username || !password) throw new SaslError('malformed PLAIN response');
  if (authzid && authzid.toLowerCase() !== username.toLowerCase()) throw new SaslError('authorization identity differs from the login (not supported)');
  return { authzid, username, password };
}

/** LOGIN sends the user name and the password as two base64 responses. */
export function decodeLoginStep(response: string): string {
  return decodeBase64(response).toString('utf8');
}

/** Continuation prompts of the LOGIN mechanism (de facto, base64 of "Username:" / "Password:"). */
export const LOGIN_PROMPTS = { username: Buffer.from('Username:').toString('base64'), password: Buffer.from('Password:').toString('base64') };
