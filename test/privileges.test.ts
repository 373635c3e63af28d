/**
 * `user`/`group`: the server binds its listeners first, then switches to the configured user.
 * Run as root (CI containers are), it really drops to `nobody`: /proc/<pid>/status shows the
 * new uid, the data directory belongs to it, and the server still serves and writes mail.
 * Not as root, switching to the current user is a no-op that must succeed, and an unknown
 * user is refused at start (never a silent server as the starting user).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, startServer } from './harness/server.js';
import { connect } from './harness/transcript.js';

function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'))!;
  return Number(line.split(/\s+/)[2]); // real, effective, saved, fs: the effective one
}

/** A data directory whose parents another user can traverse (mkdtemp makes 0700). */
function openDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-priv-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  mkdirSync(data);
  return data;
}

const root = process.getuid?.() === 0;

describe('dropping privileges (user, group)', () => {
  it('as root: listens, then runs as nobody, owns the data directory and still stores mail', { skip: !root && 'needs root' }, async () => {
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const dataDir = openDataDir();
    const port = 900 + Math.floor(Math.random() * 100); // below 1024: only root may bind it
    const server = await startServer({ dataDir, env: { MAILROOM_USER: 'nobody', MAILROOM_IMAP: `127.0.0.1:${port}` } });
    try {
      assert.equal(server.ports.imap, port, 'a privileged port was bound before the switch');
      assert.equal(uidOf(server.pid), nobody);
      assert.ok(server.stdout.some((l) => l.msg === 'dropped privileges' && l.uid === nobody));
      assert.equal(statSync(dataDir).uid, nobody);
      assert.equal(statSync(join(dataDir, 'mailroom.db')).uid, nobody);
      const add = await runCli(['user', 'add', 'p@priv.test', '--password', 'pw'], { dataDir });
      assert.equal(add.code, 0, add.stderr);
      const t = await connect(server.ports.imap!, { timeoutMs: 10_000 });
      await t.readUntil(/\r\n/);
      t.send('a1 LOGIN p@priv.test pw\r\n');
      await t.readUntil(/^a1 OK.*\r\n/m);
      t.send('a2 APPEND INBOX {22+}\r\nSubject: x\r\n\r\nhello\r\n\r\n');
      assert.match(await t.readUntil(/^a2 .*\r\n/m), /a2 OK/, 'the switched server writes the database and blobs');
      t.socket.destroy();
    } finally {
      await server.stop();
    }
  });

  it('not root, or root with a user that does not exist: an unknown user is refused at start', async () => {
    await assert.rejects(startServer({ dataDir: openDataDir(), env: { MAILROOM_USER: 'no-such-user-mailroom' } }), /no such user no-such-user-mailroom/);
  });

  it('switching to the user already running is fine', { skip: root && 'covered above' }, async () => {
    const server = await startServer({ dataDir: openDataDir(), env: { MAILROOM_USER: userInfo().username } });
    try {
      assert.equal(uidOf(server.pid), process.getuid!());
    } finally {
      await server.stop();
    }
  });
});
