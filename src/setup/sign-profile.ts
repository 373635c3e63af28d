/**
 * Signs a configuration profile as CMS SignedData with the content included (what iOS
 * and macOS show as "Verified"), by the `openssl` command: Node's crypto has no CMS,
 * and the JavaScript CMS libraries do not sign with the EC keys most certificates use
 * today. openssl reads key and certificates from files, so they are written to a fresh
 * private directory (mode 0700) that is removed as soon as openssl is done.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pemBlocks } from './certificate.js';

export class ProfileSigningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileSigningError';
  }
}

/**
 * Runs at most `concurrent` signings at once with up to `waiting` more queued: the
 * profile URL needs no login, so requests must not be able to start openssl processes
 * without bound. Past the queue, `sign` throws SignerBusyError (the route answers 503).
 */
export class ProfileSigner {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly concurrent = 2,
    private readonly waiting = 32,
    private readonly signer: typeof signProfile = signProfile,
  ) {}

  async sign(content: Buffer, chainPem: string, keyPem: string): Promise<Buffer> {
    if (this.running >= this.concurrent) {
      if (this.queue.length >= this.waiting) throw new SignerBusyError();
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await this.signer(content, chainPem, keyPem);
    } finally {
      const next = this.queue.shift();
      // The slot passes straight to the next waiter; only when nobody waits is it freed.
      if (next) next();
      else this.running--;
    }
  }
}

export class SignerBusyError extends Error {
  constructor() {
    super('too many profile downloads at once');
    this.name = 'SignerBusyError';
  }
}

export async function signProfile(content: Buffer, chainPem: string, keyPem: string, timeoutMs = 10_000): Promise<Buffer> {
  const [leaf, ...intermediates] = pemBlocks(chainPem);
  if (!leaf) throw new ProfileSigningError('no certificate to sign with');
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-sign-'));
  try {
    const file = (name: string) => join(dir, name);
    await writeFile(file('key.pem'), keyPem, { mode: 0o600 });
    await writeFile(file('signer.pem'), `${leaf}\n`, { mode: 0o600 });
    const args = ['smime', '-sign', '-nodetach', '-binary', '-outform', 'der', '-md', 'sha256', '-signer', file('signer.pem'), '-inkey', file('key.pem')];
    if (intermediates.length) {
      await writeFile(file('chain.pem'), `${intermediates.join('\n')}\n`, { mode: 0o600 });
      args.push('-certfile', file('chain.pem'));
    }
    return await runOpenssl(args, content, timeoutMs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runOpenssl(args: string[], input: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', (e) => reject(new ProfileSigningError(`cannot run openssl: ${e.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new ProfileSigningError(`openssl smime -sign failed (${signal ?? code}): ${err.trim().split('\n')[0] ?? ''}`));
    });
    child.stdin.on('error', () => undefined); // openssl exiting early closes stdin; the exit code says why
    child.stdin.end(input);
  });
}
