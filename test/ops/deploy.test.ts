/**
 * Running it for real: `mailroom install-service` (dry run and into a temp target, checked
 * by `systemd-analyze verify` when installed), deploy/mailroom.service kept equal to the
 * generator, and `mailroom status` over the admin socket of a running server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { runCli, startServer, tempDirs, type RunningTestServer } from '../harness/server.js';
import { repoRoot } from '../harness/repo-root.js';
import { DEFAULT_UNIT, renderUnit } from '../../src/deploy/systemd-unit.js';

const run = promisify(execFile);

async function systemdVerify(unit: string): Promise<{ skipped: true } | { code: number; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-unit-'));
  const file = join(dir, 'mailroom.service');
  writeFileSync(file, unit);
  try {
    const { stderr } = await run('systemd-analyze', ['verify', file]);
    return { code: 0, stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code: string | number; stderr?: string };
    if (e.code === 'ENOENT') return { skipped: true };
    return { code: Number(e.code), stderr: e.stderr ?? '' };
  }
}

describe('install-service', () => {
  it('--dry-run prints the unit: standard ports, the unprivileged user, one capability, sandboxed; systemd-analyze verify is clean', async (t) => {
    const { dataDir } = tempDirs();
    const r = await runCli(['install-service', '--dry-run', '--user', 'mailsvc', '--data', '/srv/mail data'], { dataDir });
    assert.equal(r.code, 0, r.stderr);
    const unit = r.stdout;
    assert.match(unit, /^User=mailsvc$/m);
    assert.match(unit, /^ReadWritePaths="\/srv\/mail data"$/m);
    assert.match(unit, /^Environment="MAILROOM_DATA=\/srv\/mail data"$/m);
    assert.doesNotMatch(unit, /^StateDirectory=/m, 'only for a directory under /var/lib');
    assert.match(unit, /^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    assert.match(unit, /^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
    assert.match(unit, /^NoNewPrivileges=yes$/m);
    assert.match(unit, /^ProtectSystem=strict$/m);
    for (const [name, port] of [['IMAP', 143], ['IMAPS', 993], ['POP3', 110], ['POP3S', 995], ['SMTP', 25], ['SUBMISSION', 587], ['SUBMISSIONS', 465]] as const) {
      assert.match(unit, new RegExp(`^Environment=MAILROOM_${name}=\\[::\\]:${port}$`, 'm'));
    }
    assert.match(unit, new RegExp(`^ExecStart=${process.execPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} ${join(repoRoot, 'dist/src/main.js').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} serve$`, 'm'));
    const verified = await systemdVerify(unit);
    if ('skipped' in verified) return t.skip('systemd-analyze not installed');
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.stderr.trim(), '', 'no unknown or invalid keys');
  });

  it('writes mailroom.service into --target (mode 0644), the same text as the dry run; /var/lib data gets a StateDirectory', async () => {
    const { dir, dataDir } = tempDirs();
    const r = await runCli(['install-service', '--target', dir], { dataDir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wrote .*mailroom\.service\nNext:\n {2}sudo useradd --system/);
    const written = readFileSync(join(dir, 'mailroom.service'), 'utf8');
    assert.equal(statSync(join(dir, 'mailroom.service')).mode & 0o777, 0o644);
    assert.equal(written, (await runCli(['install-service', '--dry-run'], { dataDir })).stdout);
    assert.match(written, /^StateDirectory=mailroom\nStateDirectoryMode=0700\nReadWritePaths=\/var\/lib\/mailroom$/m);
  });

  it('refuses a bad user name, a relative data directory and an unwritable target, in one line each', async () => {
    const { dataDir } = tempDirs();
    const cases: [string[], RegExp][] = [
      [['install-service', '--dry-run', '--user', 'root\nExecStartPre=/bin/sh'], /must be one line|not a user name/],
      [['install-service', '--dry-run', '--user', 'a b'], /not a user name: a b/],
      [['install-service', '--dry-run', '--data', 'relative/dir'], /--data must be an absolute path/],
      [['install-service', '--target', '/nonexistent/dir'], /cannot write \/nonexistent\/dir\/mailroom\.service: ENOENT/],
    ];
    for (const [args, want] of cases) {
      const r = await runCli(args, { dataDir });
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, want);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });

  it('deploy/mailroom.service is the generator with its defaults', () => {
    assert.equal(readFileSync(join(repoRoot, 'deploy/mailroom.service'), 'utf8'), renderUnit(DEFAULT_UNIT));
  });
});

describe('mailroom status', () => {
  let server: RunningTestServer;
  before(async () => {
    const { dataDir } = tempDirs();
    const add = await runCli(['user', 'add', 'alice@example.test', '--password', 'secret'], { dataDir });
    assert.equal(add.code, 0, add.stderr);
    server = await startServer({ dataDir, env: { MAILROOM_LMTP: 'off' } });
  });
  after(async () => {
    await server?.stop();
  });

  it('no server on the data directory: exit 3 and a clear line', async () => {
    const { dataDir } = tempDirs();
    const r = await runCli(['status'], { dataDir });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^error: no server is running on .*data \(nothing answers on .*admin\.sock\); start one with `mailroom serve`\n$/);
  });

  it('lists the listeners and counts open connections and logged-in sessions; the socket is 0600', async () => {
    assert.equal(statSync(join(server.dataDir, 'admin.sock')).mode & 0o777, 0o600);
    const imap = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap!, secure: false, auth: { user: 'alice@example.test', pass: 'secret' }, logger: false, tls: { rejectUnauthorized: false } });
    await imap.connect();
    try {
      const json = await runCli(['status', '--json'], { dataDir: server.dataDir });
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(json.stdout) as { pid: number; listeners: Record<string, string>; connections: Record<string, number>; sessions: Record<string, number> };
      assert.equal(report.pid, server.pid);
      assert.equal(report.listeners.imap, `127.0.0.1:${server.ports.imap}`);
      assert.equal(report.listeners.lmtp, undefined, 'off');
      assert.equal(report.connections.imap, 1);
      assert.equal(report.sessions.imap, 1);
      const text = await runCli(['status'], { dataDir: server.dataDir });
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^Mailroom is running: pid ${server.pid}, since `));
      assert.match(text.stdout, new RegExp(`\\n  imap +127\\.0\\.0\\.1:${server.ports.imap} +1\\n`));
      assert.match(text.stdout, /\nLogged-in sessions: imap 1, pop3 0, smtp 0\n$/);
    } finally {
      await imap.logout();
    }
  });
});
