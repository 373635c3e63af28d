// Several sessions on one mailbox: changes by one reach the other only at moments RFC 9051 7.5.1
// allows (never during FETCH/STORE/SEARCH by sequence number), and IDLE pushes them within a second.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { deliver, Imap, message, startImapServer } from './client.js';

describe('IMAP concurrent sessions', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startImapServer();
    for (let i = 1; i <= 5; i++) await deliver(server, message(`m${i}`));
  });
  after(async () => {
    await server?.stop();
  });

  test('A expunges while B fetches, stores and searches by number: B gets EXPUNGE only at NOOP', async () => {
    const a = await Imap.open(server.ports.imap!);
    const b = await Imap.open(server.ports.imap!);
    await a.ok('SELECT INBOX');
    await b.ok('SELECT INBOX');
    await a.ok('STORE 2 +FLAGS.SILENT (\\Deleted)');
    assert.match(await a.ok('EXPUNGE'), /^\* 2 EXPUNGE\r\n/);
    await a.ok('STORE 1 +FLAGS.SILENT (\\Flagged)');
    // B still numbers 1..5 as UIDs 1..5: uid 2 is gone but its number must not shift yet
    const f = await b.ok('FETCH 1:5 (UID FLAGS)');
    assert.doesNotMatch(f, /\* \d+ EXPUNGE/);
    // RFC 2180 4.1.1: what the session still knows of the expunged message is served until B is told
    // (B is the second session: no \Recent; uid 2 shows the flags B last knew)
    assert.match(f, /^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\)\)\r\n\* 2 FETCH \(UID 2 FLAGS \(\)\)\r\n\* 3 FETCH \(UID 3 FLAGS \(\)\)\r\n\* 4 FETCH \(UID 4 FLAGS \(\)\)\r\n\* 5 FETCH \(UID 5 FLAGS \(\)\)\r\n/);
    // its content is gone (no other copy): no data, OK [EXPUNGEISSUED] (RFC 5530; Dovecot answers the same, never NO to FETCH), still no EXPUNGE
    const gone = await b.cmd('FETCH 2 BODY.PEEK[TEXT]');
    assert.equal(gone.tagged, 'OK [EXPUNGEISSUED] Some messages were already expunged');
    assert.doesNotMatch(gone.text, /\* \d+ (EXPUNGE|FETCH)/);
    // the rest of a range is still answered
    const some = await b.cmd('FETCH 1:3 BODY.PEEK[TEXT]');
    assert.equal(some.tagged, 'OK [EXPUNGEISSUED] Some messages were already expunged');
    assert.match(some.text, /^\* 1 FETCH \(BODY\[TEXT\] \{\d+\}\r\n[^]*\* 3 FETCH \(BODY\[TEXT\] /);
    assert.doesNotMatch(some.text, /\* 2 FETCH/);
    const s = await b.ok('STORE 3 +FLAGS (\\Answered)');
    assert.doesNotMatch(s, /EXPUNGE/);
    assert.match(s, /\* 3 FETCH \(FLAGS \(\\Answered( \\Recent)?\)\)\r\n/);
    assert.doesNotMatch(await b.ok('SEARCH ALL'), /EXPUNGE/);
    // A's flag change may be told during FETCH; the expunge waits for NOOP (or a UID command)
    const noop = await b.ok('NOOP');
    assert.match(noop, /\* 2 EXPUNGE\r\n/);
    assert.match(await b.ok('FETCH 2 (UID FLAGS)'), /^\* 2 FETCH \(UID 3 FLAGS \(\\Answered/);
    assert.match(await a.ok('UID FETCH 3 FLAGS'), /\\Answered/);
    a.close();
    b.close();
  });

  test('a UID command may carry the pending EXPUNGE; new mail appears as EXISTS', async () => {
    const a = await Imap.open(server.ports.imap!);
    const b = await Imap.open(server.ports.imap!);
    await a.ok('SELECT INBOX');
    await b.ok('SELECT INBOX');
    await a.ok('UID STORE 5 +FLAGS.SILENT (\\Deleted)');
    await a.ok('UID EXPUNGE 5');
    await deliver(server, message('late'));
    const r = await b.ok('UID FETCH 1:* (UID)');
    assert.match(r, /\* 4 EXPUNGE\r\n\* 4 EXISTS\r\n\* 1 RECENT\r\nt\d+ OK UID FETCH completed\r\n$/);
    assert.match(await b.ok('UID FETCH 6 (UID)'), /^\* 4 FETCH \(UID 6\)\r\n/);
    a.close();
    b.close();
  });

  test('a message A appended and expunged stays servable to B by its headers until B is told; SEARCH and FETCH FLAGS see A\'s flags', async () => {
    const a = await Imap.open(server.ports.imap!);
    const b = await Imap.open(server.ports.imap!);
    await a.ok('CREATE Race');
    for (const subject of ['one', 'two']) {
      const raw = message(subject);
      await a.ok(`APPEND Race {${raw.length}+}\r\n${raw}`);
    }
    await a.ok('SELECT Race');
    assert.match(await b.ok('SELECT Race'), /\* 2 EXISTS\r\n/);
    const raw = message('short-lived');
    assert.match(await a.ok(`APPEND Race {${raw.length}+}\r\n${raw}`), /APPENDUID \d+ 3\]/);
    assert.match(await b.ok('NOOP'), /\* 3 EXISTS\r\n/);
    await a.ok('UID STORE 3 +FLAGS.SILENT (\\Deleted)');
    await a.ok('STORE 1 +FLAGS.SILENT (\\Seen)');
    await a.ok('EXPUNGE');
    // B was not told: 3 is still its message 3, with its headers (RFC 2180 4.1.1), and the FETCH completes OK
    const f = await b.cmd('FETCH 2:3 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.equal(f.status, 'OK');
    assert.doesNotMatch(f.tagged, /EXPUNGEISSUED/);
    assert.match(f.text, /^\* 2 FETCH \(UID 2 BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: two\r\n\r\n\)\r\n\* 3 FETCH \(UID 3 BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: short-lived\r\n\r\n\)\r\n/);
    assert.doesNotMatch(f.text, /EXPUNGE\r\n/);
    // A's \Seen on 1 counts at once (no NOOP); the message expunged elsewhere is no hit; no EXPUNGE during SEARCH
    const unseen = await b.ok('SEARCH UNSEEN');
    assert.match(unseen, /^(\* 1 FETCH \(UID 1 FLAGS \(\\Seen\)\)\r\n)?\* SEARCH 2\r\n/);
    assert.doesNotMatch(unseen, /EXPUNGE/);
    assert.match(await b.ok('SEARCH SUBJECT short'), /\* SEARCH\r\n/);
    // FETCH FLAGS shows A's change too, and the expunged message's flags as B last knew them
    const flags = await b.ok('FETCH 1:3 (FLAGS)');
    assert.match(flags, /^\* 1 FETCH \(FLAGS \(\\Seen\)\)\r\n\* 2 FETCH \(FLAGS \(\)\)\r\n\* 3 FETCH \(FLAGS \(\)\)\r\n/);
    assert.doesNotMatch(flags, /EXPUNGE/);
    assert.match(await b.ok('NOOP'), /\* 3 EXPUNGE\r\n/);
    a.close();
    b.close();
  });

  test('IDLE: another session\'s APPEND, STORE and EXPUNGE arrive within one second', async () => {
    const a = await Imap.open(server.ports.imap!);
    const b = await Imap.open(server.ports.imap!);
    await a.ok('SELECT INBOX');
    const exists = Number(/\* (\d+) EXISTS/.exec(await b.ok('SELECT INBOX'))![1]);
    const tag = b.nextTag();
    b.t.send(`${tag} IDLE\r\n`);
    assert.equal(await b.t.readLine(), '+ idling\r\n');
    const raw = message('pushed');
    let start = Date.now();
    await a.ok(`APPEND INBOX {${raw.length}+}\r\n${raw}`);
    assert.equal(await b.t.readUntil(/\* \d+ EXISTS\r\n/), `* ${exists + 1} EXISTS\r\n`);
    assert.ok(Date.now() - start < 1000, `EXISTS after ${Date.now() - start} ms`);
    start = Date.now();
    await a.ok('STORE 1 +FLAGS.SILENT ($Pushed)');
    assert.match(await b.t.readUntil(/\* 1 FETCH [^\r]*\r\n/), /\* 1 FETCH \(UID 1 FLAGS \(.*\$Pushed.*\)\)\r\n$/);
    assert.ok(Date.now() - start < 1000, `FETCH after ${Date.now() - start} ms`);
    await a.ok('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await a.ok('EXPUNGE');
    assert.match(await b.t.readUntil('* 1 EXPUNGE\r\n'), /\* 1 EXPUNGE\r\n$/);
    b.t.send('DONE\r\n');
    assert.match((await b.readTagged(tag)).tagged, /^OK IDLE terminated/);
    a.close();
    b.close();
  });

  test('IDLE: a message from `mailroom deliver` (another process) arrives within one second', async () => {
    const b = await Imap.open(server.ports.imap!);
    const exists = Number(/\* (\d+) EXISTS/.exec(await b.ok('SELECT INBOX'))![1]);
    const tag = b.nextTag();
    b.t.send(`${tag} IDLE\r\n`);
    await b.t.readLine();
    await deliver(server, message('from cli'));
    const start = Date.now(); // the CLI has committed and exited
    assert.equal(await b.t.readUntil(/\* \d+ EXISTS\r\n/), `* ${exists + 1} EXISTS\r\n`);
    const ms = Date.now() - start;
    assert.ok(ms < 1000, `EXISTS ${ms} ms after delivery`);
    b.t.send('done\r\n');
    assert.equal((await b.readTagged(tag)).status, 'OK');
    const t2 = b.nextTag();
    b.t.send(`${t2} IDLE\r\n`);
    await b.t.readLine();
    b.t.send('NOPE\r\n');
    assert.equal((await b.readTagged(t2)).tagged, 'BAD [CLIENTBUG] Expected DONE to end IDLE');
    b.close();
  });
});
