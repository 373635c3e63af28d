// The built `mailroom` binary, run as a user would, against a temp data directory.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childEnv, runCli, tempDirs, type CliResult } from './harness/server.js';
import { mainJs } from './harness/repo-root.js';
import { openStore } from '../src/store/open.js';
import { LocalChangeBus } from '../src/store/bus.js';
import { verifyPassword } from '../src/auth/password.js';

function runWithStdin(args: string[], dataDir: string, input: Buffer): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], { env: childEnv(dataDir), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('mailroom CLI', () => {
  const { dir, dataDir } = tempDirs();
  const cli = (...args: string[]) => runCli(args, { dataDir });
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    assert.equal(r.code, 0, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** Fails with one line on stderr, matching `pattern`, and nothing on stdout. */
  const fails = async (pattern: RegExp, ...args: string[]) => {
    const r = await cli(...args);
    assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line expected, got: ${r.stderr}`);
    assert.match(lines[0], pattern);
    return r;
  };

  before(async () => {
    await ok('user', 'add', 'alice@example.test', '--password', 'secret');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--help lists the commands', async () => {
    const out = await ok('--help');
    for (const c of ['serve', 'user', 'domain', 'alias', 'quota', 'mailbox', 'deliver']) assert.match(out, new RegExp(`\\n\\s+${c}\\b`));
  });

  it('user add creates the domain and the default mailboxes', async () => {
    assert.match(await ok('domain', 'list'), /^example\.test$/m);
    const out = await ok('mailbox', 'list', '--user', 'alice@example.test');
    for (const [name, use] of [['INBOX', ''], ['Sent', '\\\\Sent'], ['Drafts', '\\\\Drafts'], ['Trash', '\\\\Trash'], ['Junk', '\\\\Junk'], ['Archive', '\\\\Archive']]) {
      assert.match(out, new RegExp(`^${name}\\t0 messages.*${use}.*subscribed`, 'm'));
    }
  });

  const errors: [string, RegExp, string[]][] = [
    ['duplicate user', /user already exists: alice@example.test/, ['user', 'add', 'alice@example.test', '--password', 'x']],
    ['duplicate user, other case', /user already exists/, ['user', 'add', 'alice@EXAMPLE.test', '--password', 'x']],
    ['bad address', /invalid address "not-an-address"/, ['user', 'add', 'not-an-address', '--password', 'x']],
    ['empty password', /password must not be empty/, ['user', 'add', 'eve@example.test', '--password', '']],
    ['unknown user: passwd', /no such user: nobody@example.test/, ['user', 'passwd', 'nobody@example.test', '--password', 'x']],
    ['unknown user: del', /no such user/, ['user', 'del', 'nobody@example.test']],
    ['unknown user: quota', /no such user/, ['quota', 'show', 'nobody@example.test']],
    ['unknown user: mailbox list', /no such user/, ['mailbox', 'list', '--user', 'nobody@example.test']],
    ['bad quota size', /invalid size "lots"/, ['quota', 'set', 'alice@example.test', '--storage', 'lots']],
    ['quota without limits', /give --storage and\/or --messages/, ['quota', 'set', 'alice@example.test']],
    ['alias into an unknown domain', /unknown domain nowhere.test/, ['alias', 'add', 'x@nowhere.test', 'alice@example.test']],
    ['alias to a bad target', /invalid address/, ['alias', 'add', 'x@example.test', 'bad target']],
    ['removing a missing alias', /no such alias/, ['alias', 'del', 'ghost@example.test']],
    ['domain with users', /./, ['domain', 'del', 'example.test']],
    ['bad domain', /invalid domain/, ['domain', 'add', 'bad_domain!']],
    ['duplicate domain', /exists/, ['domain', 'add', 'example.test']],
    ['unknown command', /unknown command/, ['frobnicate']],
    ['deliver from a missing file', /cannot read/, ['deliver', '--to', 'alice@example.test', '/nonexistent/file.eml']],
  ];
  for (const [name, pattern, args] of errors) it(`one-line error: ${name}`, async () => {
    await fails(pattern, ...args);
  });

  it('a config error exits 2 with one line', async () => {
    const r = await runCli(['user', 'list'], { dataDir, env: { MAILROOM_LOG_LEVEL: 'loud' } });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    assert.match(r.stderr, /log\.level/);
  });

  it('passwd changes the stored hash', async () => {
    await ok('user', 'add', 'bob@example.test', '--password', 'first');
    await ok('user', 'passwd', 'bob@example.test', '--password', 'second');
    const store = await openStore({ dataDir, bus: new LocalChangeBus() });
    try {
      const bob = (await store.getUser('bob@example.test'))!;
      assert.equal(await verifyPassword('second', bob.passwordHash), true);
      assert.equal(await verifyPassword('first', bob.passwordHash), false);
    } finally {
      await store.close();
    }
  });

  it('--password=VALUE and global options first: the password hashed before the program loads is the one stored', async () => {
    await ok('--data', dataDir, 'user', 'add', 'carol@example.test', '--password=first pw');
    await ok('--data', dataDir, 'user', 'passwd', '--password=second pw', 'carol@example.test');
    await ok('user', 'add', '--password', 'dave pw', 'dave@example.test');
    const store = await openStore({ dataDir, bus: new LocalChangeBus() });
    try {
      const carol = (await store.getUser('carol@example.test'))!;
      assert.equal(await verifyPassword('second pw', carol.passwordHash), true);
      assert.equal(await verifyPassword('first pw', carol.passwordHash), false);
      assert.equal(await verifyPassword('dave pw', (await store.getUser('dave@example.test'))!.passwordHash), true);
    } finally {
      await store.close();
    }
  });

  it('aliases: add, list, deliver through, delete', async () => {
    await ok('alias', 'add', 'sales@example.test', 'alice@example.test');
    await ok('alias', 'add', 'sales@example.test', 'bob@example.test');
    await ok('alias', 'add', '@example.test', 'alice@example.test');
    const list = await ok('alias', 'list');
    assert.match(list, /^sales@example.test\talice@example.test$/m);
    assert.match(list, /^sales@example.test\tbob@example.test$/m);
    assert.match(list, /^@example.test\talice@example.test$/m);
    const file = join(dir, 'm1.eml');
    writeFileSync(file, 'From: x@remote.test\r\nSubject: hi\r\n\r\nhello\r\n');
    const out = await ok('deliver', '--to', 'sales@example.test', '--to', 'whoever@example.test', file);
    assert.match(out, /delivered to sales@example.test: alice@example.test uid 1, bob@example.test uid 1/);
    assert.match(out, /delivered to whoever@example.test: alice@example.test uid 1/);
    assert.match(await ok('alias', 'del', '@example.test'), /removed 1 alias for @example.test/);
    assert.match(await ok('alias', 'del', 'sales@example.test', 'bob@example.test'), /removed 1 alias/);
    assert.doesNotMatch(await ok('alias', 'list'), /bob@example.test/);
  });

  it('deliver reads stdin and refuses unknown recipients with exit 1', async () => {
    const r = await runWithStdin(['deliver', '--to', 'bob+news@example.test', '--to', 'nobody@example.test'], dataDir, Buffer.from('Subject: stdin\r\n\r\nbody\r\n'));
    assert.equal(r.code, 1);
    assert.match(r.stdout, /delivered to bob\+news@example.test: bob@example.test uid 2/);
    assert.match(r.stderr, /^not delivered to nobody@example.test: no such recipient here/m);
  });

  it('quota set and show, and over-quota delivery refused', async () => {
    await ok('quota', 'set', 'bob@example.test', '--storage', '1K', '--messages', 'unlimited');
    const show = await ok('quota', 'show', 'bob@example.test');
    assert.match(show, /^storage\t\d+\t1024\t/m);
    assert.match(show, /^messages\t2\tunlimited$/m);
    const big = join(dir, 'big.eml');
    writeFileSync(big, `Subject: big\r\n\r\n${'y'.repeat(2000)}\r\n`);
    const r = await cli('deliver', '--to', 'bob@example.test', big);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not delivered to bob@example.test: .*quota/i);
    assert.match(await ok('user', 'list'), /^bob@example.test\t2 messages\t\S+ of 1K$/m);
  });

  it('user del removes the user and its mail', async () => {
    await ok('user', 'add', 'gone@example.test', '--password', 'x');
    await ok('user', 'del', 'gone@example.test');
    assert.doesNotMatch(await ok('user', 'list'), /gone@example.test/);
  });
});
