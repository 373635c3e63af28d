// CONDSTORE and QRESYNC (RFC 7162) over raw transcripts: exact syntax of HIGHESTMODSEQ,
// STATUS, MODSEQ, CHANGEDSINCE, UNCHANGEDSINCE/MODIFIED, SEARCH MODSEQ, ENABLE, unsolicited
// FETCH with MODSEQ, SELECT (QRESYNC ...) with VANISHED (EARLIER), UID FETCH ... VANISHED,
// VANISHED instead of EXPUNGE (EXPUNGE, MOVE, NOOP, IDLE) and CLOSED.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, message, startImapServer } from './client.js';

/** The number in `[HIGHESTMODSEQ n]` of a response. */
function hms(text: string): number {
  const m = /\[HIGHESTMODSEQ (\d+)\]/.exec(text);
  assert.ok(m, `no HIGHESTMODSEQ in ${text}`);
  return Number(m[1]);
}

/** The untagged lines of a response (tagged line dropped), for exact comparisons. */
function untagged(text: string): string[] {
  return text.split('\r\n').filter((l) => l.startsWith('* '));
}

describe('IMAP CONDSTORE/QRESYNC (RFC 7162)', () => {
  let server: RunningTestServer;
  let n = 0;
  before(async () => {
    server = await startImapServer();
  });
  after(async () => {
    await server?.stop();
  });

  /** A fresh mailbox with `count` messages, selected by a new connection (plain SELECT). */
  async function box(count: number): Promise<{ c: Imap; name: string; uidValidity: number; modSeq: number }> {
    const c = await Imap.open(server.ports.imap!);
    const name = `Box${++n}`;
    await c.ok(`CREATE ${name}`);
    for (let i = 0; i < count; i++) {
      const raw = message(`m${n}-${i}`);
      await c.ok(`APPEND ${name} {${raw.length}+}\r\n${raw}`);
    }
    const sel = await c.ok(`SELECT ${name}`);
    return { c, name, uidValidity: Number(/UIDVALIDITY (\d+)/.exec(sel)![1]), modSeq: hms(sel) };
  }

  test('CAPABILITY lists CONDSTORE and QRESYNC; ENABLE answers only what it newly enabled', async () => {
    const c = await Imap.open(server.ports.imap!);
    assert.match(await c.ok('CAPABILITY'), /^\* CAPABILITY .* CONDSTORE QRESYNC /);
    assert.deepEqual(untagged(await c.ok('ENABLE CONDSTORE')), ['* ENABLED CONDSTORE']);
    assert.deepEqual(untagged(await c.ok('ENABLE QRESYNC CONDSTORE X-UNKNOWN')), ['* ENABLED QRESYNC']);
    assert.deepEqual(untagged(await c.ok('ENABLE QRESYNC')), ['* ENABLED']);
    c.close();
  });

  test('SELECT/EXAMINE send HIGHESTMODSEQ (never NOMODSEQ); STATUS HIGHESTMODSEQ; an empty mailbox has one too', async () => {
    const { c, name, modSeq } = await box(3);
    assert.ok(modSeq >= 4, `3 appends after creation: ${modSeq}`);
    assert.equal(hms(await c.ok(`EXAMINE ${name} (CONDSTORE)`)), modSeq);
    assert.deepEqual(untagged(await c.ok(`STATUS ${name} (HIGHESTMODSEQ MESSAGES)`)), [`* STATUS "${name}" (HIGHESTMODSEQ ${modSeq} MESSAGES 3)`]);
    await c.ok('CREATE Empty1');
    const empty = await c.ok('SELECT Empty1');
    assert.equal(hms(empty), 1);
    assert.doesNotMatch(empty, /NOMODSEQ/);
    assert.match((await c.cmd(`SELECT ${name} (FOO)`)).tagged, /^BAD Unknown select parameter FOO/);
    c.close();
  });

  test('FETCH MODSEQ and CHANGEDSINCE; STORE UNCHANGEDSINCE with MODIFIED; FETCH MODSEQ follows every flag change once enabled', async () => {
    const { c, modSeq: m0 } = await box(4);
    // Before CONDSTORE is enabled, STORE answers as RFC 9051 says
    assert.deepEqual(untagged(await c.ok('STORE 1 +FLAGS (\\Seen)')), ['* 1 FETCH (FLAGS (\\Seen \\Recent))']);
    const m1 = m0 + 1;
    assert.deepEqual(untagged(await c.ok('FETCH 1:2 (MODSEQ)')), [`* 1 FETCH (MODSEQ (${m1}))`, `* 2 FETCH (MODSEQ (${m0 - 2}))`]);
    // FETCH MODSEQ enabled CONDSTORE: STORE now answers with UID and MODSEQ
    assert.deepEqual(untagged(await c.ok('STORE 2 +FLAGS ($Work)')), ['* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)', '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] Flags permitted', `* 2 FETCH (FLAGS ($Work \\Recent) UID 2 MODSEQ (${m1 + 1}))`]);
    assert.deepEqual(untagged(await c.ok(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${m0})`)), [`* 1 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (${m1}))`, `* 2 FETCH (FLAGS ($Work \\Recent) MODSEQ (${m1 + 1}))`]);
    assert.deepEqual(untagged(await c.ok(`UID FETCH 2:* (FLAGS) (CHANGEDSINCE ${m1})`)), [`* 2 FETCH (FLAGS ($Work \\Recent) UID 2 MODSEQ (${m1 + 1}))`]);
    assert.deepEqual(untagged(await c.ok(`FETCH 1:* (UID) (CHANGEDSINCE ${m1 + 1})`)), []);
    assert.match((await c.cmd('FETCH 9 (FLAGS) (CHANGEDSINCE 1)')).tagged, /^BAD \[CLIENTBUG\] Invalid sequence number/);
    // UNCHANGEDSINCE: 2 changed after m1, so it fails; the others succeed, with FETCH MODSEQ even for .SILENT
    const r = await c.cmd(`STORE 1:3 (UNCHANGEDSINCE ${m1}) +FLAGS.SILENT (\\Flagged)`);
    assert.deepEqual(untagged(r.text), [`* 1 FETCH (UID 1 MODSEQ (${m1 + 2}))`, `* 3 FETCH (UID 3 MODSEQ (${m1 + 2}))`]);
    assert.equal(r.tagged, 'OK [MODIFIED 2] Conditional STORE failed');
    const u = await c.cmd('UID STORE 2,4 (UNCHANGEDSINCE 0) FLAGS (\\Answered)'); // RFC 7162 3.1.3: 0 always fails
    assert.deepEqual([untagged(u.text), u.tagged], [[], 'OK [MODIFIED 2,4] Conditional STORE failed']);
    const ok = await c.cmd(`UID STORE 4 (UNCHANGEDSINCE ${m1 + 2}) -FLAGS (\\Seen)`); // passes, changes nothing
    assert.deepEqual([untagged(ok.text), ok.tagged], [[`* 4 FETCH (FLAGS (\\Recent) UID 4 MODSEQ (${m0}))`], 'OK UID STORE completed']);
    c.close();
  });

  test('unsolicited FETCH carries MODSEQ once enabled; SEARCH MODSEQ answers the highest MODSEQ (SEARCH and ESEARCH)', async () => {
    const { c, name, modSeq: m0 } = await box(3);
    const other = await Imap.open(server.ports.imap!);
    await other.ok(`SELECT ${name}`);
    await other.ok('STORE 3 +FLAGS (\\Flagged)');
    assert.deepEqual(untagged(await c.ok('NOOP')), ['* 3 FETCH (UID 3 FLAGS (\\Flagged \\Recent))'], 'CONDSTORE not yet enabled');
    await c.ok('ENABLE CONDSTORE');
    await other.ok('STORE 2 +FLAGS (\\Seen)');
    assert.deepEqual(untagged(await c.ok('NOOP')), [`* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent) MODSEQ (${m0 + 2}))`]);
    assert.deepEqual(untagged(await c.ok(`SEARCH MODSEQ ${m0 + 1}`)), [`* SEARCH 2 3 (MODSEQ ${m0 + 2})`]);
    assert.deepEqual(untagged(await c.ok(`UID SEARCH OR MODSEQ "/flags/\\\\seen" all ${m0 + 2} SEEN`)), [`* SEARCH 2 (MODSEQ ${m0 + 2})`]);
    assert.deepEqual(untagged(await c.ok(`SEARCH MODSEQ ${m0 + 9}`)), ['* SEARCH']);
    const tag = c.nextTag();
    c.t.send(`${tag} SEARCH RETURN (MIN COUNT) MODSEQ 1\r\n`);
    assert.deepEqual(untagged((await c.readTagged(tag)).text), [`* ESEARCH (TAG "${tag}") MIN 1 COUNT 3 MODSEQ ${m0 + 2}`]);
    const t2 = c.nextTag();
    c.t.send(`${t2} SEARCH RETURN (MIN) MODSEQ 1\r\n`);
    assert.deepEqual(untagged((await c.readTagged(t2)).text), [`* ESEARCH (TAG "${t2}") MIN 1 MODSEQ ${m0 - 2}`]);
    c.close();
    other.close();
  });

  test('QRESYNC: needs ENABLE; SELECT (QRESYNC ...) sends VANISHED (EARLIER) and the changed flags; nothing changed sends neither', async () => {
    const { c, name, uidValidity, modSeq: m0 } = await box(6);
    c.close();
    const other = await Imap.open(server.ports.imap!);
    await other.ok(`SELECT ${name}`);
    await other.ok('STORE 2 +FLAGS (\\Seen)');
    await other.ok('STORE 3,5 +FLAGS (\\Deleted)');
    await other.ok('EXPUNGE');
    const q = await Imap.open(server.ports.imap!);
    assert.equal((await q.cmd(`SELECT ${name} (QRESYNC (${uidValidity} ${m0}))`)).tagged, 'BAD [CLIENTBUG] QRESYNC parameter without ENABLE QRESYNC');
    await q.ok('ENABLE QRESYNC');
    const sel = await q.ok(`SELECT ${name} (QRESYNC (${uidValidity} ${m0}))`);
    const h = hms(sel);
    assert.equal(h, m0 + 3);
    const lines = untagged(sel);
    assert.deepEqual(lines.slice(lines.indexOf('* OK [MAILBOXID') + 1).filter((l) => /VANISHED|FETCH/.test(l)), [
      '* VANISHED (EARLIER) 3,5',
      `* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (${m0 + 1}))`,
    ]);
    assert.match(sel, /^\* 4 EXISTS\r\n/m);
    // known UIDs limit what is reported
    const known = await q.ok(`SELECT ${name} (QRESYNC (${uidValidity} ${m0} 4:6))`);
    assert.match(known, /^\* OK \[CLOSED\] Previous mailbox closed\r\n/);
    assert.deepEqual(untagged(known).filter((l) => /VANISHED|FETCH/.test(l)), ['* VANISHED (EARLIER) 5']);
    // seq-match data is accepted
    assert.equal(hms(await q.ok(`EXAMINE ${name} (QRESYNC (${uidValidity} ${m0} 1:6 (1:2 1:2)))`)), h);
    // nothing changed since h: only the usual SELECT lines
    const same = await q.ok(`SELECT ${name} (QRESYNC (${uidValidity} ${h}))`);
    assert.deepEqual(untagged(same).filter((l) => /VANISHED|FETCH/.test(l)), []);
    assert.ok(untagged(same).length <= 11, same); // CLOSED, EXISTS, RECENT, FLAGS and the OK codes (URLMECH among them)
    // another UIDVALIDITY: a plain SELECT
    assert.deepEqual(untagged(await q.ok(`SELECT ${name} (QRESYNC (${uidValidity + 1} ${m0}))`)).filter((l) => /VANISHED|FETCH/.test(l)), []);
    // UID FETCH ... (CHANGEDSINCE n VANISHED)
    assert.deepEqual(untagged(await q.ok(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${m0} VANISHED)`)), ['* VANISHED (EARLIER) 3,5', `* 2 FETCH (FLAGS (\\Seen) UID 2 MODSEQ (${m0 + 1}))`]);
    assert.deepEqual(untagged(await q.ok(`UID FETCH 4:* (FLAGS) (CHANGEDSINCE ${m0} VANISHED)`)), ['* VANISHED (EARLIER) 5']);
    assert.match((await q.cmd(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${m0} VANISHED)`)).tagged, /^BAD VANISHED requires UID FETCH/);
    const plain = await Imap.open(server.ports.imap!);
    await plain.ok(`SELECT ${name}`);
    assert.match((await plain.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${m0} VANISHED)`)).tagged, /^BAD VANISHED needs ENABLE QRESYNC/);
    plain.close();
    q.close();
    other.close();
  });

  test('QRESYNC: VANISHED instead of EXPUNGE after EXPUNGE, UID EXPUNGE, MOVE, NOOP and in IDLE; tagged OK has HIGHESTMODSEQ', async () => {
    const { c, name } = await box(8);
    await c.ok('ENABLE QRESYNC');
    await c.ok('STORE 2,3,5 +FLAGS.SILENT (\\Deleted)');
    const ex = await c.cmd('EXPUNGE');
    assert.deepEqual(untagged(ex.text), ['* VANISHED 2:3,5']);
    const h = hms(ex.tagged);
    const uex = await c.cmd('UID EXPUNGE 1:4'); // nothing \Deleted there any more
    assert.deepEqual([untagged(uex.text), uex.tagged], [[], `OK [HIGHESTMODSEQ ${h}] UID EXPUNGE completed`]);
    await c.ok('CREATE Moved' + n);
    const mv = await c.cmd(`UID MOVE 6 Moved${n}`);
    assert.deepEqual(untagged(mv.text).slice(1), ['* VANISHED 6']);
    assert.match(mv.tagged, /^OK \[HIGHESTMODSEQ \d+\]/);
    const other = await Imap.open(server.ports.imap!);
    await other.ok(`SELECT ${name}`);
    await other.ok('UID STORE 7 +FLAGS.SILENT (\\Deleted)');
    await other.ok('EXPUNGE');
    assert.deepEqual(untagged(await c.ok('NOOP')), ['* VANISHED 7']);
    // IDLE push
    const tag = c.nextTag();
    c.t.send(`${tag} IDLE\r\n`);
    await c.t.readUntil('+ idling\r\n');
    await other.ok('UID STORE 8 +FLAGS.SILENT (\\Deleted)');
    await other.ok('EXPUNGE');
    assert.match(await c.t.readUntil('* VANISHED 8\r\n'), /^(\* 3 FETCH \(UID 8 FLAGS \(\\Deleted \\Recent\) MODSEQ \(\d+\)\)\r\n)?\* VANISHED 8\r\n$/);
    c.t.send('DONE\r\n');
    await c.readTagged(tag);
    // while a FETCH by number runs, the expunge waits, and so do flag FETCHes with a higher MODSEQ
    await other.ok('UID STORE 1 +FLAGS.SILENT (\\Deleted)');
    await other.ok('EXPUNGE');
    await other.ok('UID STORE 4 +FLAGS (\\Flagged)');
    assert.deepEqual(untagged(await c.ok('FETCH 1 (UID)')), ['* 1 FETCH (UID 1)']);
    const after = untagged(await c.ok('NOOP'));
    assert.equal(after[0], '* VANISHED 1');
    assert.match(after[1], /^\* 1 FETCH \(UID 4 FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)$/);
    c.close();
    other.close();
  });

  test('CLOSED on a reselect only with QRESYNC (or IMAP4rev2)', async () => {
    const c = await Imap.open(server.ports.imap!);
    assert.doesNotMatch(await c.ok('SELECT INBOX'), /CLOSED/);
    assert.doesNotMatch(await c.ok('EXAMINE INBOX'), /CLOSED/);
    await c.ok('ENABLE QRESYNC');
    assert.match(await c.ok('SELECT INBOX'), /^\* OK \[CLOSED\] Previous mailbox closed\r\n\* 0 EXISTS/);
    c.close();
  });
});
