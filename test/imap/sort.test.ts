// SORT over raw transcripts: the exact response lines, ESORT's ESEARCH, errors that leave
// the session usable, and a SORT that sees a flag change made by another session.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, startImapServer, USER } from './client.js';

const mail = (subject: string, date: string, body: string) =>
  `From: Bob <bob@example.test>\r\nTo: ${USER}\r\nSubject: ${subject}\r\nDate: ${date}\r\n\r\n${body}\r\n`;

async function append(c: Imap, raw: string): Promise<void> {
  await c.ok(`APPEND Sorted () {${Buffer.byteLength(raw)}+}\r\n${raw}`);
}

describe('IMAP SORT (raw transcripts)', () => {
  let server: RunningTestServer;
  let c: Imap;
  before(async () => {
    server = await startImapServer();
    c = await Imap.open(server.ports.imap!);
    await c.ok('CREATE Sorted');
    await append(c, mail('Re: beta', 'Tue, 2 Jan 2024 10:00:00 +0000', 'x'.repeat(30)));
    await append(c, mail('alpha', 'Wed, 3 Jan 2024 10:00:00 +0000', 'x'));
    await append(c, mail('[list] Fwd: Alpha', 'Mon, 1 Jan 2024 10:00:00 +0000', 'x'.repeat(10)));
    await c.ok('SELECT Sorted');
  });
  after(async () => {
    c?.close();
    await server?.stop();
  });

  test('SORT and UID SORT lines', async () => {
    assert.match(await c.ok('SORT (SUBJECT) UTF-8 ALL'), /^\* SORT 2 3 1\r\n/m);
    assert.match(await c.ok('SORT (REVERSE DATE) US-ASCII ALL'), /^\* SORT 2 1 3\r\n/m);
    assert.match(await c.ok('UID SORT (SIZE) UTF-8 NOT 2'), /^\* SORT 3 1\r\n/m);
    assert.match(await c.ok('SORT (SIZE) UTF-8 SUBJECT nothing'), /^\* SORT\r\n/m);
  });

  test('ESORT answers ESEARCH in sort order', async () => {
    const r = await c.cmd('SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL');
    assert.equal(r.status, 'OK');
    assert.match(r.text, /^\* ESEARCH \(TAG "t\d+"\) MIN 2 MAX 1 COUNT 3 ALL 2:3,1\r\n/m);
    assert.match(await c.ok('UID SORT RETURN (COUNT) (DATE) UTF-8 SUBJECT nothing'), /^\* ESEARCH \(TAG "t\d+"\) UID COUNT 0\r\n/m);
  });

  test('SORT sees flags another session just changed', async () => {
    const other = await Imap.open(server.ports.imap!);
    await other.ok('SELECT Sorted');
    await other.ok('STORE 1,3 +FLAGS (\\Flagged)');
    other.close();
    assert.match(await c.ok('SORT (REVERSE SIZE) UTF-8 FLAGGED'), /^\* SORT 1 3\r\n/m);
  });

  test('SORT by DATE, repeated (sent dates remembered), after an EXPUNGE and an APPEND, undated mail by INTERNALDATE', async () => {
    const d = await Imap.open(server.ports.imap!);
    try {
      await d.ok('CREATE Dated');
      const put = (raw: string, internal: string) => d.ok(`APPEND Dated () "${internal}" {${Buffer.byteLength(raw)}+}\r\n${raw}`);
      await put(mail('one', 'Tue, 2 Jan 2024 10:00:00 +0000', 'a'), '05-Jan-2024 00:00:00 +0000');
      await put(`From: Bob <bob@example.test>\r\nSubject: two, undated\r\n\r\nb\r\n`, '01-Jan-2024 12:00:00 +0000');
      await put(mail('three', 'Wed, 3 Jan 2024 10:00:00 +0000', 'c'), '04-Jan-2024 00:00:00 +0000');
      await put(mail('four', 'not a date', 'd'), '01-Jan-2024 11:00:00 +0000');
      await put(mail('five', 'Mon, 1 Jan 2024 10:00:00 +0000', 'e'), '06-Jan-2024 00:00:00 +0000');
      await d.ok('SELECT Dated');
      for (let i = 0; i < 2; i++) {
        assert.match(await d.ok('SORT (DATE) UTF-8 ALL'), /^\* SORT 5 4 2 1 3\r\n/m, `round ${i}`);
        assert.match(await d.ok('SORT (REVERSE DATE) UTF-8 ALL'), /^\* SORT 3 1 2 4 5\r\n/m, `round ${i}`);
        // the envelope path (SUBJECT as a second key) agrees where dates differ
        assert.match(await d.ok('SORT (DATE SUBJECT) UTF-8 ALL'), /^\* SORT 5 4 2 1 3\r\n/m, `round ${i}`);
        assert.match(await d.ok('SORT (ARRIVAL) UTF-8 ALL'), /^\* SORT 4 2 3 1 5\r\n/m, `round ${i}`);
      }
      await d.ok('STORE 1 +FLAGS.SILENT (\\Deleted)');
      await d.ok('EXPUNGE');
      await put(mail('six', 'Sun, 31 Dec 2023 10:00:00 +0000', 'f'), '07-Jan-2024 00:00:00 +0000');
      await d.ok('NOOP');
      // UIDs 2 3 4 5 6 are now sequence numbers 1 2 3 4 5
      assert.match(await d.ok('UID SORT (DATE) UTF-8 ALL'), /^\* SORT 6 5 4 2 3\r\n/m);
      assert.match(await d.ok('SORT (DATE) UTF-8 ALL'), /^\* SORT 5 4 3 1 2\r\n/m);
      assert.match(await d.ok('SORT (REVERSE DATE) UTF-8 NOT SUBJECT three'), /^\* SORT 1 3 4 5\r\n/m);
      // a search key that loads rows gives the same order
      assert.match(await d.ok('SORT (DATE) UTF-8 LARGER 1'), /^\* SORT 5 4 3 1 2\r\n/m);
    } finally {
      d.close();
    }
  });

  test('THREAD REFERENCES, repeated (thread headers remembered), after an APPEND and an EXPUNGE, undated mail by INTERNALDATE', async () => {
    const d = await Imap.open(server.ports.imap!);
    try {
      await d.ok('CREATE Threads');
      const put = (head: string, internal: string) => {
        const raw = `From: Bob <bob@example.test>\r\n${head}\r\n\r\nbody\r\n`;
        return d.ok(`APPEND Threads () "${internal}" {${Buffer.byteLength(raw)}+}\r\n${raw}`);
      };
      await put('Message-ID: <a@x.test>\r\nSubject: plan\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000', '09-Jan-2024 00:00:00 +0000');
      await put('Message-ID: <b@x.test>\r\nIn-Reply-To: <a@x.test>\r\nSubject: Re: plan\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000', '09-Jan-2024 00:00:00 +0000');
      await put('Message-ID: <c@x.test>\r\nSubject: other', '01-Jan-2024 12:00:00 +0000');
      await put('Message-ID: <d@x.test>\r\nReferences: <a@x.test> <b@x.test>\r\nSubject: Re: plan\r\nDate: Thu, 4 Jan 2024 10:00:00 +0000', '09-Jan-2024 00:00:00 +0000');
      await put('Message-ID: <e@x.test>\r\nSubject: third\r\nDate: Mon, 1 Jan 2024 14:00:00 +0000', '09-Jan-2024 00:00:00 +0000');
      await d.ok('SELECT Threads');
      for (let i = 0; i < 2; i++) assert.match(await d.ok('THREAD REFERENCES UTF-8 ALL'), /^\* THREAD \(1 2 4\)\(3\)\(5\)\r\n/m, `round ${i}`);
      await put('Message-ID: <f@x.test>\r\nReferences: <c@x.test>\r\nSubject: Re: other\r\nDate: Fri, 5 Jan 2024 10:00:00 +0000', '09-Jan-2024 00:00:00 +0000');
      await d.ok('NOOP');
      assert.match(await d.ok('THREAD REFERENCES UTF-8 ALL'), /^\* THREAD \(1 2 4\)\(3 6\)\(5\)\r\n/m);
      await d.ok('STORE 2 +FLAGS.SILENT (\\Deleted)');
      await d.ok('EXPUNGE');
      // <b> is now a dummy with one child: 4 goes straight under 1
      assert.match(await d.ok('UID THREAD REFERENCES UTF-8 ALL'), /^\* THREAD \(1 4\)\(3 6\)\(5\)\r\n/m);
      assert.match(await d.ok('THREAD REFERENCES UTF-8 ALL'), /^\* THREAD \(1 3\)\(2 5\)\(4\)\r\n/m);
      // a search key that loads rows gives the same threads
      assert.match(await d.ok('UID THREAD REFERENCES UTF-8 LARGER 1'), /^\* THREAD \(1 4\)\(3 6\)\(5\)\r\n/m);
    } finally {
      d.close();
    }
  });

  test('THREAD and UID THREAD lines, errors keep the session', async () => {
    assert.match(await c.ok('THREAD ORDEREDSUBJECT UTF-8 ALL'), /^\* THREAD \(3 2\)\(1\)\r\n/m);
    // no Message-ID or References here: REFERENCES puts the Fwd: under the original by subject
    assert.match(await c.ok('UID THREAD REFERENCES US-ASCII ALL'), /^\* THREAD \(1\)\(2 3\)\r\n/m);
    assert.match(await c.ok('THREAD REFERENCES UTF-8 SUBJECT nothing'), /^\* THREAD\r\n/m);
    assert.equal((await c.cmd('THREAD NOSUCH UTF-8 ALL')).status, 'BAD', 'unknown algorithm');
    // REFS: no subject grouping, the thread with the newest message last
    assert.match(await c.ok('UID THREAD REFS US-ASCII ALL'), /^\* THREAD \(3\)\(1\)\(2\)\r\n/m);
    assert.match((await c.cmd('THREAD REFERENCES KOI8-R ALL')).tagged, /^NO \[BADCHARSET/);
    assert.match(await c.ok('THREAD ORDEREDSUBJECT UTF-8 ALL'), /^\* THREAD /m);
  });

  test('bad SORT commands get BAD or NO [BADCHARSET] and the session goes on', async () => {
    assert.equal((await c.cmd('SORT (NOSUCH) UTF-8 ALL')).status, 'BAD');
    assert.equal((await c.cmd('SORT (REVERSE) UTF-8 ALL')).status, 'BAD');
    assert.equal((await c.cmd('SORT (DATE) ALL')).status, 'NO', 'ALL read as the charset');
    const bad = await c.cmd('SORT (DATE) KOI8-R ALL');
    assert.match(bad.tagged, /^NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/);
    assert.equal((await c.cmd('SORT RETURN (SAVE) (DATE) UTF-8 ALL')).status, 'BAD');
    await c.ok('UNSELECT');
    assert.equal((await c.cmd('SORT (DATE) UTF-8 ALL')).status, 'BAD', 'no mailbox selected');
    await c.ok('SELECT Sorted');
    assert.match(await c.ok('SORT (ARRIVAL) UTF-8 ALL'), /^\* SORT 1 2 3\r\n/m);
  });
});
