// Behaviours an independent IMAP compliance suite found wrong (issue 9), each pinned as raw
// transcripts over a real socket: \Recent across a deleted and re-created mailbox, BINARY of
// `Content-Transfer-Encoding: binary`, NO (never BAD) for names that do not exist or cannot be
// decoded, LSUB/LIST subscription answers, MOVE/COPY into the selected mailbox, address SEARCH.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, startImapServer } from './client.js';

/** `APPEND box {n+}` with the message as a non-synchronizing literal (RFC 7888). */
function appendCmd(box: string, msg: string | Buffer, binary = false): Buffer {
  const bytes = Buffer.isBuffer(msg) ? msg : Buffer.from(msg, 'latin1');
  return Buffer.concat([Buffer.from(`APPEND ${box} ${binary ? '~' : ''}{${bytes.length}+}\r\n`, 'latin1'), bytes]);
}

/** Sends a command that carries raw bytes and reads to its tagged reply. */
async function raw(c: Imap, command: Buffer): Promise<{ text: string; status: string; tagged: string }> {
  const tag = c.nextTag();
  c.t.send(Buffer.concat([Buffer.from(`${tag} `), command, Buffer.from('\r\n')]));
  return c.readTagged(tag);
}

/** The untagged lines of a reply, without the tagged line. */
function untagged(text: string): string {
  return text.replace(/t\d+ (OK|NO|BAD)[^\r\n]*\r\n$/, '');
}

const simple = (subject: string) => `From: bob@example.test\r\nSubject: ${subject}\r\n\r\nbody ${subject}\r\n`;

