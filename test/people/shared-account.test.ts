// One account, several people: \Seen is private to each member (Alice's python imaplib,
// Bob's imapflow, Bob's POP3 laptop, Alice's smtplib Sent copy), every other flag is shared,
// and with CONDSTORE another member's reading is no change for you (RFC 7162 stays per viewer).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { connect } from '../harness/transcript.js';
import { PeopleFixture } from './fixture.js';

const ACCOUNT = 'family@example.test';

let f: PeopleFixture;
let alicePw: string;
let bobPw: string;
let bobPop: string;

before(async () => {
  f = await PeopleFixture.start();
  await f.ok('user', 'add', ACCOUNT, '--password', 'owner-password');
  await f.ok('user', 'add', 'friend@example.test', '--password', 'friend-password');
  await f.ok('member', 'add', ACCOUNT, 'alice');
  await f.ok('member', 'add', ACCOUNT, 'bob');
  alicePw = await f.device(ACCOUNT, 'alice', "Alice's phone");
  bobPw = await f.device(ACCOUNT, 'bob', "Bob's laptop");
  bobPop = await f.device(ACCOUNT, 'bob', "Bob's POP3 desktop");
  await f.deliver(ACCOUNT, 'one');
  await f.deliver(ACCOUNT, 'two');
});
after(async () => {
  await f?.stop();
});

function bobClient(): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port: f.port.imap, secure: false, doSTARTTLS: false, auth: { user: ACCOUNT, pass: bobPw }, logger: false });
}

