// POP3 state per device: a device's own pop3.deleteMode / pop3.keepDays over the account's,
// and a device's "hide" (downloaded, deleted from that computer) kept for that device only,
// so two POP3 computers each download and delete on their own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PeopleFixture } from './fixture.js';

let f: PeopleFixture;
before(async () => {
  f = await PeopleFixture.start();
});
after(async () => {
  await f?.stop();
});

describe('POP3 state per device', () => {
  test('two POP3 computers with pop3.deleteMode=hide each download and delete on their own; IMAP keeps everything', { timeout: 90_000 }, async () => {
    const acct = 'hide@example.test';
    await f.ok('user', 'add', acct, '--password', 'owner-password');
    await f.deliver(acct, 'one');
    await f.deliver(acct, 'two');
    const home = await f.device(acct, 'owner', 'Home');
    const work = await f.device(acct, 'owner', 'Work');
    await f.ok('device', 'set', acct, 'Home', 'pop3.deleteMode=hide');
    await f.ok('device', 'set', acct, 'Work', 'pop3.deleteMode=hide');
    assert.equal((await f.py('pop3-dele', f.port.pop3, acct, home)).count, 2);
    assert.equal((await f.py('pop3-user', f.port.pop3, acct, home)).count, 0);
    await f.deliver(acct, 'three');
    assert.equal((await f.py('pop3-user', f.port.pop3, acct, home)).count, 1, 'Home gets only the new one');
    assert.equal((await f.py('pop3-dele', f.port.pop3, acct, work)).count, 3, 'Work still downloads all three');
    assert.equal((await f.py('pop3-user', f.port.pop3, acct, work)).count, 0);
    const owner = await f.py('imap-flags', f.port.imap, acct, 'owner-password');
    assert.equal(owner.messages, 3);
    assert.ok(Object.values(owner.flags!).every((fl) => !fl.includes('$POP3Deleted')), 'no account-wide hide keyword');
    assert.equal((await f.py('pop3-user', f.port.pop3, acct, 'owner-password')).count, 3);
  });

  test("a device's pop3.keepDays=0 removes what it retrieved at QUIT for that device only (with delete=device)", { timeout: 90_000 }, async () => {
    const acct = 'keep@example.test';
    await f.ok('user', 'add', acct, '--password', 'owner-password');
    await f.ok('user', 'set', acct, 'pop3.keepDays=never');
    await f.deliver(acct, 'one');
    const laptop = await f.device(acct, 'owner', 'Laptop');
    await f.ok('device', 'set', acct, 'Laptop', 'pop3.keepDays=0', 'delete=device');
    assert.equal((await f.py('pop3-retr', f.port.pop3, acct, laptop)).count, 1);
    assert.equal((await f.py('pop3-user', f.port.pop3, acct, laptop)).count, 0, 'retrieved, so gone at QUIT for the laptop');
    assert.equal((await f.py('pop3-retr', f.port.pop3, acct, 'owner-password')).count, 1, 'the account keeps it (keepDays=never)');
    assert.equal((await f.py('pop3-user', f.port.pop3, acct, 'owner-password')).count, 1);
  });

  test('device pop3 settings are validated like the account\'s', async () => {
    await f.ok('user', 'add', 'v@example.test', '--password', 'x');
    await f.device('v@example.test', 'owner', 'P');
    const r = await f.cli('device', 'set', 'v@example.test', 'P', 'pop3.keepDays=soon');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pop3\.keepDays: expected never \| a number of days/);
  });
});
