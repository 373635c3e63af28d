/**
 * The server side of one SCRAM exchange (RFC 5802, RFC 7677): parses the client's
 * messages, builds the server's, and checks the proof against stored keys only.
 * Pure apart from the random server nonce: strings in, strings or a verdict out.
 * Malformed input throws SaslError (the protocols answer it as a syntax error).
 * Never imports: store, protocols, net.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { SaslError } from './sasl.js';
import { digest, hmac, type ScramHash, type ScramKey } from './scram-keys.js';

export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256' | 'SCRAM-SHA-256-PLUS';

/** Channel binding data of the current TLS connection (RFC 5929 tls-unique, RFC 9266 tls-exporter). */
export interface ChannelBinding {
  type: 'tls-unique' | 'tls-exporter';
  data: Buffer;
}

const MECHANISMS: Record<ScramMechanism, { hash: ScramHash; plus: boolean }> = {
  'SCRAM-SHA-1': { hash: 'SHA-1', plus: false },
  'SCRAM-SHA-256': { hash: 'SHA-256', plus: false },
  'SCRAM-SHA-256-PLUS': { hash: 'SHA-256', plus: true },
};

export function isScramMechanism(name: string): name is ScramMechanism {
  return Object.hasOwn(MECHANISMS, name);
}

export function scramHashOf(m: ScramMechanism): ScramHash {
  return MECHANISMS[m].hash;
}

/** The SCRAM mechanisms to advertise: -PLUS only where there is a channel to bind to. */
export function scramMechanisms(tls: boolean): ScramMechanism[] {
  return tls ? ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1'] : ['SCRAM-SHA-256', 'SCRAM-SHA-1'];
}

export interface ClientFirst {
  /** "n,," / "y,," / "p=tls-exporter,," plus authzid: echoed back in c= of the final message. */
  gs2Header: string;
  cbFlag: 'n' | 'y' | 'p';
  cbName: string | null;
  authzid: string | null;
  username: string;
  nonce: string;
  bare: string;
}

export interface ClientFinal {
  channelBinding: Buffer;
  nonce: string;
  proof: Buffer;
  withoutProof: string;
}

