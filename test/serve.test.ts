// `mailroom serve` and the CLI frame, end to end through the built binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import tls from 'node:tls';
import { existsSync, readFileSync, writeFileSync, chmodSync, mkdirSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { LISTENERS, runCli, startServer, tempDirs } from './harness/server.js';
import { connect } from './harness/transcript.js';

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `exactly one stderr line, got: ${JSON.stringify(stderr)}`);
  assert.doesNotMatch(lines[0], /^\s+at /, 'no stack trace');
  return lines[0];
}

/** stderr is a separate pipe from stdout, so the banner may arrive just after the "ready" line. */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('serve: every listener on port 0 logs one "listening" line; every protocol greets; healthz works', async () => {
  const s = await startServer();
  try {
    const listening = s.stdout.filter((l) => l.msg === 'listening');
    assert.deepEqual(listening.map((l) => l.listener).sort(), [...LISTENERS].sort());
    for (const l of listening) assert.match(String(l.address), /^127\.0\.0\.1:[1-9]\d*$/);
    await waitFor(() => /Stop with Ctrl\+C/.test(s.stderr()), 'the banner on stderr');
    assert.match(s.stderr(), /npx mailroom user add alice@example\.test --password 'secret'/, 'banner tells how to add a user');
    assert.ok(s.stderr().includes(`127.0.0.1:${s.ports.imap}`), 'banner shows where IMAP listens');

    // Every listener serves its real protocol (test/imap, test/pop3, test/smtp cover them); here: each greets, over plain and implicit TLS.
    for (const [port, tls] of [[s.ports.imap!, false], [s.ports.imaps!, true]] as const) {
      const t = await connect(port, { tls });
      assert.match(await t.readUntil('\r\n'), /^\* OK \[CAPABILITY (?=[^\]]*\bIMAP4rev2\b)(?=[^\]]*\bIMAP4rev1\b)[^\]]*\] \S+ Mailroom IMAP ready\r\n$/);
      t.send('a LOGOUT\r\n');
      assert.match(await t.readToEnd(), /^\* BYE [^\r]*\r\na OK [^\r]*\r\n$/);
    }
    for (const [port, tls] of [[s.ports.pop3!, false], [s.ports.pop3s!, true]] as const) {
      const t = await connect(port, { tls });
      assert.equal(await t.readUntil('\r\n'), '+OK Mailroom POP3 server ready\r\n');
      t.send('QUIT\r\n');
      assert.equal(await t.readToEnd(), '+OK Mailroom POP3 server signing off\r\n');
    }
    // SMTP, submission (implicit TLS) and LMTP are real: each greets with 220 (test/smtp/ covers the rest).
    for (const [port, tls, kind] of [[s.ports.smtp!, false, 'ESMTP'], [s.ports.submissions!, true, 'ESMTP'], [s.ports.lmtp!, false, 'LMTP']] as const) {
      const t = await connect(port, { tls });
      assert.match(await t.readUntil('\r\n'), new RegExp(`^220 \\S+ ${kind} Mailroom ready\r\n$`));
      t.send('QUIT\r\n');
      assert.match(await t.readToEnd(), /^221 2\.0\.0 /);
    }

    const health = await new Promise<string>((resolve, reject) =>
      http.get(`http://127.0.0.1:${s.ports.http}/healthz`, (res) => {
        let body = '';
        res.on('data', (d) => (body += d)).on('end', () => resolve(`${res.statusCode} ${body}`));
      }).on('error', reject),
    );
    assert.equal(health, '200 ok\n');
  } finally {
    const stopped = await s.stop();
    assert.equal(stopped.code, 0);
  }
});

test('serve: listeners set to "off" are not started', async () => {
  const s = await startServer({ env: { MAILROOM_POP3: 'off', MAILROOM_LMTP: 'off' } });
  const names = s.stdout.filter((l) => l.msg === 'listening').map((l) => l.listener);
  assert.ok(!names.includes('pop3') && !names.includes('lmtp') && names.includes('imap'));
  assert.equal((await s.stop()).code, 0);
});

test('serve: self-signed certificate is created on first start and reused on the second', async () => {
  const first = await startServer();
  await first.stop();
  const certPath = join(first.dataDir, 'tls', 'cert.pem');
  const cert = readFileSync(certPath, 'utf8');
  assert.ok(first.stdout.some((l) => l.msg === 'created self-signed certificate'));
  const second = await startServer({ dataDir: first.dataDir });
  await second.stop();
  assert.equal(readFileSync(certPath, 'utf8'), cert);
  assert.ok(second.stdout.some((l) => l.msg === 'using self-signed certificate'));
  assert.ok(!second.stdout.some((l) => l.msg === 'created self-signed certificate'));
});

