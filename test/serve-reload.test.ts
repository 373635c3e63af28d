/**
 * SIGHUP and certificate file changes reload the TLS certificate of the running server:
 * a new TLS connection sees the new certificate's fingerprint, an IMAP session opened
 * before keeps working, and SIGHUP no longer stops the server. An unusable certificate
 * keeps the old one.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { runCli, startServer, type RunningTestServer } from './harness/server.js';
import { connect } from './harness/transcript.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-reload-'));
const CERT = join(dir, 'cert.pem');
const KEY = join(dir, 'key.pem');

/** A fresh self-signed pair; returns its SHA-256 fingerprint as node prints it. */
function makePair(name: string): { cert: string; key: string; fingerprint: string } {
  const c = join(dir, `${name}.crt`);
  const k = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-days', '2', '-keyout', k, '-out', c], { stdio: 'ignore' });
  const cert = readFileSync(c, 'utf8');
  return { cert, key: readFileSync(k, 'utf8'), fingerprint: new X509Certificate(cert).fingerprint256 };
}

/** Installs a pair the way renewal tools do: write aside, then rename over (key first). */
function install(p: { cert: string; key: string }): void {
  writeFileSync(`${KEY}.new`, p.key);
  renameSync(`${KEY}.new`, KEY);
  writeFileSync(`${CERT}.new`, p.cert);
  renameSync(`${CERT}.new`, CERT);
}

function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!.fingerprint256);
      s.destroy();
    });
    s.once('error', reject);
  });
}

async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('certificate reload (SIGHUP, file change)', () => {
  let server: RunningTestServer;
  const a = makePair('cert-a');
  const b = makePair('cert-b');
  const c = makePair('cert-c');

  before(async () => {
    install(a);
    server = await startServer({ env: { MAILROOM_TLS_CERT: CERT, MAILROOM_TLS_KEY: KEY } });
    const r = await runCli(['user', 'add', 'reload@example.test', '--password', 'pw'], { dataDir: server.dataDir });
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => server?.stop());

  it('SIGHUP: new connections get the new certificate; an open session keeps working; the server stays up', async () => {
    assert.equal(await peerFingerprint(server.ports.imaps!), a.fingerprint);
    const open = await connect(server.ports.imaps!, { tls: true, timeoutMs: 10_000 });
    await open.readUntil(/\r\n/);
    open.send('a1 LOGIN reload@example.test pw\r\n');
    await open.readUntil(/^a1 OK.*\r\n/m);

    const reloads = server.stdout.filter((l) => l.msg === 'reloaded TLS certificate').length;
    install(b);
    process.kill(server.pid, 'SIGHUP');
    await until('the new certificate', async () => (await peerFingerprint(server.ports.imaps!)) === b.fingerprint);
    assert.ok(server.stdout.filter((l) => l.msg === 'reloaded TLS certificate').length > reloads);
    assert.equal(await peerFingerprint(server.ports.pop3s!), b.fingerprint, 'every TLS listener');

    open.send('a2 NOOP\r\n');
    assert.match(await open.readUntil(/^a2 .*\r\n/m), /a2 OK/);
    open.send('a3 SELECT INBOX\r\n');
    assert.match(await open.readUntil(/^a3 .*\r\n/m), /a3 OK/);
    open.socket.destroy();

    // STARTTLS on the plain port offers the new one too.
    const plain = await connect(server.ports.imap!, { timeoutMs: 10_000 });
    await plain.readUntil(/\r\n/);
    plain.send('s1 STARTTLS\r\n');
    await plain.readUntil(/^s1 OK.*\r\n/m);
    const fp = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ socket: plain.socket, rejectUnauthorized: false }, () => (resolve(s.getPeerX509Certificate()!.fingerprint256), s.destroy()));
      s.once('error', reject);
    });
    assert.equal(fp, b.fingerprint);
  });

  it('a file change alone is picked up; a broken pair keeps the running certificate', async () => {
    install(c);
    await until('the changed files', async () => (await peerFingerprint(server.ports.imaps!)) === c.fingerprint);
    writeFileSync(`${KEY}.new`, a.key); // a key that does not match the certificate
    renameSync(`${KEY}.new`, KEY);
    process.kill(server.pid, 'SIGHUP');
    await server.waitForLog((l) => /reload failed|not usable/.test(String(l.msg)), 10_000);
    assert.equal(await peerFingerprint(server.ports.imaps!), c.fingerprint);
    assert.equal(await peerFingerprint(server.ports.imaps!), c.fingerprint, 'still serving after the failed reload');
  });
});
