/**
 * Shared by the setup tests: HTTP requests with any Host header, an independent plist
 * parser (python3 plistlib), a CA-issued certificate chain made with openssl, and a
 * server with users made through the store before it starts.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalChangeBus } from '../../src/store/bus.js';
import { openStore } from '../../src/store/open.js';
import { createUser } from '../../src/mail/accounts.js';
import { startServer, tempDirs, type RunningTestServer } from '../harness/server.js';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export function request(port: number, path: string, opts: { method?: string; host?: string; body?: string; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { Host: opts.host ?? `127.0.0.1:${port}`, ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Parses a property list with Python's plistlib (not our writer's code); dates and data as strings. */
export function parsePlist(bytes: Buffer): Record<string, unknown> {
  const out = execFileSync('python3', ['-c', 'import plistlib,sys,json; print(json.dumps(plistlib.loads(sys.stdin.buffer.read()), default=str))'], { input: bytes });
  return JSON.parse(out.toString('utf8')) as Record<string, unknown>;
}

export interface Chain {
  dir: string;
  /** Root CA certificate file (trust anchor for verification). */
  rootCa: string;
  /** Leaf + intermediate, as a server is configured with. */
  chain: string;
  key: string;
}

/** Root CA → intermediate CA → leaf for `hostname`, EC P-256, made with the openssl command. */
export function makeChain(dir: string, hostname: string): Chain {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(f('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  writeFileSync(f('leaf.ext'), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${hostname}\n`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', f('root.key'), '-out', f('root.pem'), '-subj', '/CN=Mailroom Test Root', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ossl('req', ...ec, '-keyout', f('int.key'), '-out', f('int.csr'), '-subj', '/CN=Mailroom Test Intermediate');
  ossl('x509', '-req', '-in', f('int.csr'), '-CA', f('root.pem'), '-CAkey', f('root.key'), '-CAcreateserial', '-out', f('int.pem'), '-days', '2', '-extfile', f('ca.ext'));
  ossl('req', ...ec, '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', `/CN=${hostname}`);
  ossl('x509', '-req', '-in', f('leaf.csr'), '-CA', f('int.pem'), '-CAkey', f('int.key'), '-CAcreateserial', '-out', f('leaf.pem'), '-days', '2', '-extfile', f('leaf.ext'));
  execFileSync('sh', ['-c', 'cat leaf.pem int.pem > chain.pem'], { cwd: dir });
  return { dir, rootCa: f('root.pem'), chain: f('chain.pem'), key: f('leaf.key') };
}

export interface SetupWorld {
  server: RunningTestServer;
  dir: string;
  http: number;
}

/** alice@example.test (password "secret") and the domain example.test; the server's host name is mail.example.test. */
export async function startSetupWorld(env: Record<string, string> = {}): Promise<SetupWorld> {
  const { dir, dataDir } = tempDirs();
  const store = await openStore({ dataDir, bus: new LocalChangeBus() });
  await createUser(store, 'alice@example.test', 'secret');
  await store.close();
  const server = await startServer({ dataDir, env: { MAILROOM_HOSTNAME: 'mail.example.test', ...env } });
  return { server, dir, http: server.ports.http! };
}
