// NOTIFY and per-member \Seen: Bob reading a message of the shared account is no FlagChange
// for Alice (neither in her selected mailbox nor in STATUS of another), while Bob flagging one
// (a shared flag) is.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Transcript } from '../harness/transcript.js';
import { PeopleFixture } from './fixture.js';

const ACCOUNT = 'family@example.test';
let f: PeopleFixture;
let alicePw: string;
let bobPw: string;

before(async () => {
  f = await PeopleFixture.start({ env: { MAILROOM_IMAP_IDLE_POLL_MS: '3600000', MAILROOM_DATABASE_CHANGE_POLL_MS: '50' } });
  await f.ok('user', 'add', ACCOUNT, '--password', 'owner-password');
  await f.ok('member', 'add', ACCOUNT, 'alice');
  await f.ok('member', 'add', ACCOUNT, 'bob');
  alicePw = await f.device(ACCOUNT, 'alice', "Alice's phone");
  bobPw = await f.device(ACCOUNT, 'bob', "Bob's laptop");
  await f.deliver(ACCOUNT, 'one');
});
after(async () => {
  await f?.stop();
});

async function login(pass: string): Promise<Transcript> {
  const t = await connect(f.port.imap, { timeoutMs: 20_000 });
  await t.readLine();
  t.send(`l LOGIN ${ACCOUNT} ${pass}\r\n`);
  await t.readUntil(/l OK[^\r\n]*\r\n/);
  return t;
}

async function run(t: Transcript, tag: string, cmd: string): Promise<string> {
  t.send(`${tag} ${cmd}\r\n`);
  const out = await t.readUntil(new RegExp(`${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`));
  assert.match(out, new RegExp(`${tag} OK`), `${cmd}: ${out}`);
  return out;
}

test("another member's \\Seen is no NOTIFY event; a shared flag is", { timeout: 60_000 }, async () => {
  const alice = await login(alicePw);
  const bob = await login(bobPw);
  try {
    await run(bob, 'b1', 'CREATE Common');
    await run(bob, 'b2', 'APPEND Common {5+}\r\nhello');
    await run(alice, 'a0', 'ENABLE IMAP4rev2');
    await run(alice, 'a1', 'SELECT INBOX');
    const set = await run(alice, 'a2', 'NOTIFY SET STATUS (SELECTED (MessageNew MessageExpunge FlagChange)) (PERSONAL (MessageNew MessageExpunge FlagChange))');
    assert.match(set, /\* STATUS "?Common"? \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)\r\n/);

    await run(bob, 'b3', 'SELECT INBOX');
    await run(bob, 'b4', 'STORE 1 +FLAGS (\\Seen)');
    await run(bob, 'b5', 'SELECT Common');
    await run(bob, 'b6', 'STORE 1 +FLAGS (\\Seen)');
    await assert.rejects(alice.readUntil('\r\n', 500), /timeout/, 'Bob reading is nothing Alice is told');

    await run(bob, 'b7', 'STORE 1 +FLAGS (\\Flagged)');
    await run(bob, 'b8', 'SELECT INBOX');
    await run(bob, 'b9', 'STORE 1 +FLAGS (\\Flagged)');
    assert.equal(await alice.readLine(), '* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n', 'the shared \\Flagged, without Bob\'s \\Seen');
    await assert.rejects(alice.readUntil('\r\n', 500), /timeout/, 'STATUS of Common unchanged for Alice: UNSEEN is still 1');
  } finally {
    alice.close();
    bob.close();
  }
});