const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/; // printable except ","
const CB_NAME = /^[A-Za-z0-9.-]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** saslname (RFC 5802 5.1): "," and "=" arrive as "=2C" and "=3D"; any other "=" is an error. */
export function decodeSaslName(text: string): string {
  if (text === '') throw new SaslError('empty name');
  if (/=(?!2C|3D)/.test(text)) throw new SaslError('invalid escape in name');
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function strictBase64(text: string, what: string): Buffer {
  if (!BASE64.test(text)) throw new SaslError(`invalid base64 in ${what}`);
  return Buffer.from(text, 'base64');
}

/** gs2-header "," client-first-message-bare (RFC 5802 7). */
export function parseClientFirst(text: string): ClientFirst {
  const first = text.indexOf(',');
  const second = first < 0 ? -1 : text.indexOf(',', first + 1);
  if (second < 0) throw new SaslError('malformed client-first-message');
  const flag = text.slice(0, first);
  const authz = text.slice(first + 1, second);
  let cbFlag: ClientFirst['cbFlag'];
  let cbName: string | null = null;
  if (flag === 'n' || flag === 'y') cbFlag = flag;
  else if (flag.startsWith('p=') && CB_NAME.test(flag.slice(2))) [cbFlag, cbName] = ['p', flag.slice(2)];
  else throw new SaslError('invalid channel binding flag');
  let authzid: string | null = null;
  if (authz !== '') {
    if (!authz.startsWith('a=')) throw new SaslError('invalid authzid');
    authzid = decodeSaslName(authz.slice(2));
  }
  const bare = text.slice(second + 1);
  const attrs = bare.split(',');
  if (attrs[0].startsWith('m=')) throw new SaslError('mandatory extension not supported'); // RFC 5802 5.1
  if (attrs.length < 2 || !attrs[0].startsWith('n=') || !attrs[1].startsWith('r=')) throw new SaslError('malformed client-first-message');
  const nonce = attrs[1].slice(2);
  if (!NONCE.test(nonce)) throw new SaslError('invalid nonce');
  for (const ext of attrs.slice(2)) if (!/^[A-Za-z]=/.test(ext)) throw new SaslError('malformed extension');
  return { gs2Header: text.slice(0, second + 1), cbFlag, cbName, authzid, username: decodeSaslName(attrs[0].slice(2)), nonce, bare };
}

/** channel-binding "," nonce ["," extensions] "," proof (RFC 5802 7). */
export function parseClientFinal(text: string): ClientFinal {
  const at = text.lastIndexOf(',p=');
  if (at < 0) throw new SaslError('malformed client-final-message: no proof');
  const withoutProof = text.slice(0, at);
  const attrs = withoutProof.split(',');
  if (attrs.length < 2 || !attrs[0].startsWith('c=') || !attrs[1].startsWith('r=')) throw new SaslError('malformed client-final-message');
  for (const ext of attrs.slice(2)) if (!/^[A-Za-z]=/.test(ext)) throw new SaslError('malformed extension');
  const proof = strictBase64(text.slice(at + 3), 'proof');
  if (proof.length === 0) throw new SaslError('empty proof');
  return { channelBinding: strictBase64(attrs[0].slice(2), 'channel binding'), nonce: attrs[1].slice(2), proof, withoutProof };
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/**
 * One exchange: construct with the mechanism and the connection's channel binding (null
 * without TLS), then start(client-first), serverFirst(key), finish(client-final, key).
 */
export class ScramExchange {
  private readonly hash: ScramHash;
  private readonly plus: boolean;
  private client: ClientFirst | null = null;
  private serverFirstMessage = '';
  private nonce = '';

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly binding: ChannelBinding | null,
    private readonly serverNonce: string = randomBytes(18).toString('base64'),
  ) {
    ({ hash: this.hash, plus: this.plus } = MECHANISMS[mechanism]);
  }

  /** Parses and checks the client-first-message; returns the login name. */
  start(text: string): ClientFirst {
    const c = parseClientFirst(text);
    if (this.plus) {
      if (!this.binding) throw new SaslError('channel binding needs TLS');
      if (c.cbFlag !== 'p') throw new SaslError('-PLUS mechanism without channel binding');
      if (c.cbName !== this.binding.type) throw new SaslError(`unsupported channel binding type; this connection offers ${this.binding.type}`);
    } else {
      if (c.cbFlag === 'p') throw new SaslError('channel binding requested with a non-PLUS mechanism');
      // RFC 5802 6: "y" means the client saw no -PLUS; where this server offers one, that is a downgrade.
      if (c.cbFlag === 'y' && this.binding && this.hash === 'SHA-256') throw new SaslError('server supports channel binding (SCRAM-SHA-256-PLUS)');
    }
    if (c.authzid !== null && c.authzid.toLowerCase() !== c.username.toLowerCase()) throw new SaslError('authorization identity differs from the login (not supported)');
    this.client = c;
    return c;
  }

  serverFirst(key: Pick<ScramKey, 'salt' | 'iterations'>): string {
    if (!this.client) throw new Error('serverFirst before start');
    this.nonce = this.client.nonce + this.serverNonce;
    this.serverFirstMessage = `r=${this.nonce},s=${key.salt.toString('base64')},i=${key.iterations}`;
    return this.serverFirstMessage;
  }

  /**
   * Checks the client-final-message. `ok` only for the right proof and channel binding;
   * `serverFinal` is the v= message to send on success.
   */
  finish(text: string, key: ScramKey): { ok: boolean; serverFinal: string } {
    if (!this.client || !this.serverFirstMessage) throw new Error('finish before serverFirst');
    const f = parseClientFinal(text);
    if (f.nonce !== this.nonce) throw new SaslError('nonce mismatch');
    const expectedCb = Buffer.concat([Buffer.from(this.client.gs2Header, 'utf8'), this.client.cbFlag === 'p' ? this.binding!.data : Buffer.alloc(0)]);
    const authMessage = `${this.client.bare},${this.serverFirstMessage},${f.withoutProof}`;
    const signature = hmac(this.hash, key.storedKey, authMessage);
    let ok = f.proof.length === signature.length && timingSafeEqual(digest(this.hash, xor(f.proof, signature)), key.storedKey);
    // A wrong binding is a man in the middle: the same failure as a wrong proof.
    if (!(f.channelBinding.length === expectedCb.length && timingSafeEqual(f.channelBinding, expectedCb))) ok = false;
    return { ok, serverFinal: `v=${hmac(this.hash, key.serverKey, authMessage).toString('base64')}` };
  }
}
