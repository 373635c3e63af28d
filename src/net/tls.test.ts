import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../log/logger.js';
import { loadTlsMaterial, TlsSetupError } from './tls.js';

const log = createLogger({ level: 'silent' });

test('self-signed: made once under <data>/tls/ for the hostname, localhost and 127.0.0.1, then reused', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-tls-'));
  const first = await loadTlsMaterial({ cert: '', key: '', dataDir, hostname: 'mail.example.test', log });
  assert.equal(first.selfSigned, true);
  assert.equal(first.certPath, join(dataDir, 'tls', 'cert.pem'));
  assert.equal(readFileSync(first.certPath, 'utf8'), first.cert);
  assert.equal(statSync(join(dataDir, 'tls', 'key.pem')).mode & 0o777, 0o600);
  const x = new X509Certificate(first.cert);
  for (const name of ['DNS:mail.example.test', 'DNS:localhost', 'IP Address:127.0.0.1']) assert.ok(x.subjectAltName?.includes(name), name);
  assert.ok(x.checkPrivateKey((await import('node:crypto')).createPrivateKey(first.key)));
  const second = await loadTlsMaterial({ cert: '', key: '', dataDir, hostname: 'other.example.test', log });
  assert.equal(second.cert, first.cert);
  assert.equal(second.key, first.key);
});

test('configured files: missing, unreadable or not PEM → one-line TlsSetupError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-tls-'));
  const made = await loadTlsMaterial({ cert: '', key: '', dataDir: dir, hostname: 'h.example.test', log });
  const keyPath = join(dir, 'tls', 'key.pem');
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  const rows: [string, string, string | RegExp][] = [
    [join(dir, 'missing.pem'), keyPath, `cannot read TLS certificate ${join(dir, 'missing.pem')}: no such file`],
    [made.certPath, join(dir, 'nokey.pem'), `cannot read TLS key ${join(dir, 'nokey.pem')}: no such file`],
    [dir, keyPath, `cannot read TLS certificate ${dir}: is a directory`],
    [garbage, keyPath, new RegExp(`^invalid TLS certificate or key \\(${garbage}, ${keyPath}\\): .+$`)],
  ];
  for (const [cert, key, want] of rows) {
    await assert.rejects(loadTlsMaterial({ cert, key, dataDir: dir, hostname: 'h', log }), (err: unknown) => {
      assert.ok(err instanceof TlsSetupError);
      assert.ok(!err.message.includes('\n'));
      if (typeof want === 'string') assert.equal(err.message, want);
      else assert.match(err.message, want);
      return true;
    });
  }
  const ok = await loadTlsMaterial({ cert: made.certPath, key: keyPath, dataDir: '/nonexistent', hostname: 'h', log });
  assert.equal(ok.selfSigned, false);
  assert.equal(ok.cert, made.cert);
});
