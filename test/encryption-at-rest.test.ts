// Opt-in encryption at rest (issue 13): after `mailroom encryption set`, mail delivered to
// the account is stored as PGP/MIME encrypted to its public key. Keys are made and the
// stored mail is decrypted with GnuPG, an implementation independent of the server's
// (openpgp.js); mail goes in with python's smtplib and comes out with imaplib and poplib.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer, type RunningTestServer } from './harness/server.js';

const ACCOUNT = 'vault@example.test';
const PLAIN = 'plain@example.test';
const PASS = 'vault-password';
let server: RunningTestServer;
let gnupg: string;
let publicKey: string;

function gpg(args: string[], input?: Buffer): Buffer {
  return execFileSync('gpg', ['--homedir', gnupg, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { input, maxBuffer: 256 * 1024 * 1024 });
}

function py(script: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, ...args], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
  });
}

const SEND = `
import smtplib, sys
raw = open(sys.argv[3], 'rb').read()
with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60) as s:
    s.sendmail('sender@example.net', [sys.argv[2]], raw)
`;

const IMAP_LAST = `
import imaplib, sys, base64
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login(sys.argv[2], sys.argv[3])
c.select('INBOX')
typ, data = c.fetch(c.search(None, 'ALL')[1][0].split()[-1], '(BODY.PEEK[])')
sys.stdout.write(base64.b64encode(data[0][1]).decode())
typ, hits = c.search(None, 'BODY', sys.argv[4])
sys.stdout.write(' ' + str(len(hits[0].split())))
c.logout()
`;

const POP_LAST = `
import poplib, sys, base64
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user(sys.argv[2]); p.pass_(sys.argv[3])
n = len(p.list()[1])
lines = p.retr(n)[1]
sys.stdout.write(base64.b64encode(b'\\r\\n'.join(lines) + b'\\r\\n').decode())
p.quit()
`;

/** The armored OpenPGP message inside a PGP/MIME body, and the outer header. */
function pgpParts(stored: Buffer): { header: string; armored: string } {
  const text = stored.toString('latin1');
  const headerEnd = text.indexOf('\r\n\r\n');
  const header = text.slice(0, headerEnd);
  assert.match(header, /^Content-Type: multipart\/encrypted; protocol="application\/pgp-encrypted";/m);
  const boundary = /boundary="([^"]+)"/.exec(header)![1];
  const parts = text.slice(headerEnd).split(`--${boundary}`);
  assert.equal(parts.length, 4, 'preamble, version part, encrypted part, epilogue');
  assert.match(parts[1], /Content-Type: application\/pgp-encrypted\r\n[\s\S]*\r\n\r\nVersion: 1\r\n/);
  const armored = /-----BEGIN PGP MESSAGE-----[\s\S]*-----END PGP MESSAGE-----/.exec(parts[2]);
  assert.ok(armored, 'an armored OpenPGP message');
  return { header, armored: armored[0] };
}

