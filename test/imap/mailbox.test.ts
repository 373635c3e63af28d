// Mailbox commands over raw transcripts: SELECT/EXAMINE data, CREATE/DELETE/RENAME (INBOX and
// parents), SUBSCRIBE, LIST (patterns, LIST-EXTENDED, RETURN STATUS), LSUB, STATUS, names.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { deliver, Imap, message, startImapServer } from './client.js';

describe('IMAP mailbox commands', () => {
  let server: RunningTestServer;
  let c: Imap;
  before(async () => {
    server = await startImapServer();
    await deliver(server, message('first'));
    await deliver(server, message('second'));
    c = await Imap.open(server.ports.imap!);
  });
  after(async () => {
    c?.close();
    await server?.stop();
  });

  test('SELECT (rev1): EXISTS, RECENT, FLAGS, PERMANENTFLAGS with \\*, UNSEEN, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, MAILBOXID, READ-WRITE', async () => {
    const text = await c.ok('SELECT INBOX');
    assert.match(
      text,
      /^\* 2 EXISTS\r\n\* 2 RECENT\r\n\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft\)\r\n\* OK \[PERMANENTFLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\\*\)\] Flags permitted\r\n\* OK \[UNSEEN 1\] First unseen\r\n\* OK \[UIDVALIDITY \d+\] UIDs valid\r\n\* OK \[UIDNEXT 3\] Predicted next UID\r\n\* OK \[HIGHESTMODSEQ \d+\] Highest\r\n\* OK \[MAILBOXID \(F\d+-\d+\)\] Mailbox id\r\n\* OK \[URLMECH INTERNAL\] URLAUTH mechanisms\r\nt\d+ OK \[READ-WRITE\] SELECT completed\r\n$/,
    );
    // a second session does not see them as \Recent any more (the first session claimed them)
    const d = await Imap.open(server.ports.imap!);
    assert.match(await d.ok('EXAMINE INBOX'), /\* 0 RECENT\r\n[\s\S]*\* OK \[PERMANENTFLAGS \(\)\][\s\S]*OK \[READ-ONLY\] EXAMINE completed/);
    assert.equal((await d.cmd('STORE 1 +FLAGS (\\Seen)')).tagged, 'NO [READ-ONLY] Mailbox is read-only (EXAMINE)');
    d.close();
  });

  test('SELECT after ENABLE IMAP4rev2: no RECENT, a LIST response, CLOSED for the previous mailbox', async () => {
    const d = await Imap.open(server.ports.imap!);
    await d.ok('ENABLE IMAP4rev2');
    const text = await d.ok('SELECT INBOX');
    assert.doesNotMatch(text, /RECENT|UNSEEN/);
    assert.match(text, /\* LIST \(\) "\/" "INBOX"\r\n/);
    assert.match(await d.ok('SELECT Sent'), /^\* OK \[CLOSED\] Previous mailbox closed\r\n\* 0 EXISTS/);
    assert.equal((await d.cmd('SELECT nosuch')).tagged, 'NO [NONEXISTENT] Mailbox does not exist: nosuch');
    assert.match((await d.cmd('FETCH 1 FLAGS')).tagged, /^BAD \[CLIENTBUG\] FETCH is not allowed without a selected mailbox/);
    d.close();
  });

  test('CREATE makes parents; ALREADYEXISTS; invalid names refused with a reason', async () => {
    await c.ok('CREATE Projects/2024/Q1');
    assert.match(await c.ok('LIST "" "Projects*"'), /\* LIST \(\\HasChildren\) "\/" "Projects"\r\n\* LIST \(\\HasChildren\) "\/" "Projects\/2024"\r\n\* LIST \(\\HasNoChildren\) "\/" "Projects\/2024\/Q1"\r\n/);
    assert.equal((await c.cmd('CREATE Projects')).tagged, 'NO [ALREADYEXISTS] Mailbox already exists: Projects');
    assert.equal((await c.cmd('CREATE inbox')).tagged, 'NO [ALREADYEXISTS] INBOX always exists');
    assert.equal((await c.cmd('CREATE "a/../b"')).tagged, 'NO [CANNOT] Mailbox name has a ".." level');
    assert.equal((await c.cmd('CREATE "/"')).tagged, 'NO [CANNOT] Mailbox name is empty');
    assert.equal((await c.cmd('CREATE "a\\\\b%"')).tagged, 'NO [CANNOT] Mailbox name contains a wildcard character (% or *)');
    assert.match((await c.cmd(`CREATE ${'x'.repeat(300)}`)).tagged, /^NO \[CANNOT\] Mailbox name level is longer than 255 bytes/);
    assert.equal((await c.cmd('CREATE "&Jjo"')).tagged, 'NO [CANNOT] Mailbox name is not valid modified UTF-7'); // RFC 9051 7.1.3: no BAD
  });

  test('mailbox names: modified UTF-7 for rev1, UTF-8 after ENABLE IMAP4rev2', async () => {
    await c.ok('CREATE "Entw&APw-rfe"');
    assert.match(await c.ok('LIST "" "Entw*"'), /\* LIST \(\\HasNoChildren\) "\/" "Entw&APw-rfe"\r\n/);
    const d = await Imap.open(server.ports.imap!);
    await d.ok('ENABLE IMAP4rev2');
    assert.match(await d.ok('LIST "" "Entw*"'), /\* LIST \(\\HasNoChildren\) "\/" "Entwürfe"\r\n/);
    await d.ok('SELECT "Entwürfe"');
    d.close();
  });

  test('RENAME moves children; RENAME INBOX moves its messages and INBOX stays', async () => {
    await c.ok('CREATE Old/Child');
    await c.ok('RENAME Old New');
    const list = await c.ok('LIST "" "*"');
    assert.match(list, /"New"\r\n[\s\S]*"New\/Child"\r\n/);
    assert.doesNotMatch(list, /"Old/);
    assert.equal((await c.cmd('RENAME Nope Other')).tagged, 'NO [NONEXISTENT] Mailbox does not exist: Nope');
    assert.equal((await c.cmd('RENAME New Sent')).tagged, 'NO [ALREADYEXISTS] Mailbox already exists: Sent');
    const d = await Imap.open(server.ports.imap!);
    await deliver(server, message('third'));
    await d.ok('RENAME INBOX "Old Inbox"');
    assert.match(await d.ok('STATUS INBOX (MESSAGES)'), /\* STATUS "INBOX" \(MESSAGES 0\)\r\n/);
    assert.match(await d.ok('STATUS "Old Inbox" (MESSAGES UIDNEXT)'), /\* STATUS "Old Inbox" \(MESSAGES 3 UIDNEXT 4\)\r\n/);
    await d.ok('RENAME "Old Inbox" "Archive/2023"');
    d.close();
  });

  test('DELETE: INBOX refused, parent with children keeps the children, missing is NONEXISTENT', async () => {
    assert.equal((await c.cmd('DELETE INBOX')).tagged, 'NO [CANNOT] INBOX cannot be deleted');
    await c.ok('DELETE Projects/2024');
    const list = await c.ok('LIST "" "Projects/%"');
    assert.match(list, /\* LIST \(\\Noselect \\HasChildren\) "\/" "Projects\/2024"\r\n/);
    assert.equal((await c.cmd('DELETE Projects/2024')).tagged, 'NO [NONEXISTENT] Mailbox does not exist: Projects/2024');
  });

  test('LIST: the delimiter, %, special-use, LIST-EXTENDED selection and return options, RETURN STATUS', async () => {
    assert.match(await c.ok('LIST "" ""'), /^\* LIST \(\\Noselect\) "\/" ""\r\n/);
    const top = await c.ok('LIST "" %');
    assert.match(top, /\* LIST \(\\HasNoChildren\) "\/" "INBOX"\r\n/);
    assert.match(top, /\* LIST \(\\HasNoChildren \\Sent\) "\/" "Sent"\r\n/);
    assert.doesNotMatch(top, /Projects\/2024/);
    await c.ok('SUBSCRIBE Sent');
    await c.ok('SUBSCRIBE Projects/2024/Q1');
    await c.ok('SUBSCRIBE Gone');
    const subs = await c.ok('LIST (SUBSCRIBED) "" "*"');
    assert.match(subs, /\* LIST \(\\HasNoChildren \\Sent \\Subscribed\) "\/" "Sent"\r\n/);
    assert.match(subs, /\* LIST \(\\NonExistent \\HasNoChildren \\Subscribed\) "\/" "Gone"\r\n/);
    const rec = await c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"');
    assert.match(rec, /\* LIST \(\\HasChildren\) "\/" "Projects" \("CHILDINFO" \("SUBSCRIBED"\)\)\r\n/);
    const special = await c.ok('LIST (SPECIAL-USE) "" "*" RETURN (SPECIAL-USE)');
    assert.match(special, /"Sent"/);
    assert.doesNotMatch(special, /"INBOX"/);
    const status = await c.ok('LIST "" (INBOX Sent) RETURN (SUBSCRIBED CHILDREN STATUS (MESSAGES UNSEEN))');
    assert.match(status, /\* LIST \(\\HasNoChildren \\Subscribed\) "\/" "INBOX"\r\n\* STATUS "INBOX" \(MESSAGES \d+ UNSEEN \d+\)\r\n\* LIST \(\\HasNoChildren \\Sent \\Subscribed\) "\/" "Sent"\r\n\* STATUS "Sent" \(MESSAGES 0 UNSEEN 0\)\r\n/);
    assert.match((await c.cmd('LIST (RECURSIVEMATCH) "" "*"')).tagged, /^BAD RECURSIVEMATCH needs another selection option/);
    assert.match((await c.cmd('LIST (BOGUS) "" "*"')).tagged, /^BAD Unknown LIST selection option BOGUS/);
    assert.match(await c.ok('LIST (REMOTE) "" "INBOX"'), /"INBOX"/);
    const lsub = await c.ok('LSUB "" "*"');
    assert.match(lsub, /\* LSUB \(\) "\/" "Sent"\r\n/);
    assert.match(lsub, /\* LSUB \(\\Noselect\) "\/" "Gone"\r\n/);
    await c.ok('UNSUBSCRIBE Gone');
    assert.doesNotMatch(await c.ok('LSUB "" "*"'), /Gone/);
  });

  test('STATUS: every item; unknown item is BAD; missing mailbox is NONEXISTENT', async () => {
    await deliver(server, message('status'));
    const text = await c.ok('STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT APPENDLIMIT)');
    assert.match(text, /^\* STATUS "INBOX" \(MESSAGES 1 UIDNEXT 5 UIDVALIDITY \d+ UNSEEN 1 DELETED 0 SIZE \d+ RECENT 1 APPENDLIMIT \d+\)\r\n/);
    assert.match((await c.cmd('STATUS INBOX (BOGUS)')).tagged, /^BAD Unknown STATUS item BOGUS/);
    assert.equal((await c.cmd('STATUS Nope (MESSAGES)')).tagged, 'NO [NONEXISTENT] Mailbox does not exist: Nope');
  });

  test('STATUS counts follow APPEND, STORE and EXPUNGE, as another session sees them', async () => {
    await c.ok('CREATE Counts');
    const raws = [message('keyword'), message('seen', 'seen body'), message('plain', 'a longer plain body')];
    const flags = ['(Seen)', '(\\Seen)', '()'];
    for (const [i, raw] of raws.entries()) assert.match((await c.cmd(`APPEND Counts ${flags[i]} {${Buffer.byteLength(raw)}+}\r\n${raw}`)).tagged, /^OK /);
    const size = raws.map((r) => Buffer.byteLength(r));
    const items = 'STATUS Counts (MESSAGES UNSEEN DELETED SIZE)';
    const d = await Imap.open(server.ports.imap!);
    // the keyword Seen is not \Seen
    assert.match(await d.ok(items), new RegExp(`^\\* STATUS "Counts" \\(MESSAGES 3 UNSEEN 2 DELETED 0 SIZE ${size[0] + size[1] + size[2]}\\)\r\n`));
    await c.ok('SELECT Counts');
    await c.ok('STORE 1 +FLAGS.SILENT (\\Seen \\Deleted)');
    await c.ok('STORE 3 +FLAGS.SILENT (\\Seen)');
    await c.ok('STORE 2 -FLAGS.SILENT (\\Seen)');
    assert.match(await d.ok(items), new RegExp(`^\\* STATUS "Counts" \\(MESSAGES 3 UNSEEN 1 DELETED 1 SIZE ${size[0] + size[1] + size[2]}\\)\r\n`));
    assert.match(await c.ok('EXPUNGE'), /^\* 1 EXPUNGE\r\n/);
    assert.match(await d.ok(items), new RegExp(`^\\* STATUS "Counts" \\(MESSAGES 2 UNSEEN 1 DELETED 0 SIZE ${size[1] + size[2]}\\)\r\n`));
    assert.match(await c.ok('STATUS Counts (UNSEEN MESSAGES)'), /\* STATUS "Counts" \(UNSEEN 1 MESSAGES 2\)\r\n/);
    await c.ok('UNSELECT');
    d.close();
  });
});