describe('one account, several people', () => {
  test("shared account: Bob reading does not mark it read for Alice; Alice sees Bob's \\Answered", { timeout: 120_000 }, async () => {
    const bob = bobClient();
    await bob.connect();
    const lock = await bob.getMailboxLock('INBOX');
    try {
      await bob.messageFlagsAdd('1', ['\\Seen', '\\Answered']); // Bob reads message 1 and answers it
      const mine = await bob.fetchOne('1', { flags: true });
      assert.ok(mine && mine.flags?.has('\\Seen') && mine.flags.has('\\Answered'), 'Bob sees his own \\Seen');
    } finally {
      lock.release();
    }
    const alice = await f.py('imap-flags', f.port.imap, ACCOUNT, alicePw);
    assert.equal(alice.ok, true);
    assert.deepEqual(alice.flags, { 1: ['\\Answered'], 2: [] }, "Alice sees Bob's \\Answered but not his \\Seen");
    assert.equal(alice.unseen, 2, 'STATUS UNSEEN counts Alice\'s own read state');
    const owner = await f.py('imap-flags', f.port.imap, ACCOUNT, 'owner-password');
    assert.deepEqual(owner.flags, { 1: ['\\Answered'], 2: [] }, 'the account password is the member "owner", with a read state of its own');

    const read = await f.py('imap-read', f.port.imap, ACCOUNT, alicePw); // Alice reads both (FETCH BODY[] sets \Seen)
    assert.deepEqual(read.flags, { 1: ['\\Answered', '\\Seen'], 2: ['\\Seen'] });
    assert.equal(read.unseen, 0);
    const lock2 = await bob.getMailboxLock('INBOX');
    try {
      const two = await bob.fetchOne('2', { flags: true });
      assert.ok(two && !two.flags?.has('\\Seen'), "Alice's reading did not mark message 2 read for Bob");
      assert.equal((await bob.status('INBOX', { unseen: true })).unseen, 1);
    } finally {
      lock2.release();
      await bob.logout();
    }
  });

  test("with CONDSTORE, another member's \\Seen is no change for you; a shared flag is, and your own \\Seen has a MODSEQ", { timeout: 120_000 }, async () => {
    await f.deliver(ACCOUNT, 'three');
    const t = await connect(f.port.imap);
    await t.readUntil(/\r\n/);
    t.send(`a LOGIN ${ACCOUNT} ${bobPw}\r\n`);
    await t.readUntil(/a OK [^\r]*\r\n/);
    t.send('b SELECT INBOX (CONDSTORE)\r\n');
    const sel = await t.readUntil(/b OK [^\r]*\r\n/);
    const hms = Number(/HIGHESTMODSEQ (\d+)/.exec(sel)![1]);
    t.send('c IDLE\r\n');
    await t.readUntil(/\+ [^\r]*\r\n/);
    await f.py('imap-read', f.port.imap, ACCOUNT, alicePw); // Alice reads message 3: no change for Bob
    await f.py('imap-store', f.port.imap, ACCOUNT, alicePw, '3', '\\Flagged'); // a shared flag: a change for everyone
    const pushed = await t.readUntil(/\* 3 FETCH \([^\r]*\)\r\n/);
    assert.doesNotMatch(pushed, /\\Seen/, `Bob never hears of Alice's \\Seen: ${pushed}`);
    assert.match(pushed, /\* 3 FETCH \(.*FLAGS \(\\Flagged( \\Recent)?\).*MODSEQ \(\d+\)/);
    t.send('DONE\r\n');
    await t.readUntil(/c OK [^\r]*\r\n/);
    t.send(`d FETCH 1:* (FLAGS) (CHANGEDSINCE ${hms})\r\n`);
    const changed = await t.readUntil(/d OK [^\r]*\r\n/);
    assert.deepEqual(changed.match(/\* \d+ FETCH/g), ['* 3 FETCH'], `only the shared change since ${hms}: ${changed}`);
    t.send('e STORE 3 +FLAGS (\\Seen)\r\n'); // Bob reads: his own change, with a MODSEQ
    const own = await t.readUntil(/e OK [^\r]*\r\n/);
    const modseq = Number(/\* 3 FETCH \(.*MODSEQ \((\d+)\)/.exec(own)![1]);
    t.send(`f FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq - 1})\r\n`);
    assert.match(await t.readUntil(/f OK [^\r]*\r\n/), /\* 3 FETCH \(.*FLAGS \(\\Flagged \\Seen( \\Recent)?\)/);
    t.send('g LOGOUT\r\n');
    await t.closed;
    const alice = await f.py('imap-flags', f.port.imap, ACCOUNT, alicePw);
    assert.deepEqual(alice.flags?.[3], ['\\Flagged', '\\Seen']);
  });

  test("POP3 and the Sent copy use the logged-in member's \\Seen (python poplib and smtplib with device passwords)", { timeout: 120_000 }, async () => {
    const before = await f.py('imap-flags', f.port.imap, ACCOUNT, bobPw);
    const retr = await f.py('pop3-retr', f.port.pop3, ACCOUNT, bobPop);
    assert.equal(retr.ok, true, retr.error);
    assert.equal(retr.count, 3);
    const bob = await f.py('imap-flags', f.port.imap, ACCOUNT, bobPw);
    assert.ok(Object.values(bob.flags!).every((fl) => fl.includes('\\Seen')), `Bob's POP3 download marked them read for Bob: ${JSON.stringify(bob.flags)} (before ${JSON.stringify(before.flags)})`);
    const owner = await f.py('imap-flags', f.port.imap, ACCOUNT, 'owner-password');
    assert.equal(owner.unseen, 3, "and not for the owner");

    const sent = await f.py('smtp-send', f.port.submission, ACCOUNT, alicePw, ACCOUNT, 'friend@example.test');
    assert.equal(sent.ok, true, sent.error);
    const aliceSent = await f.py('imap-flags', f.port.imap, ACCOUNT, alicePw, 'Sent');
    assert.deepEqual(Object.values(aliceSent.flags!), [['\\Seen']], "Alice's Sent copy is read for Alice");
    const bobSent = await f.py('imap-flags', f.port.imap, ACCOUNT, bobPw, 'Sent');
    assert.deepEqual(Object.values(bobSent.flags!), [[]], 'and unread for Bob');
  });
});
