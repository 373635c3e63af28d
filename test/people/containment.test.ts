// Containment: revoking a device, changing the account password, deleting a member and
// requiring device passwords end the sessions that used that credential at once (IMAP
// `* BYE`, POP3 `-ERR`, SMTP 421), also when done by the CLI (another process), and the
// next login is refused; other devices keep working.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Transcript } from '../harness/transcript.js';
import { PeopleFixture } from './fixture.js';

const ACCOUNT = 'home@example.test';
const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');

let f: PeopleFixture;

before(async () => {
  f = await PeopleFixture.start();
  await f.ok('user', 'add', ACCOUNT, '--password', 'owner-password');
  await f.ok('member', 'add', ACCOUNT, 'bob');
  await f.ok('member', 'add', ACCOUNT, 'alice');
  await f.deliver(ACCOUNT, 'hello');
});
after(async () => {
  await f?.stop();
});

async function imapIdle(pass: string): Promise<Transcript> {
  const t = await connect(f.port.imap, { timeoutMs: 15_000 });
  await t.readLine();
  t.send(`a LOGIN ${ACCOUNT} "${pass}"\r\n`);
  await t.readUntil(/a OK [^\r]*\r\n/);
  t.send('b SELECT INBOX\r\nc IDLE\r\n');
  await t.readUntil(/\+ [^\r]*\r\n/);
  return t;
}

async function imapSelected(pass: string): Promise<Transcript> {
  const t = await connect(f.port.imap, { timeoutMs: 15_000 });
  await t.readLine();
  t.send(`a LOGIN ${ACCOUNT} "${pass}"\r\nb SELECT INBOX\r\n`);
  await t.readUntil(/b OK [^\r]*\r\n/);
  return t;
}

async function pop3(pass: string): Promise<Transcript> {
  const t = await connect(f.port.pop3, { timeoutMs: 15_000 });
  await t.readLine();
  t.send(`USER ${ACCOUNT}\r\nPASS ${pass}\r\n`);
  await t.readUntil(/\+OK send PASS\r\n\+OK [^\r]*\r\n/);
  return t;
}

async function smtp(pass: string): Promise<Transcript> {
  const t = await connect(f.port.submission, { timeoutMs: 15_000 });
  await t.readLine();
  t.send('EHLO client.test\r\n');
  await t.readUntil(/250 [^\r]*\r\n/);
  t.send(`AUTH PLAIN ${plain(ACCOUNT, pass)}\r\n`);
  await t.readUntil(/235 [^\r]*\r\n/);
  return t;
}

/** NOOP answers OK: the session still works. */
async function alive(t: Transcript, tag: string): Promise<void> {
  t.send(`${tag} NOOP\r\n`);
  await t.readUntil(new RegExp(`${tag} OK [^\\r]*\\r\\n`));
}

