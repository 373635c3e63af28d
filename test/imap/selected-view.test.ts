// The compact selected state (src/imap/selected.ts, message-columns.ts) at its edges, as raw
// transcripts: FETCH FLAGS answered from the view yet fresh, numbering while another session
// expunges (RFC 9051 7.5.1, RFC 2180 4.1.1), UID ranges overlapping or reversed, STATUS
// RECENT when part of the mailbox is claimed (RFC 3501 6.3.10), first UNSEEN.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningTestServer } from '../harness/server.js';
import { Imap, startImapServer } from './client.js';

function untagged(text: string): string {
  return text.replace(/t\d+ (OK|NO|BAD)[^\r\n]*\r\n$/, '');
}

async function append(c: Imap, box: string, n: number, flags = ''): Promise<void> {
  const msg = `From: bob@example.test\r\nSubject: m${n}\r\n\r\nbody ${n}\r\n`;
  await c.ok(`APPEND ${box} (${flags}) {${msg.length}+}\r\n${msg}`);
}

describe('IMAP selected state', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startImapServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('FETCH FLAGS shows another session\'s STORE at once; EXPUNGEs wait for an allowed moment and renumber', async () => {
    const c = await Imap.open(server.ports.imap!);
    const d = await Imap.open(server.ports.imap!);
    try {
      await c.ok('CREATE View');
      for (let n = 1; n <= 5; n++) await append(c, 'View', n, n === 3 ? '\\Seen' : '');
      assert.match(await c.ok('SELECT View'), /\* 5 EXISTS\r\n/);
      await d.ok('SELECT View');
      await d.ok('STORE 1 +FLAGS.SILENT (\\Flagged)');
      assert.match(untagged(await c.ok('FETCH 1 (FLAGS)')), /^\* 1 FETCH \(FLAGS \(\\Flagged \\Recent\)\)\r\n/);
      await d.ok('STORE 2,4 +FLAGS.SILENT (\\Deleted)');
      await d.ok('EXPUNGE');
      // during FETCH the numbering stays: all five answered, the EXPUNGEs come with the tagged OK
      const all = await c.ok('FETCH 1:5 (FLAGS)');
      assert.equal((all.match(/^\* \d FETCH/gm) ?? []).length, 5);
      assert.match(all, /\* 3 FETCH \(FLAGS \(\\Seen \\Recent\)\)\r\n/);
      assert.match(untagged(await c.ok('NOOP')), /^\* 2 EXPUNGE\r\n\* 3 EXPUNGE\r\n$/);
      assert.equal(untagged(await c.ok('UID FETCH 1:* (FLAGS)')).replace(/ \\Recent|\\Recent/g, ''), '* 1 FETCH (FLAGS (\\Flagged) UID 1)\r\n* 2 FETCH (FLAGS (\\Seen) UID 3)\r\n* 3 FETCH (FLAGS () UID 5)\r\n');
      assert.match((await c.cmd('FETCH 4 FLAGS')).tagged, /^BAD \[CLIENTBUG\] Invalid sequence number/);
    } finally {
      c.close();
      d.close();
    }
  });

  test('UID sets: reversed, overlapping and beyond the last UID name each message once, in order', async () => {
    const c = await Imap.open(server.ports.imap!);
    try {
      await c.ok('CREATE Ranges');
      for (let n = 1; n <= 6; n++) await append(c, 'Ranges', n);
      await c.ok('SELECT Ranges');
      await c.ok('STORE 2 +FLAGS.SILENT (\\Deleted)');
      await c.ok('EXPUNGE');
      const uids = (text: string) => [...text.matchAll(/UID (\d+)/g)].map((m) => Number(m[1]));
      assert.deepEqual(uids(await c.ok('UID FETCH 5:3,1,4:*,2 (UID)')), [1, 3, 4, 5, 6]);
      assert.deepEqual(uids(await c.ok('UID FETCH 100:* (UID)')), [6]); // RFC 9051 6.4.9: `*` is the largest UID
      assert.deepEqual(uids(await c.ok('UID FETCH 7:50 (UID)')), []);
      assert.match(untagged(await c.ok('FETCH 2 (UID FLAGS)')), /^\* 2 FETCH \(UID 3 FLAGS \(\\Recent\)\)\r\n$/);
    } finally {
      c.close();
    }
  });

  test('STATUS RECENT counts the unclaimed part of a mailbox; SELECT reports the first unseen (RFC 3501 6.3.10, 7.1)', async () => {
    const c = await Imap.open(server.ports.imap!);
    const d = await Imap.open(server.ports.imap!);
    try {
      await c.ok('CREATE Claims');
      await append(c, 'Claims', 1, '\\Seen');
      await append(c, 'Claims', 2);
      const sel = await c.ok('SELECT Claims'); // claims UIDs 1 and 2
      assert.match(sel, /\* 2 RECENT\r\n/);
      assert.match(sel, /\* OK \[UNSEEN 2\]/);
      await append(d, 'Claims', 3);
      await append(d, 'Claims', 4);
      assert.equal(untagged(await d.ok('STATUS Claims (MESSAGES RECENT)')), '* STATUS "Claims" (MESSAGES 4 RECENT 2)\r\n');
      // the selected session: its own two plus the two nobody claimed yet; then it claims them
      assert.match(await c.ok('STATUS Claims (RECENT)'), /^\* STATUS "Claims" \(RECENT 4\)\r\n\* 4 EXISTS\r\n\* 4 RECENT\r\n/);
      assert.equal(untagged(await d.ok('STATUS Claims (RECENT UNSEEN)')), '* STATUS "Claims" (RECENT 0 UNSEEN 3)\r\n');
      assert.match(await d.ok('EXAMINE Claims'), /\* 4 EXISTS\r\n\* 0 RECENT\r\n/);
    } finally {
      c.close();
      d.close();
    }
  });
});

