// Device setting delete=everywhere|device|trash: what a device's expunge (IMAP EXPUNGE,
// POP3 DELE) does. `device` hides the mail from that device only; `trash` moves it to
// Trash for everyone; `everywhere` (default) expunges it (Recently Deleted keeps it).
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

describe('device setting delete=', () => {
  test('a POP3 laptop deleting with delete=device leaves the mail on the IMAP phone and on a second POP3 laptop', { timeout: 90_000 }, async () => {
    const acct = 'pops@example.test';
    await f.ok('user', 'add', acct, '--password', 'owner-password');
    await f.deliver(acct, 'one');
    await f.deliver(acct, 'two');
    const laptop1 = await f.device(acct, 'owner', 'Laptop1');
    const laptop2 = await f.device(acct, 'owner', 'Laptop2');
    const phone = await f.device(acct, 'owner', 'Phone');
    await f.ok('device', 'set', acct, 'Laptop1', 'delete=device');
    assert.equal((await f.py('pop3-dele', f.port.pop3, acct, laptop1)).count, 2);
    assert.equal((await f.py('pop3-user', f.port.pop3, acct, laptop1)).count, 0, 'laptop 1 never sees them again');
    assert.equal((await f.py('pop3-user', f.port.pop3, acct, laptop2)).count, 2, 'laptop 2 still downloads both');
    const p = await f.py('imap-flags', f.port.imap, acct, phone);
    assert.equal(Object.keys(p.flags!).length, 2);
    assert.equal(p.messages, 2);
    assert.equal((await f.py('imap-flags', f.port.imap, acct, 'owner-password')).messages, 2);
  });

  test('phone expunges with delete=device: the desktop still has the message; the phone never sees it again', { timeout: 90_000 }, async () => {
    const acct = 'imaps@example.test';
    await f.ok('user', 'add', acct, '--password', 'owner-password');
    await f.deliver(acct, 'one');
    await f.deliver(acct, 'two');
    const phone = await f.device(acct, 'owner', 'Phone');
    const desktop = await f.device(acct, 'owner', 'Desktop');
    await f.ok('device', 'set', acct, 'Phone', 'delete=device');
    const x = await f.py('imap-expunge', f.port.imap, acct, phone, '2');
    assert.deepEqual(x.expunged, [2], 'EXPUNGE announces it to the phone');
    assert.deepEqual(Object.keys(x.flags!), ['1']);
    const again = await f.py('imap-flags', f.port.imap, acct, phone);
    assert.deepEqual(Object.keys(again.flags!), ['1'], 'a new phone session does not list it');
    assert.equal(again.messages, 1, 'STATUS leaves it out too');
    assert.equal(again.unseen, 1);
    const d = await f.py('imap-flags', f.port.imap, acct, desktop);
    assert.deepEqual(d.flags, { '1': [], '2': [] }, 'the desktop keeps it, without \\Deleted');
    assert.equal(d.messages, 2);
    assert.equal((await f.py('pop3-user', f.port.pop3, acct, 'owner-password')).count, 2);
    // a later change to the hidden message by the desktop does not bring it back to the phone
    await f.py('imap-store', f.port.imap, acct, desktop, '2', '\\Flagged');
    assert.deepEqual(Object.keys((await f.py('imap-flags', f.port.imap, acct, phone)).flags!), ['1']);
  });

  test('delete=trash: the device\'s EXPUNGE moves the message to Trash for everyone', { timeout: 90_000 }, async () => {
    const acct = 'trash@example.test';
    await f.ok('user', 'add', acct, '--password', 'owner-password');
    await f.deliver(acct, 'one');
    const tablet = await f.device(acct, 'owner', 'Tablet');
    await f.ok('device', 'set', acct, 'Tablet', 'delete=trash');
    assert.deepEqual((await f.py('imap-expunge', f.port.imap, acct, tablet, '1')).expunged, [1]);
    assert.equal((await f.py('imap-flags', f.port.imap, acct, 'owner-password')).messages, 0);
    const trash = await f.py('imap-flags', f.port.imap, acct, 'owner-password', 'Trash');
    assert.deepEqual(Object.values(trash.flags!), [[]], 'in Trash, without \\Deleted');
  });

  test('delete= accepts everywhere, device or trash only', async () => {
    await f.ok('user', 'add', 'cli@example.test', '--password', 'x');
    await f.device('cli@example.test', 'owner', 'P');
    const r = await f.cli('device', 'set', 'cli@example.test', 'P', 'delete=nowhere');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /delete must be everywhere \| device \| trash/);
    assert.match(await f.ok('device', 'set', 'cli@example.test', 'P', 'delete=Device'), /delete=device/);
  });
});