describe('containment', () => {
  test('revoked device: its open IMAP session gets BYE and IMAP, POP3 and SMTP refuse it; the other devices keep working', { timeout: 120_000 }, async () => {
    const phone = await f.device(ACCOUNT, 'bob', "Bob's phone");
    const laptop = await f.device(ACCOUNT, 'bob', "Bob's laptop");
    const imapPhone = await imapIdle(phone);
    const imapPhone2 = await imapSelected(phone);
    const popPhone = await pop3(phone);
    const smtpPhone = await smtp(phone);
    const imapLaptop = await imapSelected(laptop);

    const r = await f.cli('device', 'revoke', ACCOUNT, "Bob's phone"); // another process than the server
    assert.equal(r.code, 0, r.stderr);

    assert.match(await imapPhone.readToEnd(), /^\* BYE [^\r]*revoked[^\r]*\r\n$/m, 'the IDLE session hears BYE at once');
    assert.match(await imapPhone2.readToEnd(), /^\* BYE [^\r]*\r\n/m, 'a selected session too');
    assert.match(await popPhone.readToEnd(), /^-ERR \[AUTH\] [^\r]*revoked/m);
    assert.match(await smtpPhone.readToEnd(), /^421 4\.7\.0 [^\r]*revoked/m);

    await alive(imapLaptop, 'n1'); // the other device keeps its session
    assert.deepEqual(await f.py('imap-login', f.port.imap, ACCOUNT, phone), { ok: false, error: 'b\'[AUTHENTICATIONFAILED] Authentication failed\'' });
    assert.equal((await f.py('imap-auth-plain', f.port.imap, ACCOUNT, phone)).ok, false);
    assert.equal((await f.py('pop3-user', f.port.pop3, ACCOUNT, phone)).ok, false);
    assert.equal((await f.py('pop3-auth-plain', f.port.pop3, ACCOUNT, phone)).ok, false);
    assert.match((await f.py('smtp-login', f.port.submission, ACCOUNT, phone)).error ?? '', /535/);
    assert.equal((await f.py('imap-login', f.port.imap, ACCOUNT, laptop)).ok, true, 'the laptop still logs in');
    assert.equal((await f.py('pop3-user', f.port.pop3, ACCOUNT, laptop)).ok, true, 'POP3 too: the revoked session released the maildrop');
    assert.equal((await f.py('smtp-login', f.port.submission, ACCOUNT, laptop)).ok, true);
    await alive(imapLaptop, 'n2');
    imapLaptop.close();
  });

  test('user passwd ends the sessions of the account password, member del those of its devices; devices of others stay', { timeout: 120_000 }, async () => {
    const carolPhone = await f.device(ACCOUNT, 'alice', "Alice's phone");
    const bobTablet = await f.device(ACCOUNT, 'bob', "Bob's tablet");
    const ownerImap = await imapIdle('owner-password');
    const alicePhone = await imapSelected(carolPhone);
    const bobImap = await imapIdle(bobTablet);

    await f.ok('user', 'passwd', ACCOUNT, '--password', 'new-owner-password');
    assert.match(await ownerImap.readToEnd(), /^\* BYE [^\r]*password changed/m);
    await alive(alicePhone, 'p1');
    assert.equal((await f.py('imap-login', f.port.imap, ACCOUNT, 'owner-password')).ok, false);
    assert.equal((await f.py('imap-login', f.port.imap, ACCOUNT, 'new-owner-password')).ok, true);

    await f.ok('member', 'del', ACCOUNT, 'bob');
    assert.match(await bobImap.readToEnd(), /^\* BYE [^\r]*revoked/m);
    assert.equal((await f.py('imap-login', f.port.imap, ACCOUNT, bobTablet)).ok, false);
    await alive(alicePhone, 'p2');
    alicePhone.close();
  });

  test('auth.require_device_passwords=yes: the account password stops working for IMAP, POP3 and SMTP, its sessions end; devices go on', { timeout: 120_000 }, async () => {
    const phone = await f.device(ACCOUNT, 'alice', 'Second phone');
    const owner = await imapIdle('new-owner-password');
    const device = await imapSelected(phone);
    await f.ok('user', 'set', ACCOUNT, 'auth.require_device_passwords=yes');
    assert.match(await owner.readToEnd(), /^\* BYE [^\r]*requires device passwords/m);
    await alive(device, 'q1');
    assert.equal((await f.py('imap-login', f.port.imap, ACCOUNT, 'new-owner-password')).ok, false);
    assert.equal((await f.py('pop3-user', f.port.pop3, ACCOUNT, 'new-owner-password')).ok, false);
    assert.equal((await f.py('smtp-login', f.port.submission, ACCOUNT, 'new-owner-password')).ok, false);
    assert.equal((await f.py('imap-login', f.port.imap, ACCOUNT, phone)).ok, true);
    await f.ok('user', 'set', ACCOUNT, 'auth.require_device_passwords=');
    assert.equal((await f.py('imap-login', f.port.imap, ACCOUNT, 'new-owner-password')).ok, true);
    device.close();
  });
});
