// A device with delete=device that syncs with QRESYNC: what it hid in another session (or
// what its window=Nd left behind) has no expunge record, yet the next resync must tell the
// client it vanished, as RFC 7162 3.2.5.1 and 3.2.6 tell of expunged messages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Imap } from '../imap/client.js';
import { PeopleFixture } from './fixture.js';

let f: PeopleFixture;
before(async () => {
  f = await PeopleFixture.start();
});
after(async () => {
  await f?.stop();
});

async function login(account: string, password: string): Promise<Imap> {
  const c = await Imap.open(f.port.imap, { login: false });
  await c.ok(`LOGIN ${account} "${password}"`);
  await c.ok('ENABLE QRESYNC');
  return c;
}

function highest(selectText: string): number {
  const m = /HIGHESTMODSEQ (\d+)/.exec(selectText);
  assert.ok(m, selectText);
  return Number(m[1]);
}

describe('QRESYNC on a device that hides what it deletes', () => {
  test('a reconnect learns of a message the same device hid in another session', { timeout: 60_000 }, async () => {
    const acct = 'resync@example.test';
    await f.ok('user', 'add', acct, '--password', 'owner-password');
    for (const s of ['one', 'two', 'three']) await f.deliver(acct, s);
    const phone = await f.device(acct, 'owner', 'Phone');
    await f.ok('device', 'set', acct, 'Phone', 'delete=device');

    const first = await login(acct, phone);
    const sel = await first.ok('SELECT INBOX');
    const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(sel)![1]);
    const modSeq = highest(sel);
    first.close();

    const other = await login(acct, phone);
    await other.ok('SELECT INBOX');
    await other.ok('UID STORE 2 +FLAGS.SILENT (\\Deleted)');
    assert.match(await other.ok('EXPUNGE'), /\* VANISHED 2\r\n/);
    other.close();

    const again = await login(acct, phone);
    const resync = await again.ok(`SELECT INBOX (QRESYNC (${uidValidity} ${modSeq} 1:3))`);
    assert.match(resync, /\* 2 EXISTS\r\n/);
    assert.match(resync, /\* VANISHED \(EARLIER\) 2\r\n/, 'the hidden UID is reported as vanished');
    const fetch = await again.ok(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modSeq} VANISHED)`);
    assert.match(fetch, /\* VANISHED \(EARLIER\) 2\r\n/);
    again.close();

    // The owner's view is untouched: nothing vanished there.
    const owner = await login(acct, 'owner-password');
    const ownerSync = await owner.ok(`SELECT INBOX (QRESYNC (${uidValidity} ${modSeq} 1:3))`);
    assert.match(ownerSync, /\* 3 EXISTS\r\n/);
    assert.doesNotMatch(ownerSync, /VANISHED/);
    owner.close();
  });

  test('an open session of the same device sees the other session\'s hide as an EXPUNGE; the owner does not', { timeout: 60_000 }, async () => {
    const acct = 'twosessions@example.test';
    await f.ok('user', 'add', acct, '--password', 'owner-password');
    for (const s of ['one', 'two', 'three']) await f.deliver(acct, s);
    const phone = await f.device(acct, 'owner', 'Phone');
    await f.ok('device', 'set', acct, 'Phone', 'delete=device');

    const watching = await Imap.open(f.port.imap, { login: false });
    await watching.ok(`LOGIN ${acct} "${phone}"`);
    await watching.ok('SELECT INBOX');
    const owner = await Imap.open(f.port.imap, { login: false });
    await owner.ok(`LOGIN ${acct} owner-password`);
    await owner.ok('SELECT INBOX');

    const deleting = await Imap.open(f.port.imap, { login: false });
    await deleting.ok(`LOGIN ${acct} "${phone}"`);
    await deleting.ok('SELECT INBOX');
    await deleting.ok('STORE 2 +FLAGS.SILENT (\\Deleted)');
    assert.match(await deleting.ok('EXPUNGE'), /\* 2 EXPUNGE\r\n/);
    deleting.close();

    assert.match(await watching.ok('NOOP'), /\* 2 EXPUNGE\r\n/, 'the same device\'s open view drops it');
    assert.match(await watching.ok('FETCH 1:* (UID)'), /^\* 1 FETCH \(UID 1\)\r\n\* 2 FETCH \(UID 3\)\r\n/);
    const ownerNoop = await owner.ok('NOOP');
    assert.doesNotMatch(ownerNoop, /EXPUNGE/, 'the owner keeps the message');
    assert.match(await owner.ok('FETCH 1:* (UID)'), /\* 3 FETCH \(UID 3\)\r\n/);
    watching.close();
    owner.close();
  });
});