function message(subject: string, size: number): Buffer {
  const head = `From: Sender <sender@example.net>\r\nTo: ${ACCOUNT}\r\nSubject: ${subject}\r\nDate: Sun, 29 Nov 2026 06:00:00 +0000\r\nMessage-ID: <${subject}@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsecretword confidential body\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog, 0123456789.\r\n';
  return Buffer.from(head + line.repeat(Math.max(0, Math.ceil((size - head.length) / line.length))), 'latin1');
}

before(async () => {
  gnupg = mkdtempSync(join(tmpdir(), 'mailroom-gnupg-'));
  gpg(['--quick-gen-key', `Vault <${ACCOUNT}>`, 'future-default', 'default', 'never']);
  publicKey = gpg(['--armor', '--export', ACCOUNT]).toString();
  server = await startServer();
  for (const u of [ACCOUNT, PLAIN]) assert.equal((await runCli(['user', 'add', u, '--password', PASS], { dataDir: server.dataDir })).code, 0);
});

after(async () => {
  await server?.stop();
});

describe('encryption at rest', () => {
  test('encryption set refuses what cannot encrypt, and shows the key it keeps', async () => {
    const bad = join(gnupg, 'not-a-key.asc');
    writeFileSync(bad, 'hello\n');
    const r = await runCli(['encryption', 'set', ACCOUNT, '--key', bad], { dataDir: server.dataDir });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not an OpenPGP key/);
    const secret = join(gnupg, 'secret.asc');
    writeFileSync(secret, gpg(['--armor', '--export-secret-keys', ACCOUNT]));
    assert.match((await runCli(['encryption', 'set', ACCOUNT, '--key', secret], { dataDir: server.dataDir })).stderr, /private key/);
    assert.match((await runCli(['encryption', 'show', ACCOUNT], { dataDir: server.dataDir })).stdout, /: off/);
    const pub = join(gnupg, 'public.asc');
    writeFileSync(pub, publicKey);
    const set = await runCli(['encryption', 'set', ACCOUNT, '--key', pub], { dataDir: server.dataDir });
    assert.equal(set.code, 0, set.stderr);
    const fpr = /fpr:{9}([0-9A-F]+):/.exec(gpg(['--with-colons', '--fingerprint', ACCOUNT]).toString())![1];
    assert.match(set.stdout, new RegExp(fpr));
    assert.match((await runCli(['encryption', 'show', ACCOUNT], { dataDir: server.dataDir })).stdout, new RegExp(`: on\\t${fpr}`));
  });

  for (const [label, size] of [['1 KB', 1024], ['1 MB', 1024 * 1024], ['5 MB', 5 * 1024 * 1024]] as const) {
    test(`a ${label} message sent with smtplib is stored encrypted; gpg decrypts the IMAP and POP3 copies to the original bytes`, { timeout: 120_000 }, async () => {
      const original = message(`enc-${size}`, size);
      const file = join(gnupg, `m-${size}.eml`);
      writeFileSync(file, original);
      await py(SEND, String(server.ports.smtp), ACCOUNT, file);
      const [b64, hits] = (await py(IMAP_LAST, String(server.ports.imap), ACCOUNT, PASS, 'secretword')).split(' ');
      const stored = Buffer.from(b64, 'base64');
      assert.equal(stored.indexOf('secretword'), -1, 'the body is not stored in clear');
      assert.equal(Number(hits), 0, 'SEARCH BODY cannot see into it');
      const { header, armored } = pgpParts(stored);
      assert.match(header, new RegExp(`^Subject: enc-${size}$`, 'm'), 'routing headers stay readable');
      assert.match(header, /^Message-ID: <enc-\d+@example.net>$/m);
      const decrypted = gpg(['--decrypt', '--quiet'], Buffer.from(armored));
      const trace = decrypted.indexOf('From: Sender'); // the MX adds its trace fields in front
      assert.ok(trace >= 0);
      assert.ok(decrypted.subarray(trace).equals(original), 'the decrypted payload is the message byte for byte');
      const popped = Buffer.from(await py(POP_LAST, String(server.ports.pop3), ACCOUNT, PASS), 'base64');
      assert.ok(popped.equals(stored), 'POP3 serves the same stored bytes');
    });
  }

  test('an account without a key, and a message already encrypted, are stored as they came', { timeout: 60_000 }, async () => {
    const original = message('clear', 2048);
    const file = join(gnupg, 'clear.eml');
    writeFileSync(file, original);
    await py(SEND, String(server.ports.smtp), PLAIN, file);
    const [b64, hits] = (await py(IMAP_LAST, String(server.ports.imap), PLAIN, PASS, 'secretword')).split(' ');
    assert.ok(Buffer.from(b64, 'base64').includes(original), 'stored in clear');
    assert.equal(Number(hits), 1);

    const sealed = Buffer.from(
      `From: a@example.net\r\nTo: ${ACCOUNT}\r\nSubject: sealed\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\nxx\r\n-----END PGP MESSAGE-----\r\n--b--\r\n`,
      'latin1',
    );
    const f2 = join(gnupg, 'sealed.eml');
    writeFileSync(f2, sealed);
    await py(SEND, String(server.ports.smtp), ACCOUNT, f2);
    const stored = Buffer.from((await py(IMAP_LAST, String(server.ports.imap), ACCOUNT, PASS, 'x')).split(' ')[0], 'base64');
    assert.ok(stored.subarray(stored.length - sealed.length).equals(sealed), 'not encrypted twice');
    assert.equal(readFileSync(f2).length, sealed.length);
  });

  test('encryption off: new mail is stored in clear again', { timeout: 60_000 }, async () => {
    assert.equal((await runCli(['encryption', 'off', ACCOUNT], { dataDir: server.dataDir })).code, 0);
    const original = message('after-off', 1024);
    const file = join(gnupg, 'off.eml');
    writeFileSync(file, original);
    await py(SEND, String(server.ports.smtp), ACCOUNT, file);
    const stored = Buffer.from((await py(IMAP_LAST, String(server.ports.imap), ACCOUNT, PASS, 'x')).split(' ')[0], 'base64');
    assert.ok(stored.includes(original));
  });
});