test('serve: a taken port → exit 1 and one clear line', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const { dataDir } = tempDirs();
    const r = await runCli(['serve'], { dataDir, env: { MAILROOM_POP3: `127.0.0.1:${port}` } });
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.stderr), `error: cannot listen on 127.0.0.1:${port} for pop3: address already in use`);
  } finally {
    blocker.close();
  }
});

test('serve: an unreadable certificate → exit 1 and one line', async () => {
  const { dir, dataDir } = tempDirs();
  const r = await runCli(['serve'], { dataDir, env: { MAILROOM_TLS_CERT: join(dir, 'nope.pem'), MAILROOM_TLS_KEY: join(dir, 'nope.key') } });
  assert.equal(r.code, 1);
  assert.equal(oneLine(r.stderr), `error: cannot read TLS certificate ${join(dir, 'nope.pem')}: no such file`);
  if (process.getuid?.() !== 0) {
    // Root reads files regardless of mode, so the permission case only runs unprivileged.
    const cert = join(dir, 'locked.pem');
    writeFileSync(cert, 'x');
    chmodSync(cert, 0);
    const p = await runCli(['serve'], { dataDir, env: { MAILROOM_TLS_CERT: cert, MAILROOM_TLS_KEY: cert } });
    assert.equal(oneLine(p.stderr), `error: cannot read TLS certificate ${cert}: permission denied`);
  }
});

test('serve: bad config → exit 2 and one line naming the key', async () => {
  const { dir, dataDir } = tempDirs();
  const env = await runCli(['serve'], { dataDir, env: { MAILROOM_IMAP: '12x' } });
  assert.equal(env.code, 2);
  assert.equal(oneLine(env.stderr), 'config error: listen.imap (MAILROOM_IMAP): expected host:port or "off", got "12x"');
  const file = join(dir, 'bad.toml');
  writeFileSync(file, '[listen]\nimapp = "127.0.0.1:1"\n');
  const unknown = await runCli(['serve', '--config', file], { dataDir });
  assert.equal(unknown.code, 2);
  assert.equal(oneLine(unknown.stderr), `config error: unknown key "listen.imapp" (${file})`);
  const missing = await runCli(['--config', join(dir, 'missing.toml'), 'serve'], { dataDir });
  assert.equal(missing.code, 2);
  assert.equal(oneLine(missing.stderr), `config error: cannot read config file ${join(dir, 'missing.toml')}: no such file`);
});

test('serve: an unsupported database URL → exit 1 and one line', async () => {
  const { dataDir } = tempDirs();
  const r = await runCli(['serve'], { dataDir, env: { MAILROOM_DATABASE_URL: 'mysql://x' } });
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), /^error: .*database URL/);
});

test('serve: --data overrides MAILROOM_DATA; a config file is read with --config', async () => {
  const a = tempDirs();
  const b = tempDirs();
  const s = await startServer({ env: { MAILROOM_DATA: a.dataDir }, args: ['--data', b.dataDir], configToml: 'hostname = "mx.example.test"\n' });
  await s.stop();
  assert.equal(s.stdout.find((l) => l.msg === 'ready')?.data, b.dataDir);
  assert.ok(existsSync(join(b.dataDir, 'tls', 'cert.pem')));
  assert.ok(!existsSync(join(a.dataDir, 'tls')));
  assert.equal(s.stdout.find((l) => l.msg === 'created self-signed certificate')?.hostname, 'mx.example.test');
});

test('SIGTERM exits 0 promptly with an idle HTTP keep-alive connection open', async () => {
  const s = await startServer({ env: { MAILROOM_LIMITS_SHUTDOWN_TIMEOUT_MS: '20000' } });
  const c = await connect(s.ports.http!);
  c.send('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.readUntil('ok\n');
  const stopped = await s.stop('SIGTERM');
  assert.equal(stopped.code, 0);
  assert.ok(stopped.ms < 5000, `took ${stopped.ms} ms`);
  await c.closed;
});

test('SIGTERM with a connection that never finishes: exit 0 after the shutdown timeout', async () => {
  const s = await startServer({ env: { MAILROOM_LIMITS_SHUTDOWN_TIMEOUT_MS: '1500' } });
  // A TCP connection to a TLS port that never starts its handshake stays open until cut.
  const raw = net.connect(s.ports.imaps!, '127.0.0.1');
  await new Promise((r) => raw.once('connect', r));
  const closed = new Promise((r) => raw.once('close', r));
  raw.on('error', () => {});
  const stopped = await s.stop('SIGINT');
  assert.equal(stopped.code, 0);
  assert.ok(stopped.ms >= 1400 && stopped.ms < 8000, `took ${stopped.ms} ms`);
  await closed;
  assert.ok(s.stdout.some((l) => l.msg === 'shutdown timeout: closing remaining connections'));
});

test('mailroom --help lists the commands and global options; --version prints the version', async () => {
  const { dataDir } = tempDirs();
  const help = await runCli(['--help'], { dataDir });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: mailroom/m);
  assert.match(help.stdout, /^\s+serve\s/m);
  assert.match(help.stdout, /--data <dir>/);
  assert.match(help.stdout, /--config <file>/);
  const version = await runCli(['--version'], { dataDir });
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+/);
  const bad = await runCli(['no-such-command'], { dataDir });
  assert.notEqual(bad.code, 0);
});

