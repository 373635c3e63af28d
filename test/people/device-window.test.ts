// Device setting window=Nd: the device sees only mail whose internal date is within the
// last N days, over IMAP (SELECT, STATUS, FETCH, SEARCH) and POP3 (listing, RETR).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../harness/transcript.js';
import { PeopleFixture } from './fixture.js';

const ACCOUNT = 'window@example.test';
let f: PeopleFixture;
before(async () => {
  f = await PeopleFixture.start();
  await f.ok('user', 'add', ACCOUNT, '--password', 'owner-password');
});
after(async () => {
  await f?.stop();
});

async function imap(pass: string, commands: string[]): Promise<string> {
  const t = await connect(f.port.imap, { timeoutMs: 15_000 });
  await t.readLine();
  t.send(`a LOGIN ${ACCOUNT} ${pass}\r\n`);
  await t.readUntil(/a OK [^\r]*\r\n/);
  let out = '';
  for (const [i, c] of commands.entries()) {
    t.send(`c${i} ${c}\r\n`);
    out += await t.readUntil(new RegExp(`c${i} [A-Z]+ [^\\r]*\\r\\n`));
  }
  t.close();
  return out;
}

describe('device setting window=', () => {
  test('a device with window=90d cannot FETCH, SEARCH or RETR older mail', { timeout: 90_000 }, async () => {
    const old = 'From: a@example.net\r\nSubject: old\r\n\r\nold body\r\n';
    const appended = await imap('owner-password', [`APPEND INBOX "01-Jan-2020 10:00:00 +0000" {${old.length}+}\r\n${old}`]);
    assert.match(appended, /APPENDUID \d+ 1\]/);
    await f.deliver(ACCOUNT, 'new');
    const pw = await f.device(ACCOUNT, 'owner', 'Phone');
    await f.ok('device', 'set', ACCOUNT, 'Phone', 'window=90d');
    const out = await imap(pw, ['STATUS INBOX (MESSAGES UNSEEN)', 'SELECT INBOX', 'UID FETCH 1:* (UID)', 'UID FETCH 1 (BODY.PEEK[])', 'UID SEARCH ALL', 'SEARCH SUBJECT old']);
    assert.match(out, /\* STATUS "?INBOX"? \(MESSAGES 1 UNSEEN 1\)/);
    assert.match(out, /\* 1 EXISTS/);
    assert.match(out, /\* 1 FETCH \(UID 2\)/);
    assert.doesNotMatch(out, /UID 1[ )]/, 'the old message is not fetched');
    assert.doesNotMatch(out, /old body/);
    assert.match(out, /\* SEARCH 2\r\n/);
    assert.match(out, /\* SEARCH\r\n/, 'SEARCH finds nothing older');
    const owner = await imap('owner-password', ['STATUS INBOX (MESSAGES)']);
    assert.match(owner, /MESSAGES 2/, 'the account still has both');
    assert.equal((await f.py('pop3-user', f.port.pop3, ACCOUNT, pw)).count, 1);
    const t = await connect(f.port.pop3, { timeoutMs: 15_000 });
    await t.readLine();
    t.send(`USER ${ACCOUNT}\r\nPASS ${pw}\r\n`);
    await t.readUntil(/\+OK[^\r]*\r\n\+OK[^\r]*\r\n/);
    t.send('RETR 2\r\nUIDL\r\n');
    assert.match(await t.readLine(), /^-ERR/);
    assert.match(await t.readUntil(/\r\n\.\r\n/), /^\+OK[^\r]*\r\n1 \S+\r\n\.\r\n$/);
    t.send('QUIT\r\n');
    t.close();
    assert.equal((await f.py('pop3-user', f.port.pop3, ACCOUNT, 'owner-password')).count, 2);
  });

  test('a windowed device\'s open view leaves out an old-dated APPEND and keeps a new one', { timeout: 60_000 }, async () => {
    const pw = await f.device(ACCOUNT, 'owner', 'Tablet');
    await f.ok('device', 'set', ACCOUNT, 'Tablet', 'window=90d');
    const old = 'From: a@example.net\r\nSubject: old again\r\n\r\nold body 2\r\n';
    const recent = 'From: a@example.net\r\nSubject: recent\r\n\r\nrecent body\r\n';
    const out = await imap(pw, [
      'SELECT INBOX',
      `APPEND INBOX "02-Jan-2020 10:00:00 +0000" {${old.length}+}\r\n${old}`,
      'NOOP',
      `APPEND INBOX {${recent.length}+}\r\n${recent}`,
      'NOOP',
      'FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])',
    ]);
    const before = Number(/\* (\d+) EXISTS/.exec(out)![1]);
    const uidOld = Number(/c1 OK \[APPENDUID \d+ (\d+)\]/.exec(out)![1]);
    assert.doesNotMatch(out, new RegExp(`\\* ${before + 2} EXISTS`), 'only one message more');
    assert.match(out, new RegExp(`\\* ${before + 1} EXISTS`), 'the recent APPEND is in the view');
    assert.doesNotMatch(out, new RegExp(`UID ${uidOld}[ )]`), 'the old-dated one is not');
    assert.match(out, /Subject: recent/);
    assert.doesNotMatch(out, /old again/);
    const again = await imap(pw, ['SELECT INBOX']);
    assert.match(again, new RegExp(`\\* ${before + 1} EXISTS`), 'a new session agrees');
  });

  test('window= accepts a number of days', async () => {
    const r = await f.cli('device', 'set', ACCOUNT, 'Phone', 'window=forever');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /window must be a number of days/);
    assert.match(await f.ok('device', 'set', ACCOUNT, 'Phone', 'window=30'), /window=30d/);
  });
});
