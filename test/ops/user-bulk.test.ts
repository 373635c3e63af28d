/**
 * `mailroom user add --from-file`: many users in one call, generated passwords that work
 * for a real login (python3 imaplib), quotas, a bad file that creates nothing, a second
 * run that skips what exists.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli, startServer, tempDirs } from '../harness/server.js';

const run = promisify(execFile);

describe('user add --from-file', () => {
  it('creates every user of the file in one call; a generated password logs in over IMAP; quotas are set', async () => {
    const { dir, dataDir } = tempDirs();
    const rows = ['address,password,quota', '# the team'];
    for (let i = 0; i < 30; i++) rows.push(i % 3 === 0 ? `user${i}@team.test,,1G` : `user${i}@team.test,"pw,${i}"`);
    writeFileSync(join(dir, 'users.csv'), rows.join('\n') + '\n');
    const added = await runCli(['user', 'add', '--from-file', join(dir, 'users.csv')], { dataDir, timeoutMs: 120_000 });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stderr, /^30 users added, 0 skipped\n$/);
    const out = added.stdout.trim().split('\n');
    assert.equal(out.length, 30);
    const generated = out.filter((l) => l.includes('\t')).map((l) => /^added user (\S+)\t([\w-]{22})$/.exec(l));
    assert.equal(generated.length, 10);
    assert.ok(generated.every(Boolean), out.join('\n'));

    const list = await runCli(['user', 'list', '--domain', 'team.test'], { dataDir });
    assert.equal(list.stdout.trim().split('\n').length, 30);
    assert.match(list.stdout, /^user0@team\.test\t0 messages\t0B of 1G$/m);
    assert.match(list.stdout, /^user1@team\.test\t0 messages\t0B of unlimited$/m);

    const server = await startServer({ dataDir });
    try {
      const [, address, password] = generated[0]!;
      const py = `import imaplib\nm=imaplib.IMAP4('127.0.0.1', ${server.ports.imap})\nprint(m.login('${address}', '${password}')[0])`;
      assert.equal((await run('python3', ['-c', py])).stdout.trim(), 'OK');
      const quoted = `import imaplib\nm=imaplib.IMAP4('127.0.0.1', ${server.ports.imap})\nprint(m.login('user1@team.test', 'pw,1')[0])`;
      assert.equal((await run('python3', ['-c', quoted])).stdout.trim(), 'OK', 'a quoted password with a comma');
    } finally {
      await server.stop();
    }

    const again = await runCli(['user', 'add', '--from-file', join(dir, 'users.csv')], { dataDir });
    assert.equal(again.code, 0);
    assert.equal(again.stdout, '');
    assert.match(again.stderr, /skipped user0@team\.test \(line 3\): already exists\n[^]*0 users added, 30 skipped\n$/);
  });

  it('a file with a bad line creates nothing and names every bad line; the options do not mix', async () => {
    const { dir, dataDir } = tempDirs();
    writeFileSync(join(dir, 'bad.csv'), 'good@team.test,pw\nnot-an-address,pw\ngood@team.test,again\n');
    const r = await runCli(['user', 'add', '--from-file', join(dir, 'bad.csv')], { dataDir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*bad\.csv: nothing created: line 2: invalid address "not-an-address": expected local@domain; line 3: good@team\.test already on line 1\n$/);
    assert.equal((await runCli(['user', 'list'], { dataDir })).stdout, '');
    const mixed = await runCli(['user', 'add', 'x@team.test', '--from-file', join(dir, 'bad.csv')], { dataDir });
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /--from-file takes no address and no --password/);
    const missing = await runCli(['user', 'add', '--from-file', join(dir, 'nope.csv')], { dataDir });
    assert.match(missing.stderr, /cannot read .*nope\.csv: ENOENT/);
    const noPassword = await runCli(['user', 'add', 'x@team.test'], { dataDir });
    assert.equal(noPassword.code, 1);
    assert.match(noPassword.stderr, /required option '--password <password>' not specified/);
  });
});
