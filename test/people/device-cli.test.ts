// `mailroom member …` and `mailroom device …` as an administrator runs them: the password
// printed once on the last line (and stored nowhere), the list with last logins, limits
// validated before anything is written, one-line errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PeopleFixture } from './fixture.js';

const ACCOUNT = 'desk@example.test';

let f: PeopleFixture;
before(async () => {
  f = await PeopleFixture.start();
  await f.ok('user', 'add', ACCOUNT, '--password', 'owner-password');
});
after(async () => {
  await f?.stop();
});

/** Fails with one stderr line matching `pattern` and a non-zero exit. */
async function fails(pattern: RegExp, ...args: string[]): Promise<void> {
  const r = await f.cli(...args);
  assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

describe('member and device commands', () => {
  test('member add/list/del, with the owner first and device counts; clear errors', { timeout: 60_000 }, async () => {
    assert.match(await f.ok('member', 'add', ACCOUNT, 'Alice'), /added member Alice to desk@example\.test/);
    await f.ok('member', 'add', ACCOUNT, 'bob');
    await fails(/member alice exists/i, 'member', 'add', ACCOUNT, 'ALICE');
    await fails(/owner/, 'member', 'add', ACCOUNT, 'owner');
    await fails(/no such user/, 'member', 'add', 'nobody@example.test', 'x');
    await f.device(ACCOUNT, 'alice', 'A1');
    const list = (await f.ok('member', 'list', ACCOUNT)).trimEnd().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(list.map((l) => [l[0], l[2]]), [['owner', '0 devices'], ['Alice', '1 devices'], ['bob', '0 devices']]);
    assert.match(await f.ok('member', 'del', ACCOUNT, 'bob'), /deleted member bob .*0 device passwords revoked/);
    await fails(/no member bob/, 'member', 'del', ACCOUNT, 'bob');
  });

  test('device add prints a fresh 120-bit password alone on the last line, stored nowhere', { timeout: 60_000 }, async () => {
    const r = await f.cli('device', 'add', ACCOUNT, '--member', 'alice', '--name', "Alice's phone");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const pw = lines[lines.length - 1];
    assert.match(pw, /^[a-z2-9]{4}(-[a-z2-9]{4}){5}$/, 'six groups of four: 24 characters of 5 bits');
    assert.match(lines[0], /shown once/);
    const second = await f.device(ACCOUNT, 'alice', 'Another');
    assert.notEqual(second, pw);
    assert.doesNotMatch(await f.ok('device', 'list', ACCOUNT), new RegExp(pw));
    const files = readdirSync(f.server.dataDir).filter((n) => n.startsWith('mailroom.db'));
    assert.ok(files.length > 0);
    for (const n of files) assert.ok(!readFileSync(join(f.server.dataDir, n)).includes(pw), `${n} holds no device password`);
    await fails(/device Alice's phone exists/i, 'device', 'add', ACCOUNT, '--member', 'alice', '--name', "ALICE'S PHONE");
    await fails(/no member carol/, 'device', 'add', ACCOUNT, '--member', 'carol', '--name', 'C');
    assert.match(await f.ok('device', 'add', ACCOUNT, '--name', 'Desk'), /for owner of desk@example\.test/, '--member defaults to the owner');
  });

  test('device list shows name, member, created, and the last login time, protocol and address', { timeout: 60_000 }, async () => {
    const pw = await f.device(ACCOUNT, 'alice', 'Tablet');
    const before = (await f.ok('device', 'list', ACCOUNT)).split('\n').find((l) => l.startsWith('Tablet\t'))!.split('\t');
    assert.deepEqual([before[0], before[1], before[3], before[4], before[5]], ['Tablet', 'Alice', 'never', '-', '-']);
    assert.ok(!Number.isNaN(Date.parse(before[2])), `created is a time: ${before[2]}`);
    const t0 = Date.now();
    assert.equal((await f.py('pop3-user', f.port.pop3, ACCOUNT, pw)).ok, true);
    let row: string[] = [];
    // The login time is written without making the login wait for it: read until it is there.
    for (let i = 0; i < 50 && row[4] !== 'pop3'; i++) {
      row = (await f.ok('device', 'list', ACCOUNT)).split('\n').find((l) => l.startsWith('Tablet\t'))!.split('\t');
    }
    assert.equal(row[4], 'pop3');
    assert.equal(row[5], '127.0.0.1');
    assert.ok(Date.parse(row[3]) >= t0 - 1000, `last login ${row[3]}`);
    assert.match(await f.ok('user', 'show', ACCOUNT), /^device\tTablet\tAlice\t/m);
  });

  test('device set validates every assignment before writing; key= removes a limit; revoke', { timeout: 60_000 }, async () => {
    await f.device(ACCOUNT, 'alice', 'Kiosk');
    await fails(/protocols must be/, 'device', 'set', ACCOUNT, 'Kiosk', 'readonly=yes', 'protocols=ftp');
    assert.doesNotMatch((await f.ok('device', 'list', ACCOUNT)).split('\n').find((l) => l.startsWith('Kiosk\t'))!, /readonly/, 'nothing was written');
    await fails(/readonly must be yes or no/, 'device', 'set', ACCOUNT, 'Kiosk', 'readonly=maybe');
    await fails(/unknown device setting colour/, 'device', 'set', ACCOUNT, 'Kiosk', 'colour=blue');
    assert.match(await f.ok('device', 'set', ACCOUNT, 'kiosk', 'protocols=SMTP, imap', 'readonly=true'), /protocols=imap,smtp\n.*readonly=yes/);
    assert.match((await f.ok('device', 'list', ACCOUNT)).split('\n').find((l) => l.startsWith('Kiosk\t'))!, /\tprotocols=imap,smtp readonly=yes$/);
    await f.ok('device', 'set', ACCOUNT, 'Kiosk', 'readonly=');
    assert.match((await f.ok('device', 'list', ACCOUNT)).split('\n').find((l) => l.startsWith('Kiosk\t'))!, /\tprotocols=imap,smtp$/);
    await fails(/no device Nope/, 'device', 'set', ACCOUNT, 'Nope', 'readonly=yes');
    assert.match(await f.ok('device', 'revoke', ACCOUNT, 'KIOSK'), /revoked device "Kiosk"/);
    await fails(/no device KIOSK/, 'device', 'revoke', ACCOUNT, 'KIOSK');
    await fails(/yes or no/, 'user', 'set', ACCOUNT, 'auth.require_device_passwords=perhaps');
  });
});
