// Per-device limits: `protocols=` (a login on another protocol gets that protocol's usual
// authentication failure) and `readonly=yes` (IMAP SELECT acts as EXAMINE and every change
// is refused with NO; POP3 DELE is refused; SMTP submission is refused).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../harness/transcript.js';
import { PeopleFixture } from './fixture.js';

const ACCOUNT = 'limits@example.test';

let f: PeopleFixture;
before(async () => {
  f = await PeopleFixture.start();
  await f.ok('user', 'add', ACCOUNT, '--password', 'owner-password');
  await f.ok('user', 'add', 'other@example.test', '--password', 'x');
  await f.ok('member', 'add', ACCOUNT, 'kid');
  await f.deliver(ACCOUNT, 'one');
  await f.deliver(ACCOUNT, 'two');
});
after(async () => {
  await f?.stop();
});

describe('per-device limits', () => {
  test('protocols=imap: IMAP logs in; POP3 answers -ERR [AUTH] and SMTP 535, as for a wrong password', { timeout: 60_000 }, async () => {
    const pw = await f.device(ACCOUNT, 'kid', 'Reader');
    await f.ok('device', 'set', ACCOUNT, 'Reader', 'protocols=imap');
    assert.equal((await f.py('imap-login', f.port.imap, ACCOUNT, pw)).ok, true);
    assert.equal((await f.py('imap-auth-plain', f.port.imap, ACCOUNT, pw)).ok, true);
    const pop = await f.py('pop3-user', f.port.pop3, ACCOUNT, pw);
    assert.equal(pop.ok, false);
    assert.match(pop.error ?? '', /-ERR \[AUTH\]/);
    assert.match((await f.py('smtp-login', f.port.submission, ACCOUNT, pw)).error ?? '', /535/);
    await f.ok('device', 'set', ACCOUNT, 'Reader', 'protocols=pop3,smtp');
    assert.match((await f.py('imap-login', f.port.imap, ACCOUNT, pw)).error ?? '', /AUTHENTICATIONFAILED/);
    assert.equal((await f.py('pop3-auth-plain', f.port.pop3, ACCOUNT, pw)).ok, true);
    assert.equal((await f.py('smtp-login', f.port.submission, ACCOUNT, pw)).ok, true);
  });

  test('readonly=yes over IMAP: SELECT is READ-ONLY, reading sets no \\Seen, every change gets NO', { timeout: 60_000 }, async () => {
    const pw = await f.device(ACCOUNT, 'kid', 'Kiosk');
    await f.ok('device', 'set', ACCOUNT, 'Kiosk', 'readonly=yes');
    const t = await connect(f.port.imap, { timeoutMs: 15_000 });
    await t.readLine();
    t.send(`a LOGIN ${ACCOUNT} ${pw}\r\n`);
    await t.readUntil(/a OK [^\r]*\r\n/);
    t.send('b SELECT INBOX\r\n');
    assert.match(await t.readUntil(/b [A-Z]+ [^\r]*\r\n/), /b OK \[READ-ONLY\] SELECT completed/);
    t.send('c FETCH 1 (BODY[])\r\nd FETCH 1 (FLAGS)\r\n');
    const read = await t.readUntil(/d OK [^\r]*\r\n/);
    assert.doesNotMatch(read, /\\Seen/, 'RFC 9051 6.3.3: no \\Seen in a read-only mailbox');
    const refused: [string, string][] = [
      ['STORE 1 +FLAGS (\\Flagged)', 'e1'], ['UID STORE 1 +FLAGS (\\Deleted)', 'e2'], ['COPY 1 Archive', 'e3'], ['MOVE 1 Archive', 'e4'],
      ['UID MOVE 1 Archive', 'e5'], ['EXPUNGE', 'e6'], ['UID EXPUNGE 1', 'e7'], ['CREATE New', 'e8'], ['DELETE Archive', 'e9'],
      ['RENAME Archive Old', 'e10'], ['APPEND INBOX {5+}\r\nhello', 'e11'],
    ];
    for (const [cmd, tag] of refused) {
      t.send(`${tag} ${cmd}\r\n`);
      assert.match(await t.readUntil(new RegExp(`${tag} [A-Z]+ [^\\r]*\\r\\n`)), new RegExp(`${tag} NO \\[NOPERM\\] This device is read-only`), cmd);
    }
    t.send('f SEARCH ALL\r\ng LIST "" "*"\r\nh STATUS Archive (MESSAGES)\r\n');
    assert.match(await t.readUntil(/h [A-Z]+ [^\r]*\r\n/), /\* SEARCH 1 2\r\n[\s\S]*h OK/, 'reading still works');
    t.send('z LOGOUT\r\n');
    await t.closed;
    const owner = await f.py('imap-flags', f.port.imap, ACCOUNT, 'owner-password');
    assert.deepEqual(owner.flags, { 1: [], 2: [] }, 'nothing changed');
  });

  test('readonly=yes over POP3 and SMTP: DELE is refused (nothing removed at QUIT); submission is refused', { timeout: 60_000 }, async () => {
    const pw = await f.device(ACCOUNT, 'kid', 'Old PC');
    await f.ok('device', 'set', ACCOUNT, 'Old PC', 'readonly=yes');
    const p = await connect(f.port.pop3, { timeoutMs: 15_000 });
    await p.readLine();
    p.send(`USER ${ACCOUNT}\r\nPASS ${pw}\r\nDELE 1\r\nRETR 2\r\nQUIT\r\n`);
    const popOut = await p.readToEnd();
    assert.match(popOut, /\r\n-ERR [^\r]*read-only[^\r]*\r\n\+OK [^\r]*\r\n[\s\S]*\r\n\.\r\n\+OK/);
    assert.equal((await f.py('pop3-user', f.port.pop3, ACCOUNT, 'owner-password')).count, 2, 'both messages are still there');

    const s = await connect(f.port.submission, { timeoutMs: 15_000 });
    await s.readLine();
    s.send(`EHLO c.test\r\nAUTH PLAIN ${Buffer.from(`\0${ACCOUNT}\0${pw}`).toString('base64')}\r\nMAIL FROM:<${ACCOUNT}>\r\nQUIT\r\n`);
    assert.match(await s.readToEnd(), /235 [^\r]*\r\n550 5\.7\.1 This device is read-only; sending is refused\r\n221/);
    const sendOk = await f.py('smtp-send', f.port.submission, ACCOUNT, 'owner-password', ACCOUNT, 'other@example.test');
    assert.equal(sendOk.ok, true, 'the account password still sends');
  });
});
