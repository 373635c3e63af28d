/**
 * The server's certificate: the configured PEM files, or a self-signed one made
 * once under `<data>/tls/` (cert.pem, key.pem) and reused on later starts, so
 * clients that accepted it once are not asked again.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { isIP } from 'node:net';
import type { Logger } from 'pino';

/** A certificate or key cannot be used; the message is one line for stderr. */
export class TlsSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TlsSetupError';
  }
}

export interface TlsMaterial {
  cert: string;
  key: string;
  certPath: string;
  selfSigned: boolean;
}

export interface TlsOptions {
  /** Configured files; both empty → self-signed under dataDir. */
  cert: string;
  key: string;
  dataDir: string;
  hostname: string;
  log: Logger;
}

const SELF_SIGNED_DAYS = 3650;

/** Loads and checks the certificate and key; creates the self-signed pair when none is configured. */
export async function loadTlsMaterial(opts: TlsOptions): Promise<TlsMaterial> {
  if (opts.cert !== '') {
    const cert = readPem(opts.cert, 'certificate');
    const key = readPem(opts.key, 'key');
    check(cert, key, `${opts.cert}, ${opts.key}`);
    return { cert, key, certPath: opts.cert, selfSigned: false };
  }
  const dir = join(opts.dataDir, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readPem(certPath, 'certificate');
    const key = readPem(keyPath, 'key');
    check(cert, key, `${certPath}, ${keyPath}; delete both to make a new pair`);
    if (new Date(new X509Certificate(cert).validTo) > new Date()) {
      opts.log.info({ cert: certPath, sha256: fingerprint(cert) }, 'using self-signed certificate');
      return { cert, key, certPath, selfSigned: true };
    }
    opts.log.warn({ cert: certPath }, 'self-signed certificate expired; making a new one');
  }
  const made = await makeSelfSigned(opts.hostname);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Key first, each by rename: a crash never leaves a cert without its key.
  writeAtomic(keyPath, made.key, 0o600);
  writeAtomic(certPath, made.cert, 0o644);
  opts.log.info({ cert: certPath, sha256: fingerprint(made.cert), hostname: opts.hostname }, 'created self-signed certificate');
  return { ...made, certPath, selfSigned: true };
}

async function makeSelfSigned(hostname: string): Promise<{ cert: string; key: string }> {
  const names = [...new Set([hostname, 'localhost'])];
  const altNames = [
    ...names.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })),
    { type: 7 as const, ip: '127.0.0.1' },
    { type: 7 as const, ip: '::1' },
  ];
  // Loaded here, not at startup: only a first start without a certificate needs it, and it weighs ~3 MB of heap in every server.
  const { generate } = await import('selfsigned');
  const result = await generate([{ name: 'commonName', value: hostname }, { name: 'organizationName', value: 'Mailroom self-signed' }], {
    keyType: 'ec',
    curve: 'P-256',
    notBeforeDate: new Date(Date.now() - 60_000), // tolerate a little clock skew on clients
    notAfterDate: new Date(Date.now() + SELF_SIGNED_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: result.cert, key: result.private };
}

function readPem(path: string, what: 'certificate' | 'key'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new TlsSetupError(`cannot read TLS ${what} ${path}: ${why}`, { cause: err });
  }
}

function check(cert: string, key: string, where: string): void {
  try {
    tls.createSecureContext({ cert, key });
  } catch (err) {
    throw new TlsSetupError(`invalid TLS certificate or key (${where}): ${(err as Error).message}`, { cause: err });
  }
}

function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

export function fingerprint(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
}
