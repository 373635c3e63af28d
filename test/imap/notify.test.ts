// NOTIFY (RFC 5465) over real sockets: one session asks for notifications, another changes
// things; the first gets STATUS/LIST/EXISTS/FETCH/EXPUNGE without sending a command, during
// IDLE too, and never between a command's responses. python imaplib checks the STATUS it sees.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { RunningTestServer } from '../harness/server.js';
import { deliver, Imap, message, PASS, startImapServer, USER } from './client.js';

let server: RunningTestServer;
before(async () => {
  server = await startImapServer({ MAILROOM_IMAP_IDLE_POLL_MS: '3600000', MAILROOM_DATABASE_CHANGE_POLL_MS: '50' });
});
after(async () => {
  await server?.stop();
});

const EVENTS = '(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)';

/** Nothing more arrives within `ms` (the read must time out). */
async function quiet(c: Imap, ms = 400): Promise<void> {
  await assert.rejects(c.t.readUntil('\r\n', ms), /timeout/);
}

describe('NOTIFY', () => {
  test('advertised after login; syntax errors are BAD, unsupported events NO [BADEVENT]', async () => {
    const c = await Imap.open(server.ports.imap!);
    try {
      assert.match(await c.ok('CAPABILITY'), /\* CAPABILITY [^\r\n]* NOTIFY[ \r]/);
      const rows: [string, RegExp][] = [
        ['NOTIFY SET (PERSONAL (MailboxMetadataChange))', /^NO \[BADEVENT \(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange\)\]/],
        ['NOTIFY SET (SELECTED (MessageNew MessageExpunge AnnotationChange))', /^NO \[BADEVENT /],
        ['NOTIFY SET (PERSONAL (ServerMetadataChange))', /^NO \[BADEVENT /],
        ['NOTIFY SET (PERSONAL (MessageNew))', /^BAD /],
        ['NOTIFY SET (PERSONAL (FlagChange))', /^BAD /],
        ['NOTIFY SET (PERSONAL (MessageNew (UID) MessageExpunge))', /^BAD /],
        ['NOTIFY SET (SELECTED (MessageNew (BODY[]) MessageExpunge))', /^BAD /],
        ['NOTIFY SET (PERSONAL (MailboxName)) (PERSONAL (SubscriptionChange))', /^BAD /],
        ['NOTIFY SET (NOWHERE (MailboxName))', /^BAD /],
        ['NOTIFY SET', /^BAD /],
        ['NOTIFY SOMETIMES', /^BAD /],
        ['NOTIFY NONE extra', /^BAD /],
        ['NOTIFY SET (SUBTREE (Work Lists) (MailboxName)) (MAILBOXES INBOX NONE) (INBOXES (MessageNew MessageExpunge))', /^OK /],
        ['NOTIFY NONE', /^OK /],
      ];
      for (const [cmd, want] of rows) assert.match((await c.cmd(cmd)).tagged, want, cmd);
    } finally {
      c.close();
    }
  });

  test('two sessions: STATUS, LIST (create, rename, delete, subscribe), EXISTS + FETCH, flag and expunge pushes', async () => {
    const a = await Imap.open(server.ports.imap!);
    const b = await Imap.open(server.ports.imap!);
    try {
      await b.ok('CREATE Work');
      await a.ok('ENABLE IMAP4rev2'); // no \\Recent in the expected lines
      await a.ok('SELECT INBOX');
      const set = await a.ok(`NOTIFY SET STATUS (SELECTED (MessageNew (UID FLAGS) MessageExpunge FlagChange)) (PERSONAL ${EVENTS})`);
      assert.match(set, /\* STATUS "Work" \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0\)\r\n/);
      assert.doesNotMatch(set, /STATUS "INBOX"/, 'no STATUS for the selected mailbox');

      await b.ok('APPEND Work {5+}\r\nhello');
      assert.match(await a.t.readLine(), /^\* STATUS "Work" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)\r\n$/);
      await b.ok('APPEND INBOX (\\Draft) {5+}\r\nhello');
      assert.equal(await a.t.readUntil(/\* 1 FETCH [^\r\n]*\r\n/), '* 1 EXISTS\r\n* 1 FETCH (UID 1 FLAGS (\\Draft))\r\n');

      await b.ok('CREATE Lists');
      assert.equal(await a.t.readLine(), '* LIST () "/" "Lists"\r\n');
      await b.ok('RENAME Lists Groups');
      assert.equal(await a.t.readLine(), '* LIST () "/" "Groups" ("OLDNAME" ("Lists"))\r\n');
      await b.ok('DELETE Groups');
      assert.equal(await a.t.readLine(), '* LIST (\\NonExistent) "/" "Groups"\r\n');
      await b.ok('SUBSCRIBE Work');
      assert.equal(await a.t.readLine(), '* LIST (\\Subscribed) "/" "Work"\r\n');
      await b.ok('UNSUBSCRIBE Work');
      assert.equal(await a.t.readLine(), '* LIST () "/" "Work"\r\n');

      await b.ok('SELECT INBOX');
      await b.ok('STORE 1 +FLAGS (\\Flagged)');
      assert.equal(await a.t.readLine(), '* 1 FETCH (UID 1 FLAGS (\\Draft \\Flagged))\r\n');
      await b.ok('SELECT Work');
      await b.ok('STORE 1 +FLAGS (\\Seen)');
      assert.match(await a.t.readLine(), /^\* STATUS "Work" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 0\)\r\n$/);
      await b.ok('SELECT INBOX');
      await b.ok('STORE 1 +FLAGS (\\Deleted)');
      assert.equal(await a.t.readLine(), '* 1 FETCH (UID 1 FLAGS (\\Draft \\Flagged \\Deleted))\r\n');
      await b.ok('EXPUNGE');
      // the expunged message went to Recently Deleted, created now: a MailboxName event of its own
      const lines = (await a.t.readUntil(/\* 1 EXPUNGE\r\n/)).split('\r\n').filter(Boolean);
      assert.equal(lines.at(-1), '* 1 EXPUNGE');
      for (const l of lines.slice(0, -1)) assert.match(l, /^\* (LIST \(\) "\/"|STATUS) "Recently Deleted"/);
      await a.ok('NOOP');

      // a delivery by another process reaches the session through the change poller
      await deliver(server, message('by deliver'));
      assert.match(await a.t.readUntil(/\* 1 FETCH [^\r\n]*\r\n/), /^\* 1 EXISTS\r\n\* 1 FETCH \(UID 2 FLAGS \(\)\)\r\n$/);

      assert.equal((await a.cmd('NOTIFY NONE')).status, 'OK');
      await b.ok('APPEND Work {5+}\r\nhello');
      await b.ok('CREATE Quiet');
      await quiet(a);
      assert.doesNotMatch(await a.ok('NOOP'), /STATUS|LIST/, 'NOTIFY NONE: nothing about other mailboxes');
    } finally {
      a.close();
      b.close();
    }
  });

  test('SELECTED-DELAYED keeps EXPUNGE for a command that allows it; IDLE gets the rest at once', async () => {
    const a = await Imap.open(server.ports.imap!);
    const b = await Imap.open(server.ports.imap!);
    try {
      await b.ok('CREATE Delay');
      await b.ok('APPEND Delay {5+}\r\nhello');
      await a.ok('ENABLE IMAP4rev2');
      await a.ok('SELECT Delay');
      await a.ok('NOTIFY SET (SELECTED-DELAYED (MessageNew MessageExpunge FlagChange)) (INBOXES (MessageNew MessageExpunge))');
      await b.ok('SELECT Delay');
      await b.ok('STORE 1 +FLAGS (\\Deleted)');
      assert.match(await a.t.readLine(), /^\* 1 FETCH \((UID 1 )?FLAGS \(\\Deleted\)\)\r\n$/);
      await b.ok('EXPUNGE');
      await quiet(a);
      assert.match(await a.ok('NOOP'), /^\* 1 EXPUNGE\r\n/);

      const tag = a.nextTag();
      a.t.send(`${tag} IDLE\r\n`);
      assert.equal(await a.t.readLine(), '+ idling\r\n');
      await b.ok('APPEND INBOX {5+}\r\nhello');
      assert.match(await a.t.readLine(), /^\* STATUS "INBOX" \(MESSAGES \d+ UIDNEXT \d+ UIDVALIDITY \d+\)\r\n$/);
      await b.ok('APPEND Delay {5+}\r\nhello');
      assert.equal(await a.t.readLine(), '* 1 EXISTS\r\n');
      await b.ok('STORE 1 +FLAGS (\\Deleted)');
      await b.ok('EXPUNGE');
      assert.match(await a.t.readUntil(/\* 1 EXPUNGE\r\n/), /^(\* 1 FETCH \((UID 2 )?FLAGS \(\\Deleted\)\)\r\n)?\* 1 EXPUNGE\r\n$/, 'during IDLE EXPUNGE is allowed');
      a.t.send('DONE\r\n');
      assert.match(await a.readTagged(tag).then((r) => r.text), new RegExp(`^${tag} OK `));
    } finally {
      a.close();
      b.close();
    }
  });

  test('notifications never split a command\'s responses', async () => {
    const a = await Imap.open(server.ports.imap!);
    const b = await Imap.open(server.ports.imap!);
    try {
      await b.ok('CREATE Busy');
      await a.ok('SELECT INBOX');
      await a.ok(`NOTIFY SET (PERSONAL ${EVENTS})`);
      const appends = (async () => {
        for (let i = 0; i < 20; i++) await b.ok('APPEND Busy {5+}\r\nhello');
      })();
      for (let i = 0; i < 20; i++) {
        const r = await a.cmd('LIST "" "*"');
        // every line is whole; a STATUS may come before the LIST lines or after the tagged OK, never inside one line
        for (const line of r.text.split('\r\n').filter(Boolean)) assert.match(line, /^(\* (LIST|STATUS) |t\d+ OK )/, line);
      }
      await appends;
    } finally {
      a.close();
      b.close();
    }
  });

  test('python imaplib: NOTIFY SET, then STATUS for an APPEND by another connection', async () => {
    const script = `
import imaplib, sys, time
a = imaplib.IMAP4('127.0.0.1', int(sys.argv[1])); a.login(sys.argv[2], sys.argv[3])
b = imaplib.IMAP4('127.0.0.1', int(sys.argv[1])); b.login(sys.argv[2], sys.argv[3])
b.create('PyBox')
typ, _ = a.xatom('NOTIFY', 'SET (PERSONAL (MessageNew MessageExpunge))')
assert typ == 'OK', typ
b.append('PyBox', None, None, b'Subject: x\\r\\n\\r\\nhi\\r\\n')
time.sleep(0.5)
a.noop()
print(a.untagged_responses.get('STATUS'))
`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile('python3', ['-c', script, String(server.ports.imap), USER, PASS], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
    );
    assert.match(out, /"PyBox" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+\)/);
  });
});
