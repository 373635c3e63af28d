// Who uses what (issue 12): a login from a device or address the account never used
// sends the account one notice into INBOX (the second login from it sends none; the
// account's very first login sends none; new_login_notice=off sends none), and every
// failed login is listed by `mailroom user show` with its time, protocol and address.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Transcript } from '../harness/transcript.js';
import { PeopleFixture } from './fixture.js';

const ACCOUNT = 'notice@example.test';
const OWNER_PASSWORD = 'owner-password';

let f: PeopleFixture;

before(async () => {
  f = await PeopleFixture.start({ env: { MAILROOM_AUTH_NEW_LOGIN_NOTICE: 'true' } });
  await f.ok('user', 'add', ACCOUNT, '--password', OWNER_PASSWORD);
  await f.ok('member', 'add', ACCOUNT, 'alice');
});
after(async () => {
  await f?.stop();
});

/** One IMAP session from `localAddress` (any 127/8 address reaches the loopback listener); returns the LOGIN reply. */
async function imap(pass: string, commands: string[] = [], localAddress = '127.0.0.1'): Promise<{ login: string; out: string }> {
  const t = new Transcript(net.connect({ host: '127.0.0.1', port: f.port.imap, localAddress }), 15_000);
  try {
    await t.readLine();
    t.send(`a LOGIN ${ACCOUNT} "${pass}"\r\n`);
    const login = await t.readUntil(/a (OK|NO|BAD)[^\r]*\r\n/);
    let out = '';
    for (const [i, c] of commands.entries()) {
      t.send(`c${i} ${c}\r\n`);
      out += await t.readUntil(new RegExp(`c${i} (OK|NO|BAD)[^\\r]*\\r\\n`));
    }
    t.send('z LOGOUT\r\n');
    await t.readUntil(/z OK[^\r]*\r\n/);
    return { login, out };
  } finally {
    t.socket.destroy();
  }
}

/** Subjects in INBOX, read as the owner from the owner's usual address (a known origin). */
async function subjects(): Promise<string[]> {
  const { out } = await imap(OWNER_PASSWORD, ['EXAMINE INBOX', 'FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])']);
  return [...out.matchAll(/Subject: ([^\r]*)\r\n/g)].map((m) => m[1]);
}

async function waitForSubjects(n: number): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await subjects();
    if (s.length >= n || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 800));

describe('new-login notice', () => {
  test('the account\'s very first login sends no notice', async () => {
    assert.match((await imap(OWNER_PASSWORD)).login, /a OK/);
    await settle();
    assert.deepEqual(await subjects(), []);
  });

  test('a login from a new device sends one notice; the second login from it sends none', async () => {
    const phone = await f.device(ACCOUNT, 'alice', "Alice's phone");
    assert.match((await imap(phone)).login, /a OK/);
    const first = await waitForSubjects(1);
    assert.equal(first.length, 1);
    assert.match(first[0], /^New login to notice@example\.test \(IMAP from 127\.0\.0\.1\)$/);
    const { out } = await imap(OWNER_PASSWORD, ['EXAMINE INBOX', 'FETCH 1 (BODY.PEEK[TEXT])']);
    assert.match(out, /Who: +alice/);
    assert.match(out, /What: +the device password "Alice's phone"/);
    assert.match(out, /Protocol: IMAP/);
    assert.match(out, /mailroom device revoke notice@example\.test 'Alice'\\''s phone'/);

    assert.match((await imap(phone)).login, /a OK/, 'second login from the same device');
    // A second device's notice arrives after the decision about the phone's second login was made.
    const tablet = await f.device(ACCOUNT, 'alice', 'Tablet');
    assert.match((await imap(tablet)).login, /a OK/);
    const after = await waitForSubjects(2);
    await settle();
    assert.equal((await subjects()).length, 2, `one notice per new device, none for a repeat: ${JSON.stringify(after)}`);
  });

  test('the account password from a new client address sends one notice, from a known one none', async () => {
    const before = (await subjects()).length;
    assert.match((await imap(OWNER_PASSWORD, [], '127.0.0.2')).login, /a OK/);
    const s = await waitForSubjects(before + 1);
    assert.equal(s.length, before + 1);
    assert.match(s.at(-1)!, /IMAP from 127\.0\.0\.2/);
    assert.match((await imap(OWNER_PASSWORD, [], '127.0.0.2')).login, /a OK/);
    await settle();
    assert.equal((await subjects()).length, before + 1);
  });

  test('new_login_notice=off: a new device sends none', async () => {
    await f.ok('user', 'set', ACCOUNT, 'new_login_notice=off');
    assert.match(await f.ok('user', 'show', ACCOUNT), /^new_login_notice\toff\t\(user\)$/m);
    const before = (await subjects()).length;
    const laptop = await f.device(ACCOUNT, 'owner', 'Laptop');
    assert.match((await imap(laptop, [], '127.0.0.3')).login, /a OK/);
    await settle();
    assert.equal((await subjects()).length, before);
    await f.ok('user', 'set', ACCOUNT, 'new_login_notice=');
  });
});

describe('user show: who uses what', () => {
  test('lists members, devices with their last login, and the failed logins (time, protocol, address)', async () => {
    assert.match((await imap('wrong-password')).login, /a NO/);
    const pop = await f.py('pop3', f.port.pop3, ACCOUNT, 'also-wrong');
    assert.equal(pop.ok, false);
    const smtp = await f.py('smtp', f.port.submission, ACCOUNT, 'still-wrong');
    assert.equal(smtp.ok, false);
    const pinned = await f.device(ACCOUNT, 'alice', 'Mail only');
    await f.ok('device', 'set', ACCOUNT, 'Mail only', 'protocols=pop3');
    assert.match((await imap(pinned)).login, /a NO/);

    const out = await f.ok('user', 'show', ACCOUNT);
    assert.match(out, /^members\towner, alice$/m);
    assert.match(out, /^device\tAlice's phone\talice\t\S+\t\S+Z\timap\t127\.0\.0\.1$/m);
    assert.match(out, /^device\tMail only\talice\t\S+\tnever\t-\t-\tprotocols=pop3$/m);
    const failed = out.split('\n').filter((l) => l.startsWith('failed\t')).map((l) => l.split('\t'));
    // smtplib tries each mechanism the server offers, so SMTP may count more than once.
    assert.match(out, new RegExp(`^failed logins\t${failed.length} \\(newest first\\)$`, 'm'));
    assert.deepEqual(failed[0].slice(2, 6), ['imap', '127.0.0.1', 'protocol', 'Mail only']);
    assert.deepEqual([...new Set(failed.slice(1).map((l) => l.slice(2, 6).join(' ')))], ['smtp 127.0.0.1 invalid -', 'pop3 127.0.0.1 invalid -', 'imap 127.0.0.1 invalid -']);
    for (const l of failed) assert.ok(!Number.isNaN(Date.parse(l[1])), `a time: ${l[1]}`);
  });
});