describe('STATUS RECENT after the newest messages were expunged before this process started', () => {
  test('the unclaimed part is counted right, before and after a delivery and a claim (RFC 3501 6.3.10)', async () => {
    const first = await startImapServer();
    let second: RunningTestServer | undefined;
    try {
      const c = await Imap.open(first.ports.imap!);
      for (let n = 1; n <= 4; n++) await append(c, 'INBOX', n);
      await c.ok('SELECT INBOX');
      await c.ok('STORE 3:4 +FLAGS.SILENT (\\Deleted)');
      await c.ok('EXPUNGE');
      c.close();
      await first.stop();
      // a new process: nothing claimed yet, UIDNEXT-1 (4) above the last UID (2)
      second = await startServer({ dataDir: first.dataDir });
      const a = await Imap.open(second.ports.imap!);
      const b = await Imap.open(second.ports.imap!);
      try {
        const sel = await a.ok('SELECT INBOX');
        assert.match(sel, /\* 2 EXISTS\r\n/);
        assert.match(sel, /\* 2 RECENT\r\n/);
        for (let i = 0; i < 2; i++) assert.equal(untagged(await b.ok('STATUS INBOX (MESSAGES RECENT)')), '* STATUS "INBOX" (MESSAGES 2 RECENT 0)\r\n', `round ${i}`);
        await append(b, 'INBOX', 5);
        for (let i = 0; i < 2; i++) assert.equal(untagged(await b.ok('STATUS INBOX (MESSAGES RECENT)')), '* STATUS "INBOX" (MESSAGES 3 RECENT 1)\r\n', `round ${i}`);
        // the RECENT response counts all of the session's \Recent messages: the two of SELECT and the new one
        assert.match(await a.ok('NOOP'), /\* 3 EXISTS\r\n\* 3 RECENT\r\n/);
        assert.equal(untagged(await b.ok('STATUS INBOX (MESSAGES RECENT)')), '* STATUS "INBOX" (MESSAGES 3 RECENT 0)\r\n');
        await a.ok('STORE 3 +FLAGS.SILENT (\\Deleted)');
        await a.ok('EXPUNGE');
        assert.equal(untagged(await b.ok('STATUS INBOX (MESSAGES RECENT)')), '* STATUS "INBOX" (MESSAGES 2 RECENT 0)\r\n');
      } finally {
        a.close();
        b.close();
      }
    } finally {
      await second?.stop();
      await first.stop().catch(() => undefined);
    }
  });
});
