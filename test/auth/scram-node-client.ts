/**
 * A minimal SCRAM client over raw IMAP/POP3/SMTP transcripts, for what python's scramp
 * cannot do: tls-exporter channel binding (TLS 1.3; python's ssl has no exporter) and
 * hand-made bad messages. The key derivation is src/auth/scram-keys.ts, checked against
 * the RFC test vectors in src/auth/scram.test.ts.
 */
import { randomBytes } from 'node:crypto';
import type tls from 'node:tls';
import type { Transcript } from '../harness/transcript.js';
import { hmac, keysFromSalted, saltedPassword, type ScramHash } from '../../src/auth/scram-keys.js';
import { xor } from '../../src/auth/scram.js';

export type Proto = 'imap' | 'pop3' | 'smtp';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

/** Sends one SASL step (the AUTH command itself when `command` is set); returns the challenge, or null with the final line. */
async function step(t: Transcript, proto: Proto, line: string): Promise<{ challenge: string | null; final: string }> {
  t.send(`${line}\r\n`);
  const pattern = { imap: /^(?:\+ ?(.*)|a1 (?:OK|NO|BAD).*)\r\n/m, pop3: /^(?:\+ (.*)|\+OK.*|-ERR.*)\r\n/m, smtp: /^(?:334 (.*)|[2-5]\d\d .*)\r\n/m }[proto];
  const text = await t.readUntil(pattern);
  const last = text.split('\r\n').filter(Boolean).pop()!;
  const m = { imap: /^\+ ?(.*)$/, pop3: /^\+ (.*)$/, smtp: /^334 (.*)$/ }[proto].exec(last);
  if (m && !(proto === 'pop3' && last.startsWith('+OK'))) return { challenge: Buffer.from(m[1], 'base64').toString('utf8'), final: last };
  return { challenge: null, final: last };
}

function command(proto: Proto, mechanism: string, initial: string): string {
  return proto === 'imap' ? `a1 AUTHENTICATE ${mechanism} ${b64(initial)}` : `AUTH ${mechanism} ${b64(initial)}`;
}

export interface ScramOptions {
  mechanism: 'SCRAM-SHA-1' | 'SCRAM-SHA-256' | 'SCRAM-SHA-256-PLUS';
  user: string;
  password: string;
  /** Bind to this type (data from the socket) ; default tls-exporter for -PLUS. */
  cbType?: 'tls-exporter' | 'tls-unique';
  /** Flip a bit of the binding data the client sends. */
  tamperCb?: boolean;
  /** Flip a bit of the proof. */
  tamperProof?: boolean;
}

/** Runs the exchange; returns the server's last line and whether it proved knowing the keys. */
export async function scramLogin(t: Transcript, proto: Proto, o: ScramOptions): Promise<{ final: string; serverVerified: boolean }> {
  const hash: ScramHash = o.mechanism === 'SCRAM-SHA-1' ? 'SHA-1' : 'SHA-256';
  const plus = o.mechanism.endsWith('-PLUS');
  let cbData = Buffer.alloc(0);
  let gs2 = 'n,,';
  if (plus) {
    const type = o.cbType ?? 'tls-exporter';
    const sock = t.socket as tls.TLSSocket;
    if (!sock.encrypted) cbData = randomBytes(32); // no TLS: the server must refuse before looking at it
    else cbData = type === 'tls-exporter' ? sock.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)) : sock.getFinished()!;
    if (o.tamperCb) cbData = Buffer.from(cbData.map((b, i) => (i === 0 ? b ^ 1 : b)));
    gs2 = `p=${type},,`;
  }
  const bare = `n=${o.user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${randomBytes(12).toString('base64')}`;
  const first = await step(t, proto, command(proto, o.mechanism, gs2 + bare));
  if (first.challenge === null) return { final: first.final, serverVerified: false };
  const serverFirst = first.challenge;
  const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
  const salted = await saltedPassword(hash, o.password, Buffer.from(attrs.s, 'base64'), Number(attrs.i));
  const { clientKey, storedKey } = keysFromSalted(hash, salted);
  const withoutProof = `c=${b64(Buffer.concat([Buffer.from(gs2), cbData]))},r=${attrs.r}`;
  const authMessage = `${bare},${serverFirst},${withoutProof}`;
  const proof = xor(clientKey, hmac(hash, storedKey, authMessage));
  if (o.tamperProof) proof[0] ^= 1;
  const second = await step(t, proto, b64(`${withoutProof},p=${proof.toString('base64')}`));
  if (second.challenge === null) return { final: second.final, serverVerified: false };
  const expected = `v=${hmac(hash, hmac(hash, salted, 'Server Key'), authMessage).toString('base64')}`;
  const last = await step(t, proto, '');
  return { final: last.final, serverVerified: second.challenge === expected };
}
