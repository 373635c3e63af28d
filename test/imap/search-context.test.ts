// CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 4) over raw transcripts: UID SEARCH/SORT RETURN
// (UPDATE) results kept live as another session appends, flags and expunges, during IDLE
// too; CANCELUPDATE; NOUPDATE for the sequence-number forms.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningTestServer } from '../harness/server.js';
import { execFile } from 'node:child_process';
import { Imap, PASS, startImapServer, USER } from './client.js';

const mail = (subject: string, date: string) => `From: Bob <bob@example.test>\r\nTo: ${USER}\r\nSubject: ${subject}\r\nDate: ${date}\r\n\r\nbody\r\n`;

describe('IMAP CONTEXT=SEARCH / CONTEXT=SORT', () => {
  let server: RunningTestServer;
  let c: Imap;
  let other: Imap;
  const append = (who: Imap, subject: string, date: string, flags = '') => {
    const raw = mail(subject, date);
    return who.ok(`APPEND Live (${flags}) {${Buffer.byteLength(raw)}+}\r\n${raw}`);
  };
  before(async () => {
    server = await startImapServer();
    c = await Imap.open(server.ports.imap!);
    other = await Imap.open(server.ports.imap!);
    await c.ok('CREATE Live');
    await append(c, 'one', 'Wed, 3 Jan 2024 10:00:00 +0000');
    await append(c, 'two', 'Mon, 1 Jan 2024 10:00:00 +0000', '\\Seen');
    await append(c, 'three', 'Tue, 2 Jan 2024 10:00:00 +0000');
    await c.ok('SELECT Live');
    await other.ok('SELECT Live');
  });
  after(async () => {
    c?.close();
    other?.close();
    await server?.stop();
  });

  test('advertised', async () => {
    assert.match(await c.ok('CAPABILITY'), /^\* CAPABILITY .* CONTEXT=SEARCH CONTEXT=SORT /m);
  });

  test('UID SEARCH RETURN (UPDATE): ADDTO and REMOVEFROM as another session changes the mailbox', async () => {
    const r = await c.cmd('UID SEARCH RETURN (UPDATE) UNSEEN');
    assert.match(r.text, /^\* ESEARCH \(TAG "t\d+"\) UID ALL 1,3\r\n/m);
    const tag = /TAG "(t\d+)"/.exec(r.text)![1];
    await append(other, 'four', 'Thu, 4 Jan 2024 10:00:00 +0000');
    await other.ok('UID STORE 1 +FLAGS (\\Seen)');
    const n = await c.ok('NOOP');
    assert.match(n, new RegExp(`^\\* 4 EXISTS\\r\\n[^]*\\* ESEARCH \\(TAG "${tag}"\\) UID REMOVEFROM \\(0 1\\) ADDTO \\(0 4\\)\\r\\n`, 'm'));
    assert.doesNotMatch(await c.ok('NOOP'), /ESEARCH/, 'reported once');
    await c.ok(`CANCELUPDATE "${tag}"`);
    await other.ok('UID STORE 1 -FLAGS (\\Seen)');
    assert.doesNotMatch(await c.ok('NOOP'), /ESEARCH/, 'cancelled');
    assert.match((await c.cmd(`CANCELUPDATE "${tag}"`)).tagged, /^NO \[CLIENTBUG\]/);
  });

  test('UID SORT RETURN (UPDATE): positions in sort order; expunges are REMOVEFROM after the EXPUNGE', async () => {
    const r = await c.cmd('UID SORT RETURN (UPDATE) (DATE) UTF-8 UNSEEN');
    // unseen now: 1 (Jan 3), 3 (Jan 2), 4 (Jan 4) -> by date 3 1 4
    assert.match(r.text, /^\* ESEARCH \(TAG "t\d+"\) UID ALL 3,1,4\r\n/m);
    const tag = /TAG "(t\d+)"/.exec(r.text)![1];
    await append(other, 'five', 'Sun, 31 Dec 2023 10:00:00 +0000'); // uid 5, first by date
    await other.ok('UID STORE 1 +FLAGS (\\Deleted)');
    await other.ok('UID EXPUNGE 1');
    const n = await c.ok('NOOP');
    assert.match(n, new RegExp(`^\\* 1 EXPUNGE\\r\\n[^]*\\* ESEARCH \\(TAG "${tag}"\\) UID REMOVEFROM \\(2 1\\) ADDTO \\(1 5\\)\\r\\n`, 'm'));
    // IDLE: pushed with the change
    c.t.send('I1 IDLE\r\n');
    await c.t.readUntil(/\+ [^\r\n]*\r\n/);
    await other.ok('UID STORE 3 +FLAGS (\\Seen)');
    const pushed = await c.t.readUntil(/ESEARCH[^\r\n]*\r\n/);
    assert.match(pushed, new RegExp(`\\* ESEARCH \\(TAG "${tag}"\\) UID REMOVEFROM \\(2 3\\)\\r\\n`));
    c.t.send('DONE\r\n');
    await c.readTagged('I1');
    await c.ok(`CANCELUPDATE "${tag}"`);
  });

  test('sequence-number forms get NO [NOUPDATE] and their result; a context ends with the mailbox', async () => {
    const r = await c.cmd('SEARCH RETURN (UPDATE) ALL');
    assert.equal(r.status, 'OK');
    assert.match(r.text, /^\* NO \[NOUPDATE "t\d+"\] /m);
    assert.match(r.text, /^\* ESEARCH \(TAG "t\d+"\) ALL 1:\d\r\n/m);
    const s = await c.cmd('SORT RETURN (UPDATE) (SIZE) UTF-8 ALL');
    assert.match(s.text, /^\* NO \[NOUPDATE "t\d+"\] /m);
    const u = await c.cmd('UID SEARCH RETURN (COUNT UPDATE) ALL');
    assert.match(u.text, /^\* ESEARCH \(TAG "t\d+"\) UID COUNT 4\r\n/m);
    await c.ok('SELECT Live');
    await append(other, 'six', 'Fri, 5 Jan 2024 10:00:00 +0000');
    assert.doesNotMatch(await c.ok('NOOP'), /ESEARCH/, 'a new SELECT drops the contexts');
    assert.equal((await c.cmd('UID SEARCH RETURN (UPDATE FOO) ALL')).status, 'BAD');
    assert.equal((await c.cmd('CANCELUPDATE')).status, 'BAD');
  });

  test('python imaplib: UID SEARCH RETURN (UPDATE), then an APPEND by another client arrives as ADDTO on NOOP', async () => {
    const py = [
      'import imaplib, sys',
      'M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); M.login(sys.argv[2], sys.argv[3])',
      'N = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); N.login(sys.argv[2], sys.argv[3])',
      'M.create("PyLive"); M.select("PyLive")',
      'typ, dat = M.uid("SEARCH", "RETURN", "(UPDATE)", "ALL")',
      'print(typ, M.untagged_responses.pop("ESEARCH", []))',
      'N.append("PyLive", None, None, b"Subject: x\\r\\n\\r\\nbody\\r\\n")',
      'M.noop()',
      'print(M.untagged_responses.pop("ESEARCH", []))',
      'M.logout(); N.logout()',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) => {
      execFile('python3', ['-c', py, String(server.ports.imap), USER, PASS], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
    });
    const [first, second] = out.trim().split('\n');
    assert.match(first, /^OK \[b'\(TAG "[A-Z0-9]+"\) UID'\]$/, 'an empty mailbox: ESEARCH without ALL');
    assert.match(second, /^\[b'\(TAG "[A-Z0-9]+"\) UID ADDTO \(0 1\)'\]$/);
  });
});
