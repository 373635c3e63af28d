// UIDONLY (RFC 9586) over raw transcripts: ENABLE, BAD [UIDREQUIRED] for every way of naming a
// message by number, `* uid UIDFETCH (...)` with exact bytes from FETCH, STORE, SELECT (QRESYNC)
// and unsolicited flag changes, VANISHED instead of EXPUNGE, a second session's changes reaching
// an IDLEing UIDONLY session and a NOTIFY MessageNew push; then python imaplib and imapflow (exec).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { RunningTestServer } from '../harness/server.js';
import { ImapFlow } from 'imapflow';
import { deliver, Imap, message, PASS, startImapServer, USER } from './client.js';

let server: RunningTestServer;
before(async () => {
  server = await startImapServer({ MAILROOM_DATABASE_CHANGE_POLL_MS: '50' });
});
after(async () => {
  await server?.stop();
});

let boxes = 0;

/** A fresh mailbox with `n` messages, the first \Seen, selected by a UIDONLY session. */
async function uidOnlyBox(n: number, enable = 'ENABLE IMAP4rev2 UIDONLY'): Promise<{ c: Imap; name: string }> {
  const c = await Imap.open(server.ports.imap!);
  const name = `U${++boxes}`;
  await c.ok(`CREATE ${name}`);
  for (let i = 1; i <= n; i++) {
    const raw = message(`uidonly ${boxes}.${i}`);
    await c.ok(`APPEND ${name} (${i === 1 ? '\\Seen' : ''}) {${Buffer.byteLength(raw)}+}\r\n${raw}`);
  }
  assert.match(await c.ok(enable), /^\* ENABLED[^\r\n]*UIDONLY/m);
  await c.ok(`SELECT ${name}`);
  return { c, name };
}

/** The untagged lines of a command's answer, without CRLF. */
function untagged(text: string): string[] {
  return text.split('\r\n').filter((l) => l.startsWith('* '));
}