/** Every file and directory under `dir`, with its mode bits. */
function modesUnder(dir: string): [string, number][] {
  const out: [string, number][] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    out.push([p, st.mode & 0o777]);
    if (st.isDirectory()) out.push(...modesUnder(p));
  }
  return out;
}

function healthz(port: number): Promise<string> {
  return new Promise((resolve, reject) =>
    http.get(`http://127.0.0.1:${port}/healthz`, (res) => {
      let body = '';
      res.on('data', (d) => (body += d)).on('end', () => resolve(`${res.statusCode} ${body}`));
    }).on('error', reject),
  );
}

test('serve: data directory 0700, every file it creates private; stale spool files from a crash removed at start, fresh ones kept', async () => {
  const { dataDir } = tempDirs();
  chmodSync(dataDir, 0o755); // as an older version or a hand-made directory left it
  mkdirSync(join(dataDir, 'tmp'));
  const stale = join(dataDir, 'tmp', 'smtp-crashed');
  const fresh = join(dataDir, 'tmp', 'smtp-in-progress');
  writeFileSync(stale, 'half a message');
  writeFileSync(fresh, 'a message being written');
  const hourAgo = new Date(Date.now() - 3600_000);
  utimesSync(stale, hourAgo, hourAgo);
  const s = await startServer({ dataDir });
  try {
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(existsSync(stale), false, 'stale spool removed');
    assert.equal(existsSync(fresh), true, 'a spool written recently may belong to a running command');
    const leaky = modesUnder(dataDir).filter(([p, mode]) => p !== fresh && p !== join(dataDir, 'tmp') && (mode & 0o077) !== 0); // those two the test made
    assert.deepEqual(leaky, [], 'no file or directory the server made is readable by others');
    assert.ok(modesUnder(dataDir).some(([p]) => p.endsWith('mailroom.db')), 'the database is among them');
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test('serve: an unhandled promise rejection is logged and the server keeps serving', async () => {
  const { dir } = tempDirs();
  const bomb = join(dir, 'reject-later.mjs');
  // Fires once the server has set up its handling (before that, node's default applies: exit).
  writeFileSync(bomb, "const t = setInterval(() => { if (process.listenerCount('unhandledRejection') > 0) { clearInterval(t); Promise.reject(new Error('stray failure')); } }, 50);\n");
  const s = await startServer({ nodeArgs: ['--import', `file://${bomb}`] });
  try {
    await s.waitForLog((l) => l.msg === 'unhandled promise rejection (server keeps running)');
    assert.equal(await healthz(s.ports.http!), '200 ok\n');
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

/** The cipher a TLS 1.2 client offering only `ciphers` gets, or the handshake error. */
function tls12With(port: number, ciphers: string): Promise<string> {
  return new Promise((resolve) => {
    const c = tls.connect({ host: '127.0.0.1', port, ciphers, maxVersion: 'TLSv1.2', rejectUnauthorized: false }, () => {
      resolve(c.getCipher().standardName);
      c.destroy();
    });
    c.once('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
  });
}

test('serve: TLS refuses CBC/SHA-1 suites by default (Mozilla intermediate); tls.ciphers widens it', async () => {
  const s = await startServer();
  try {
    assert.equal(await tls12With(s.ports.imaps!, 'ECDHE-ECDSA-AES128-GCM-SHA256'), 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
    assert.match(await tls12With(s.ports.imaps!, 'ECDHE-ECDSA-AES128-SHA'), /^error /);
    assert.match(await tls12With(s.ports.pop3s!, 'ECDHE-ECDSA-AES256-SHA'), /^error /);
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
  const wide = await startServer({ env: { MAILROOM_TLS_CIPHERS: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256' } });
  try {
    assert.equal(await tls12With(wide.ports.imaps!, 'ECDHE-ECDSA-AES128-SHA'), 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA');
  } finally {
    assert.equal((await wide.stop()).code, 0);
  }
});