describe('IMAP compliance (issue 9)', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startImapServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('\\Recent after DELETE and re-CREATE of the same name: exactly once across two sessions (RFC 3501 2.3.2, 6.3.10, 7.3.2)', async () => {
    const c = await Imap.open(server.ports.imap!);
    const d = await Imap.open(server.ports.imap!);
    try {
      await c.ok('CREATE Again');
      assert.equal((await raw(c, appendCmd('Again', simple('old')))).status, 'OK');
      assert.match(await c.ok('SELECT Again'), /^\* 1 EXISTS\r\n\* 1 RECENT\r\n/); // claims UID 1 of the first "Again"
      await c.ok('UNSELECT');
      await c.ok('DELETE Again');
      await c.ok('CREATE Again');
      assert.equal((await raw(d, appendCmd('Again', simple('new')))).status, 'OK');
      // nobody has seen the new message yet
      assert.equal(untagged(await d.ok('STATUS Again (MESSAGES RECENT)')), '* STATUS "Again" (MESSAGES 1 RECENT 1)\r\n');
      const sel = await c.ok('SELECT Again');
      assert.match(sel, /^\* 1 EXISTS\r\n\* 1 RECENT\r\n\* FLAGS /);
      assert.equal(untagged(await c.ok('FETCH 1 FLAGS')), '* 1 FETCH (FLAGS (\\Recent))\r\n');
      assert.equal(untagged(await c.ok('SEARCH RECENT')), '* SEARCH 1\r\n');
      assert.equal(untagged(await c.ok('SEARCH NEW')), '* SEARCH 1\r\n');
      assert.equal(untagged(await c.ok('SEARCH OLD')), '* SEARCH\r\n');
      // the selecting session counts its own \Recent message in STATUS too
      assert.equal(untagged(await c.ok('STATUS Again (RECENT)')), '* STATUS "Again" (RECENT 1)\r\n');
      // the second session comes after the first: not \Recent for it
      assert.equal(untagged(await d.ok('STATUS Again (RECENT)')), '* STATUS "Again" (RECENT 0)\r\n');
      assert.match(await d.ok('EXAMINE Again'), /^\* 1 EXISTS\r\n\* 0 RECENT\r\n/);
      assert.equal(untagged(await d.ok('FETCH 1 FLAGS')), '* 1 FETCH (FLAGS ())\r\n');
      assert.equal(untagged(await d.ok('SEARCH RECENT')), '* SEARCH\r\n');
      assert.equal(untagged(await d.ok('SEARCH NEW')), '* SEARCH\r\n');
      assert.equal(untagged(await d.ok('SEARCH OLD')), '* SEARCH 1\r\n');
      // a message arriving while both have it open: the read-write session that looks first claims it
      const e = await Imap.open(server.ports.imap!);
      assert.equal((await raw(e, appendCmd('Again', simple('third')))).status, 'OK');
      e.close();
      assert.equal(untagged(await c.ok('NOOP')), '* 2 EXISTS\r\n* 2 RECENT\r\n');
      assert.equal(untagged(await d.ok('NOOP')), '* 2 EXISTS\r\n* 0 RECENT\r\n');
      assert.equal(untagged(await c.ok('FETCH 1:2 FLAGS')), '* 1 FETCH (FLAGS (\\Recent))\r\n* 2 FETCH (FLAGS (\\Recent))\r\n');
      assert.equal(untagged(await d.ok('FETCH 1:2 FLAGS')), '* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\n');
    } finally {
      c.close();
      d.close();
    }
  });

  test('APPEND ~{n} with Content-Transfer-Encoding: binary keeps the octets; BINARY[1] and BINARY.SIZE[1] exact (RFC 3516)', async () => {
    const c = await Imap.open(server.ports.imap!);
    try {
      await c.ok('CREATE Bin');
      const part = Buffer.from('a\nb\0c\nd', 'latin1'); // 7 octets: two bare LF, one NUL
      const multipart = Buffer.concat([
        Buffer.from('From: bob@example.test\r\nSubject: bin\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n', 'latin1'),
        part,
        Buffer.from('\r\n--XX--\r\n', 'latin1'),
      ]);
      assert.match((await raw(c, appendCmd('Bin', multipart, true))).tagged, /^OK \[APPENDUID \d+ 1\] APPEND completed$/);
      const single = Buffer.concat([Buffer.from('From: bob@example.test\r\nSubject: single\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n', 'latin1'), part]);
      assert.match((await raw(c, appendCmd('Bin', single, true))).tagged, /^OK \[APPENDUID \d+ 2\] APPEND completed$/);
      await c.ok('SELECT Bin');
      assert.equal(untagged(await c.ok('FETCH 1 (BINARY.SIZE[1])')), '* 1 FETCH (BINARY.SIZE[1] 7)\r\n');
      assert.equal(untagged(await c.ok('FETCH 1 (BINARY.PEEK[1])')), '* 1 FETCH (BINARY[1] ~{7}\r\na\nb\0c\nd)\r\n');
      assert.equal(untagged(await c.ok('FETCH 1 (BINARY.PEEK[1]<2.3>)')).replace(/\0/g, '<NUL>'), '* 1 FETCH (BINARY[1]<2> ~{3}\r\nb<NUL>c)\r\n');
      // BODY[1] keeps the IMAP presentation rules: bare LF shown as CRLF, NUL as 0x80 (docs/architecture.md)
      // (the transcript reads text as UTF-8, so the lone 0x80 arrives as U+FFFD; {9} pins the octets)
      assert.equal(untagged(await c.ok('FETCH 1 (BODY.PEEK[1])')), '* 1 FETCH (BODY[1] {9}\r\na\r\nb\ufffdc\r\nd)\r\n');
      // the stored single-part message is exactly what was appended: BINARY[] gives it back whole
      assert.equal(untagged(await c.ok('FETCH 2 (BINARY.SIZE[] BINARY.PEEK[])')), `* 2 FETCH (BINARY.SIZE[] ${single.length} BINARY[] ~{${single.length}}\r\n${single.toString('latin1')})\r\n`);
    } finally {
      c.close();
    }
  });

  test('a valid astring naming no mailbox, or not modified UTF-7, is NO or an empty OK, never BAD (RFC 9051 7.1.2-7.1.3)', async () => {
    const c = await Imap.open(server.ports.imap!);
    try {
      await c.ok('CREATE Names');
      assert.equal((await raw(c, appendCmd('Names', simple('names')))).status, 'OK');
      const rows: [command: string, reply: string][] = [
        ['SELECT nosuch', 'NO [NONEXISTENT] Mailbox does not exist: nosuch'],
        ['SELECT "&Jjo"', 'NO [NONEXISTENT] Mailbox does not exist: &Jjo'],
        ['EXAMINE "&AGE-"', 'NO [NONEXISTENT] Mailbox does not exist: &AGE-'],
        ['STATUS nosuch (MESSAGES)', 'NO [NONEXISTENT] Mailbox does not exist: nosuch'],
        ['STATUS "&Jjo" (MESSAGES)', 'NO [NONEXISTENT] Mailbox does not exist: &Jjo'],
        ['DELETE "&U,BTFw-&ZeVnLIqe-"', 'NO [NONEXISTENT] Mailbox does not exist: &U,BTFw-&ZeVnLIqe-'],
        ['RENAME "&Jjo" Other', 'NO [NONEXISTENT] Mailbox does not exist: &Jjo'],
        ['RENAME Names "&Jjo"', 'NO [CANNOT] Mailbox name is not valid modified UTF-7'],
        ['CREATE "&Jjo"', 'NO [CANNOT] Mailbox name is not valid modified UTF-7'],
        ['SUBSCRIBE "&Jjo"', 'NO [CANNOT] Mailbox name is not valid modified UTF-7'],
        ['UNSUBSCRIBE "&Jjo"', 'NO [NONEXISTENT] Not subscribed: the name is not valid modified UTF-7'],
        ['APPEND "&Jjo" {3+}\r\nx\r\n', 'NO [NONEXISTENT] Mailbox name is not valid modified UTF-7'],
        ['APPEND nosuch {3+}\r\nx\r\n', 'NO [TRYCREATE] Mailbox does not exist'],
        ['LIST "" "&Jjo"', 'OK LIST completed'],
        ['LIST "&Jjo" "*"', 'OK LIST completed'],
        ['LIST "" "&Jjo*"', 'OK LIST completed'],
        ['LIST "" nosuch', 'OK LIST completed'],
        ['LSUB "" "&Jjo"', 'OK LSUB completed'],
        ['LIST (SUBSCRIBED) "" ("&Jjo" nosuch)', 'OK LIST completed'],
      ];
      const wrong: string[] = [];
      for (const [command, reply] of rows) {
        const r = await c.cmd(command);
        if (r.tagged !== reply || untagged(r.text) !== '') wrong.push(`${command}: ${JSON.stringify(r.text)}`);
      }
      await c.ok('SELECT Names');
      for (const [command, reply] of [
        ['COPY 1 "&Jjo"', 'NO [NONEXISTENT] Target mailbox name is not valid modified UTF-7'],
        ['MOVE 1 "&Jjo"', 'NO [NONEXISTENT] Target mailbox name is not valid modified UTF-7'],
        ['UID COPY 1 nosuch', 'NO [TRYCREATE] Target mailbox does not exist'],
      ]) {
        const r = await c.cmd(command);
        if (r.tagged !== reply || untagged(r.text) !== '') wrong.push(`${command}: ${JSON.stringify(r.text)}`);
      }
      assert.deepEqual(wrong, []);
      // a name that is not even an astring is still a syntax error
      assert.match((await c.cmd('SELECT (x)')).tagged, /^BAD /);
    } finally {
      c.close();
    }
  });

  test('LIST (SUBSCRIBED RECURSIVEMATCH): RFC 5258 5 example 9 literally; CHILDINFO only for a subscribed child not returned itself', async () => {
    const c = await Imap.open(server.ports.imap!);
    try {
      // the example's hierarchy (CREATE makes foo2, baz2, eps2 and qux2 as parents) and subscriptions
      for (const n of ['foo2/bar1', 'foo2/bar2', 'baz2/bar2', 'baz2/bar22', 'baz2/bar222', 'eps2/mamba', 'qux2/bar2']) await c.ok(`CREATE ${n}`);
      for (const n of ['foo2/bar1', 'foo2/bar2', 'baz2/bar2', 'baz2/bar22', 'baz2/bar222', 'eps2', 'eps2/mamba', 'qux2/bar2']) await c.ok(`SUBSCRIBE ${n}`);
      const lines = (text: string) => untagged(text).split(/(?<=\r\n)/).filter((l) => l !== '').sort();
      // RFC 5258 example 9 (attributes as the RFC prints them, plus the \HasChildren/\HasNoChildren we always send)
      assert.deepEqual(
        lines(await c.ok('LIST (RECURSIVEMATCH SUBSCRIBED) "" "*2"')),
        [
          '* LIST (\\HasChildren) "/" "foo2" ("CHILDINFO" ("SUBSCRIBED"))\r\n',
          '* LIST (\\HasNoChildren \\Subscribed) "/" "foo2/bar2"\r\n',
          '* LIST (\\HasNoChildren \\Subscribed) "/" "baz2/bar2"\r\n',
          '* LIST (\\HasNoChildren \\Subscribed) "/" "baz2/bar22"\r\n',
          '* LIST (\\HasNoChildren \\Subscribed) "/" "baz2/bar222"\r\n',
          '* LIST (\\HasChildren \\Subscribed) "/" "eps2" ("CHILDINFO" ("SUBSCRIBED"))\r\n',
          '* LIST (\\HasNoChildren \\Subscribed) "/" "qux2/bar2"\r\n',
        ].sort(),
      );
      // with "%" every subscribed child is cut off by the pattern, so each parent carries CHILDINFO
      assert.equal(
        untagged(await c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%2"')),
        '* LIST (\\HasChildren) "/" "baz2" ("CHILDINFO" ("SUBSCRIBED"))\r\n' +
          '* LIST (\\HasChildren \\Subscribed) "/" "eps2" ("CHILDINFO" ("SUBSCRIBED"))\r\n' +
          '* LIST (\\HasChildren) "/" "foo2" ("CHILDINFO" ("SUBSCRIBED"))\r\n' +
          '* LIST (\\HasChildren) "/" "qux2" ("CHILDINFO" ("SUBSCRIBED"))\r\n',
      );
      // RFC 5258 5 example 7 C: subscribed names without subscribed children have no CHILDINFO
      assert.equal(untagged(await c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "foo2/%" RETURN (CHILDREN)')), '* LIST (\\HasNoChildren \\Subscribed) "/" "foo2/bar1"\r\n* LIST (\\HasNoChildren \\Subscribed) "/" "foo2/bar2"\r\n');
    } finally {
      c.close();
    }
  });

  test('LSUB with "%": an unsubscribed parent of a subscribed child is returned \\Noselect (RFC 3501 6.3.9)', async () => {
    const c = await Imap.open(server.ports.imap!);
    try {
      await c.ok('CREATE deep/a/b');
      await c.ok('SUBSCRIBE deep/a/b');
      assert.equal(untagged(await c.ok('LSUB "" deep/%')), '* LSUB (\\Noselect) "/" "deep/a"\r\n');
      assert.equal(untagged(await c.ok('LSUB "deep/" %')), '* LSUB (\\Noselect) "/" "deep/a"\r\n');
      assert.equal(untagged(await c.ok('LSUB "" deep/a/%')), '* LSUB () "/" "deep/a/b"\r\n');
      assert.equal(untagged(await c.ok('LSUB "" deep/*')), '* LSUB () "/" "deep/a/b"\r\n'); // "*" reaches the child itself
      assert.equal(untagged(await c.ok('LSUB "" %/%/b')), '* LSUB () "/" "deep/a/b"\r\n');
      await c.ok('SUBSCRIBE deep/a');
      assert.equal(untagged(await c.ok('LSUB "" deep/%')), '* LSUB () "/" "deep/a"\r\n'); // subscribed now: selectable
      assert.equal(untagged(await c.ok('LSUB "" deep')), ''); // no wildcard: only subscribed names
    } finally {
      c.close();
    }
  });

  test('MOVE, UID MOVE and COPY into the selected mailbox: COPYUID, the EXPUNGEs, then EXISTS (RFC 6851 3.3, RFC 4315 3)', async () => {
    const c = await Imap.open(server.ports.imap!);
    try {
      await c.ok('CREATE Self');
      for (const n of ['one', 'two', 'three']) assert.equal((await raw(c, appendCmd('Self', simple(n)))).status, 'OK');
      const sel = await c.ok('SELECT Self');
      const v = /UIDVALIDITY (\d+)/.exec(sel)![1];
      const move = await c.cmd('MOVE 2 Self');
      assert.equal(move.tagged, 'OK MOVE completed');
      assert.equal(untagged(move.text), `* OK [COPYUID ${v} 2 4] Moved\r\n* 2 EXPUNGE\r\n* 3 EXISTS\r\n* 3 RECENT\r\n`);
      const umove = await c.cmd('UID MOVE 4 Self');
      assert.equal(umove.tagged, 'OK UID MOVE completed');
      assert.equal(untagged(umove.text), `* OK [COPYUID ${v} 4 5] Moved\r\n* 3 EXPUNGE\r\n* 3 EXISTS\r\n* 3 RECENT\r\n`);
      const copy = await c.cmd('COPY 1 Self');
      assert.equal(copy.tagged, `OK [COPYUID ${v} 1 6] COPY completed`);
      assert.equal(untagged(copy.text), '* 4 EXISTS\r\n* 4 RECENT\r\n');
      assert.equal(
        untagged(await c.ok('FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])')),
        ['one', 'three', 'two', 'one'].map((n, i) => `* ${i + 1} FETCH (UID ${[1, 3, 5, 6][i]} BODY[HEADER.FIELDS (SUBJECT)] {${n.length + 13}}\r\nSubject: ${n}\r\n\r\n)\r\n`).join(''),
      );
      assert.match(await c.ok('STATUS Self (MESSAGES UIDNEXT)'), /\* STATUS "Self" \(MESSAGES 4 UIDNEXT 7\)\r\n/);
    } finally {
      c.close();
    }
  });

  test('SEARCH FROM/TO/CC/BCC match the address as ENVELOPE parses it, case-insensitive substrings (RFC 9051 6.4.4)', async () => {
    const c = await Imap.open(server.ports.imap!);
    try {
      await c.ok('CREATE Addr');
      const msg =
        'From: "Bob =?utf-8?q?M=C3=BCller?=" <user-from (comment)@ (comment) domain.org>\r\n' +
        'To: =?iso-8859-1?q?J=F6rg?= <joerg@example.test>, friends: a@b.example, c (x) @ d.example;\r\n' +
        'Cc: cc-user @ cc.example\r\n' +
        'Bcc: Hidden <hidden@bcc.example>\r\n' +
        'Subject: addresses\r\n\r\nbody\r\n';
      assert.equal((await raw(c, appendCmd('Addr', msg))).status, 'OK');
      assert.equal((await raw(c, appendCmd('Addr', simple('other')))).status, 'OK');
      await c.ok('SELECT Addr');
      assert.match(await c.ok('FETCH 1 ENVELOPE'), /\(\("Bob =\?utf-8\?q\?M=C3=BCller\?=" NIL "user-from" "domain.org"\)\)/);
      const utf8 = (key: string, s: string) => Buffer.concat([Buffer.from(`SEARCH CHARSET UTF-8 ${key} {${Buffer.byteLength(s)}+}\r\n`), Buffer.from(s)]);
      const rows: [Buffer | string, string][] = [
        ['SEARCH FROM user-from@domain.org', '* SEARCH 1\r\n'],
        ['SEARCH FROM USER-FROM@Domain.ORG', '* SEARCH 1\r\n'],
        ['SEARCH FROM "from@dom"', '* SEARCH 1\r\n'],
        [utf8('FROM', 'bob müller'), '* SEARCH 1\r\n'],
        [utf8('FROM', 'MÜLLER <user-from@'), '* SEARCH 1\r\n'],
        ['SEARCH FROM "(comment)"', '* SEARCH 1\r\n'], // the header text still matches too
        ['SEARCH FROM nobody@domain.org', '* SEARCH\r\n'],
        [utf8('TO', 'jörg'), '* SEARCH 1\r\n'],
        ['SEARCH TO c@d.example', '* SEARCH 1\r\n'],
        ['SEARCH TO friends', '* SEARCH 1\r\n'],
        ['SEARCH CC cc-user@cc.example', '* SEARCH 1\r\n'],
        ['SEARCH BCC "hidden <hidden@bcc"', '* SEARCH 1\r\n'],
        ['SEARCH OR FROM bob@example.test TO joerg@example.test', '* SEARCH 1 2\r\n'],
        ['SEARCH NOT CC cc-user@cc.example', '* SEARCH 2\r\n'],
      ];
      const wrong: string[] = [];
      for (const [command, want] of rows) {
        const r = typeof command === 'string' ? await c.cmd(command) : await raw(c, command);
        if (r.status !== 'OK' || untagged(r.text) !== want) wrong.push(`${command.toString()}: ${JSON.stringify(r.text)}`);
      }
      assert.deepEqual(wrong, []);
    } finally {
      c.close();
    }
  });

  test('OBJECTID (RFC 8474): MAILBOXID in CREATE, SELECT and STATUS, kept by RENAME, new after re-CREATE; EMAILID/THREADID in FETCH and SEARCH', async () => {
    const c = await Imap.open(server.ports.imap!);
    try {
      assert.match(untagged(await c.ok('CAPABILITY')), /^\* CAPABILITY .* OBJECTID PREVIEW SAVEDATE WITHIN /);
      const created = await c.cmd('CREATE Obj');
      const m = /^OK \[MAILBOXID \(([A-Za-z0-9_-]{1,255})\)\] CREATE completed$/.exec(created.tagged);
      assert.ok(m, created.text);
      const id = m[1];
      assert.equal(untagged(await c.ok('STATUS Obj (MAILBOXID MESSAGES)')), `* STATUS "Obj" (MAILBOXID (${id}) MESSAGES 0)\r\n`);
      await c.ok('RENAME Obj Obj2');
      assert.equal(untagged(await c.ok('LIST "" Obj2 RETURN (STATUS (MAILBOXID))')), `* LIST (\\HasNoChildren) "/" "Obj2"\r\n* STATUS "Obj2" (MAILBOXID (${id}))\r\n`);
      const first = simple('thread start').replace('\r\n\r\n', '\r\nMessage-ID: <start@example.test>\r\n\r\n');
      const reply = simple('Re: thread start').replace('\r\n\r\n', '\r\nMessage-ID: <reply@example.test>\r\nIn-Reply-To: <start@example.test>\r\n\r\n');
      for (const msg of [first, reply, simple('alone')]) assert.equal((await raw(c, appendCmd('Obj2', msg))).status, 'OK');
      const sel = await c.ok('SELECT Obj2');
      assert.match(sel, new RegExp(`\\* OK \\[UIDNEXT 4\\] Predicted next UID\\r\\n\\* OK \\[HIGHESTMODSEQ \\d+\\] Highest\\r\\n\\* OK \\[MAILBOXID \\(${id}\\)\\] Mailbox id\\r\\n`));
      const ids = [...untagged(await c.ok('FETCH 1:3 (EMAILID THREADID)')).matchAll(/^\* (\d) FETCH \(EMAILID \(([A-Za-z0-9_-]{1,255})\) THREADID \(([A-Za-z0-9_-]{1,255})\)\)\r\n/gm)];
      assert.equal(ids.length, 3);
      const [e1, e2, e3] = ids.map((x) => x[2]);
      const [t1, t2, t3] = ids.map((x) => x[3]);
      assert.equal(new Set([e1, e2, e3]).size, 3);
      assert.equal(t1, t2); // the reply joins the thread
      assert.notEqual(t1, t3);
      assert.equal(untagged(await c.ok(`SEARCH EMAILID ${e2}`)), '* SEARCH 2\r\n');
      assert.equal(untagged(await c.ok(`UID SEARCH THREADID ${t1}`)), '* SEARCH 1 2\r\n');
      assert.equal(untagged(await c.ok('SEARCH EMAILID Mnosuch')), '* SEARCH\r\n');
      // MOVE keeps EMAILID (RFC 8474 5.1 MUST), and COPY keeps it here too
      await c.ok('CREATE ObjOther');
      await c.ok('COPY 1 ObjOther');
      await c.ok('MOVE 3 ObjOther');
      const d = await Imap.open(server.ports.imap!);
      await d.ok('EXAMINE ObjOther');
      assert.equal(untagged(await d.ok('FETCH 1:2 (EMAILID)')), `* 1 FETCH (EMAILID (${e1}))\r\n* 2 FETCH (EMAILID (${e3}))\r\n`);
      d.close();
      // a deleted and re-created mailbox of the same name gets a new MAILBOXID
      await c.ok('UNSELECT');
      await c.ok('DELETE Obj2');
      const again = /MAILBOXID \(([^)]+)\)/.exec((await c.cmd('CREATE Obj2')).tagged)![1];
      assert.notEqual(again, id);
      assert.equal(untagged(await c.ok('STATUS Obj2 (MAILBOXID)')), `* STATUS "Obj2" (MAILBOXID (${again}))\r\n`);
    } finally {
      c.close();
    }
  });

  test('PREVIEW (RFC 8970): text, (LAZY) modifier, empty string when there is none, at most 256 characters, no \\Seen', async () => {
    const c = await Imap.open(server.ports.imap!);
    try {
      await c.ok('CREATE Prev');
      const text = 'From: bob@example.test\r\nSubject: p\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n   gr\u00fc\u00dfe\tand\u0001more\r\n';
      const binary = 'From: bob@example.test\r\nSubject: b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n';
      const long = simple('long').replace(/body long/, 'word '.repeat(100));
      assert.equal((await raw(c, appendCmd('Prev', Buffer.from(text, 'utf8')))).status, 'OK');
      assert.equal((await raw(c, appendCmd('Prev', binary))).status, 'OK');
      assert.equal((await raw(c, appendCmd('Prev', long))).status, 'OK');
      await c.ok('SELECT Prev');
      const want = 'Hello grüße and more';
      assert.equal(untagged(await c.ok('FETCH 1 (PREVIEW)')), `* 1 FETCH (PREVIEW {${Buffer.byteLength(want)}}\r\n${want})\r\n`);
      assert.equal(untagged(await c.ok('FETCH 1 (PREVIEW (LAZY) FLAGS)')), `* 1 FETCH (PREVIEW {${Buffer.byteLength(want)}}\r\n${want} FLAGS (\\Recent))\r\n`);
      assert.equal(untagged(await c.ok('FETCH 2 (PREVIEW)')), '* 2 FETCH (PREVIEW {0}\r\n)\r\n'); // RFC 8970 3: a zero-length string, not NIL
      const p3 = /PREVIEW \{(\d+)\}\r\n([^)]*)\)/.exec(await c.ok('FETCH 3 (PREVIEW)'))!;
      assert.equal(p3[2].length, 256);
      assert.equal(Number(p3[1]), 256);
      assert.match((await c.cmd('FETCH 1 (PREVIEW (EAGER))')).tagged, /^BAD /);
    } finally {
      c.close();
    }
  });

  test('SAVEDATE (RFC 8514) and WITHIN (RFC 5032): FETCH SAVEDATE, SEARCH SAVED*, SAVEDATESUPPORTED, OLDER/YOUNGER', async () => {
    const c = await Imap.open(server.ports.imap!);
    try {
      await c.ok('CREATE Saved');
      const old = Buffer.concat([Buffer.from('APPEND Saved "01-Jan-2000 00:00:00 +0000" {'), Buffer.from(`${simple('old').length}+}\r\n${simple('old')}`)]);
      assert.equal((await raw(c, old)).status, 'OK');
      assert.equal((await raw(c, appendCmd('Saved', simple('new')))).status, 'OK');
      await c.ok('SELECT Saved');
      const fetched = untagged(await c.ok('FETCH 1:2 (INTERNALDATE SAVEDATE)'));
      const dates = [...fetched.matchAll(/SAVEDATE "(\d\d)-(\w{3})-(\d{4}) \d\d:\d\d:\d\d \+0000"/g)].map((x) => `${Number(x[1])}-${x[2]}-${x[3]}`);
      assert.equal(dates.length, 2, fetched);
      assert.match(fetched, /^\* 1 FETCH \(INTERNALDATE "01-Jan-2000 00:00:00 \+0000" SAVEDATE "/);
      // the save date is when the message was stored, not its internal date; the day is read from the server's answer
      const saved = dates[1];
      const next = new Date(Date.parse(`${saved} UTC`) + 86_400_000);
      const nextDay = `${next.getUTCDate()}-${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][next.getUTCMonth()]}-${next.getUTCFullYear()}`;
      if (dates[0] === saved) {
        assert.equal(untagged(await c.ok(`SEARCH SAVEDON ${saved}`)), '* SEARCH 1 2\r\n');
        assert.equal(untagged(await c.ok(`SEARCH SAVEDSINCE ${saved}`)), '* SEARCH 1 2\r\n');
        assert.equal(untagged(await c.ok(`SEARCH SAVEDBEFORE ${saved}`)), '* SEARCH\r\n');
      }
      assert.equal(untagged(await c.ok(`SEARCH SAVEDBEFORE ${nextDay}`)), '* SEARCH 1 2\r\n');
      assert.equal(untagged(await c.ok(`SEARCH SAVEDSINCE ${nextDay}`)), '* SEARCH\r\n');
      assert.equal(untagged(await c.ok('SEARCH SAVEDATESUPPORTED')), '* SEARCH 1 2\r\n');
      assert.equal(untagged(await c.ok('SEARCH SAVEDON 1-Jan-2000')), '* SEARCH\r\n'); // not the internal date
      assert.equal(untagged(await c.ok('SEARCH ON 1-Jan-2000')), '* SEARCH 1\r\n');
      // WITHIN: OLDER/YOUNGER count seconds back from now against the internal date
      assert.equal(untagged(await c.ok('SEARCH OLDER 86400')), '* SEARCH 1\r\n');
      assert.equal(untagged(await c.ok('SEARCH YOUNGER 86400')), '* SEARCH 2\r\n');
      assert.equal(untagged(await c.ok('UID SEARCH YOUNGER 4294967295')), '* SEARCH 1 2\r\n');
      assert.match((await c.cmd('SEARCH OLDER 0')).tagged, /^BAD /); // interval is nz-number
      assert.match((await c.cmd('SEARCH SAVEDBEFORE 2000-01-01')).tagged, /^BAD /);
    } finally {
      c.close();
    }
  });
});