describe('UIDONLY (RFC 9586)', () => {
  test('advertised after login only; ENABLE before login is BAD; ENABLED names it once', async () => {
    const c = await Imap.open(server.ports.imap!, { login: false });
    try {
      assert.doesNotMatch(await c.ok('CAPABILITY'), /UIDONLY/);
      assert.equal((await c.cmd('ENABLE UIDONLY')).status, 'BAD');
      await c.ok(`LOGIN ${USER} ${PASS}`);
      assert.match(await c.ok('CAPABILITY'), /^\* CAPABILITY [^\r\n]* UIDONLY[ \r]/m);
      assert.deepEqual(untagged(await c.ok('ENABLE UIDONLY')), ['* ENABLED UIDONLY']);
      assert.deepEqual(untagged(await c.ok('ENABLE UIDONLY')), ['* ENABLED']); // already on: not listed again (RFC 5161 3.2)
    } finally {
      c.close();
    }
  });

  test('every use of sequence numbers is BAD [UIDREQUIRED] and the session goes on', async () => {
    const { c, name } = await uidOnlyBox(3);
    try {
      await c.ok(`CREATE ${name}-to`);
      const refused = [
        'FETCH 1 (FLAGS)',
        'FETCH 1:* (UID)',
        'STORE 1 +FLAGS (\\Flagged)',
        'SEARCH ALL',
        'SEARCH RETURN (COUNT) ALL',
        `COPY 1 ${name}-to`,
        `MOVE 1 ${name}-to`,
        'SORT (ARRIVAL) UTF-8 ALL',
        'THREAD REFERENCES UTF-8 ALL',
        `REPLACE 1 ${name} {1+}\r\nx`,
        'UID SEARCH 1:2',
        'UID SEARCH NOT 1',
        'UID SEARCH OR SEEN 2',
        'UID SORT (ARRIVAL) UTF-8 1:*',
        'UID THREAD REFERENCES UTF-8 2',
        'UID SEARCH RETURN (MIN) (1 UNSEEN)',
      ];
      for (const cmd of refused) {
        const r = await c.cmd(cmd);
        assert.equal(r.status, 'BAD', `${cmd}: ${r.text}`);
        assert.match(r.tagged, /^BAD \[UIDREQUIRED\] /, cmd);
        assert.deepEqual(untagged(r.text), [], `${cmd}: nothing ran`);
      }
      assert.deepEqual(untagged(await c.ok('UID FETCH 1:* (FLAGS)')), ['* 1 UIDFETCH (FLAGS (\\Seen))', '* 2 UIDFETCH (FLAGS ())', '* 3 UIDFETCH (FLAGS ())']);
      // the saved result `$` holds UIDs: allowed
      await c.ok('UID SEARCH RETURN (SAVE) UNSEEN');
      assert.deepEqual(untagged(await c.ok('UID FETCH $ (FLAGS)')), ['* 2 UIDFETCH (FLAGS ())', '* 3 UIDFETCH (FLAGS ())']);
      assert.match(await c.ok('UID SEARCH RETURN (ALL) UID $'), /^\* ESEARCH \(TAG "t\d+"\) UID ALL 2:3\r\n/);
    } finally {
      c.close();
    }
  });

  test('exact bytes: UIDFETCH from UID FETCH and UID STORE; UID only when asked for', async () => {
    const { c } = await uidOnlyBox(2);
    try {
      const body = await c.ok('UID FETCH 2 (RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
      assert.match(body, /^\* 2 UIDFETCH \(RFC822\.SIZE \d+ BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: uidonly \d+\.2\r\n\r\n\)\r\n/);
      assert.deepEqual(untagged(await c.ok('UID FETCH 1 (UID FLAGS)')), ['* 1 UIDFETCH (UID 1 FLAGS (\\Seen))']);
      assert.deepEqual(untagged(await c.ok('UID FETCH 2 (FLAGS UID INTERNALDATE)')).map((l) => l.replace(/"[^"]+"/, 'D')), ['* 2 UIDFETCH (FLAGS () UID 2 INTERNALDATE D)']);
      assert.match(await c.ok('UID STORE 2 +FLAGS (\\Flagged)'), /^\* 2 UIDFETCH \(FLAGS \(\\Flagged\)\)\r\nt\d+ OK UID STORE completed\r\n$/);
      assert.deepEqual(untagged(await c.ok('UID STORE 2 +FLAGS.SILENT (\\Answered)')), []);
      await c.ok('ENABLE CONDSTORE');
      const cs = untagged(await c.ok('UID STORE 1:2 -FLAGS (\\Flagged)'));
      assert.equal(cs.length, 2);
      assert.match(cs[0], /^\* 1 UIDFETCH \(FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/);
      assert.match(cs[1], /^\* 2 UIDFETCH \(FLAGS \(\\Answered\) MODSEQ \(\d+\)\)$/);
      assert.match(untagged(await c.ok('UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)'))[0], /^\* 1 UIDFETCH \(FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/);
    } finally {
      c.close();
    }
  });

  test('expunges are VANISHED: EXPUNGE, UID EXPUNGE, UID MOVE, UID REPLACE; no UNSEEN code in a rev1 SELECT', async () => {
    const { c, name } = await uidOnlyBox(5, 'ENABLE UIDONLY'); // rev1: SELECT would send [UNSEEN n]
    try {
      await c.ok(`CREATE ${name}-moved`);
      await c.ok('UID STORE 2,4 +FLAGS.SILENT (\\Deleted)');
      const ex = await c.ok('EXPUNGE');
      assert.deepEqual(untagged(ex), ['* VANISHED 2,4']);
      await c.ok('UID STORE 3 +FLAGS.SILENT (\\Deleted)');
      assert.deepEqual(untagged(await c.ok('UID EXPUNGE 1:5')), ['* VANISHED 3']);
      const mv = untagged(await c.ok(`UID MOVE 5 ${name}-moved`));
      assert.match(mv[0], /^\* OK \[COPYUID \d+ 5 1\]/);
      assert.deepEqual(mv.slice(1), ['* VANISHED 5']);
      const raw = message('replacement');
      const rep = untagged(await c.ok(`UID REPLACE 1 ${name} {${Buffer.byteLength(raw)}+}\r\n${raw}`));
      assert.match(rep[0], /^\* OK \[APPENDUID \d+ 6\]/);
      assert.deepEqual(rep.slice(1).filter((l) => !/(EXISTS|RECENT)$/.test(l)), ['* VANISHED 1']);
      await c.ok(`APPEND ${name} () {${Buffer.byteLength(message('unseen'))}+}\r\n${message('unseen')}`);
      const again = await c.ok(`SELECT ${name}`);
      assert.match(again, /^\* 2 EXISTS\r\n/m); // the replacement and the new one
      assert.doesNotMatch(again, /\[UNSEEN /);
    } finally {
      c.close();
    }
  });

  test('SELECT (QRESYNC): sequence match data is BAD [UIDREQUIRED]; changes come as UIDFETCH and VANISHED (EARLIER)', async () => {
    const { c, name } = await uidOnlyBox(4, 'ENABLE IMAP4rev2 QRESYNC UIDONLY');
    try {
      const sel = await c.ok(`SELECT ${name}`);
      const uidValidity = /UIDVALIDITY (\d+)/.exec(sel)![1];
      const modSeq = Number(/HIGHESTMODSEQ (\d+)/.exec(sel)![1]);
      await c.ok('UID STORE 3 +FLAGS.SILENT (\\Flagged)');
      await c.ok('UID STORE 4 +FLAGS.SILENT (\\Deleted)');
      await c.ok('UID EXPUNGE 4');
      const bad = await c.cmd(`SELECT ${name} (QRESYNC (${uidValidity} ${modSeq} 1:4 (1:2 1:2)))`);
      assert.match(bad.tagged, /^BAD \[UIDREQUIRED\] /);
      const re = untagged(await c.ok(`SELECT ${name} (QRESYNC (${uidValidity} ${modSeq} 1:4))`));
      assert.ok(re.includes('* VANISHED (EARLIER) 4'), re.join('\n'));
      assert.ok(re.some((l) => /^\* 3 UIDFETCH \(FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/.test(l)), re.join('\n'));
      assert.ok(!re.some((l) => / FETCH /.test(l)), re.join('\n'));
    } finally {
      c.close();
    }
  });

  test("another session's flag changes, expunges and deliveries reach an IDLEing UIDONLY session without numbers", async () => {
    const { c, name } = await uidOnlyBox(3);
    const other = await Imap.open(server.ports.imap!);
    try {
      await other.ok(`SELECT ${name}`);
      const tag = c.nextTag();
      c.t.send(`${tag} IDLE\r\n`);
      await c.t.readUntil('+ idling\r\n');
      await other.ok('UID STORE 2 +FLAGS (\\Flagged)');
      assert.equal(await c.t.readUntil(/\r\n/), '* 2 UIDFETCH (FLAGS (\\Flagged))\r\n');
      await other.ok('UID STORE 3 +FLAGS.SILENT (\\Deleted)');
      await other.ok('EXPUNGE');
      // the flag change may be seen before the expunge or only with it; the expunge is VANISHED either way
      const seen = await c.t.readUntil('* VANISHED 3\r\n');
      assert.match(seen, /^(\* 3 UIDFETCH \(FLAGS \(\\Deleted\)\)\r\n)?\* VANISHED 3\r\n$/);
      await deliver(server, message('pushed'), USER);
      await other.ok(`APPEND ${name} () {${Buffer.byteLength(message('appended'))}+}\r\n${message('appended')}`);
      assert.match(await c.t.readUntil(/\* 3 EXISTS\r\n/), /^(\* \d+ EXISTS\r\n)*\* 3 EXISTS\r\n$/);
      c.t.send('DONE\r\n');
      const done = await c.readTagged(tag);
      assert.equal(done.status, 'OK');
      assert.doesNotMatch(done.text, / EXPUNGE\r\n| FETCH /);
    } finally {
      c.close();
      other.close();
    }
  });

  test('NOTIFY MessageNew pushes UIDFETCH for the selected mailbox', async () => {
    const { c, name } = await uidOnlyBox(1);
    const other = await Imap.open(server.ports.imap!);
    try {
      await c.ok('NOTIFY SET (SELECTED (MessageNew (UID FLAGS) MessageExpunge FlagChange))');
      await other.ok(`SELECT ${name}`);
      await other.ok(`APPEND ${name} (\\Draft) {${Buffer.byteLength(message('notified'))}+}\r\n${message('notified')}`);
      const pushed = await c.t.readUntil(/UIDFETCH [^\r\n]*\r\n/, 10_000);
      assert.match(pushed, /\* 2 EXISTS\r\n(\* 2 UIDFETCH \(UID 2 FLAGS \(\\Draft\)\)\r\n)$/);
      await other.ok('UID STORE 2 +FLAGS.SILENT (\\Deleted)');
      await other.ok('UID EXPUNGE 2');
      assert.match(await c.t.readUntil('* VANISHED 2\r\n', 10_000), /\* VANISHED 2\r\n$/);
      await c.ok('NOTIFY NONE');
    } finally {
      c.close();
      other.close();
    }
  });

  test('python imaplib: ENABLE UIDONLY, UID FETCH answers UIDFETCH, FETCH is refused with UIDREQUIRED', async () => {
    const { c, name } = await uidOnlyBox(2);
    c.close();
    const script = [
      'import imaplib, sys',
      'm = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))',
      'm.login(sys.argv[2], sys.argv[3])',
      'typ, data = m._simple_command("ENABLE", "UIDONLY")',
      'assert typ == "OK", typ',
      'print(m.response("ENABLED")[1][0].decode())',
      'm.select(sys.argv[4])',
      'typ, _ = m.uid("FETCH", "1:*", "(FLAGS)")',
      'assert typ == "OK", typ',
      'print("|".join(x.decode() for x in m.response("UIDFETCH")[1]))',
      'try:',
      '    m.fetch("1", "(FLAGS)")',
      '    print("accepted")',
      'except imaplib.IMAP4.error as e:',
      '    print("refused", str(e))',
      'm.logout()',
    ].join('\n');
    const run = spawnSync('python3', ['-c', script, String(server.ports.imap), USER, PASS, name], { encoding: 'utf8', timeout: 20000 });
    assert.equal(run.status, 0, run.stderr);
    const [enabled, fetched, refused] = run.stdout.trim().split('\n');
    assert.equal(enabled, 'UIDONLY');
    assert.equal(fetched, '1 (FLAGS (\\Seen))|2 (FLAGS ())');
    assert.match(refused, /^refused .*UIDREQUIRED/);
  });

  test('imapflow exec: ENABLE UIDONLY, then UID FETCH answers UIDFETCH and FETCH is BAD [UIDREQUIRED]', async () => {
    const { c, name } = await uidOnlyBox(2);
    c.close();
    const flow = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap!, secure: false, doSTARTTLS: false, auth: { user: USER, pass: PASS }, logger: false });
    await flow.connect();
    type Exec = (c: string, a: unknown[], o?: unknown) => Promise<{ next: () => void; response: { command: string } }>;
    const exec = (flow as unknown as { exec: Exec }).exec.bind(flow);
    try {
      (await exec('ENABLE', [{ type: 'ATOM', value: 'UIDONLY' }])).next();
      await flow.mailboxOpen(name);
      const seen: string[] = [];
      const untagged = {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        UIDFETCH: async (u: any) => seen.push(`${u.command} ${JSON.stringify(u.attributes.slice(1).map((a: any) => (Array.isArray(a) ? a.map((x: any) => (Array.isArray(x) ? x.map((y: any) => y.value) : x.value)) : a.value)))}`),
      };
      const r = await exec('UID', [{ type: 'ATOM', value: 'FETCH' }, { type: 'SEQUENCE', value: '1:*' }, [{ type: 'ATOM', value: 'FLAGS' }]], { untagged });
      r.next();
      assert.deepEqual(seen, ['1 [["FLAGS",["\\\\Seen"]]]', '2 [["FLAGS",[]]]']);
      await assert.rejects(exec('FETCH', [{ type: 'SEQUENCE', value: '1' }, [{ type: 'ATOM', value: 'FLAGS' }]]), (err: Error & { responseStatus?: string; response?: unknown }) => {
        assert.equal(err.responseStatus, 'BAD');
        assert.match(JSON.stringify(err.response), /UIDREQUIRED/); // the response code, as imapflow parsed it
        return true;
      });
    } finally {
      await flow.logout();
    }
  });
});
