// `mailroom export` and `mailroom import`, mbox and maildir, checked with python's `mailbox`
// module as an independent reader and writer: flags and keywords as mutt/Thunderbird/Dovecot
// read them, mboxrd quoting of "From " lines, CRLF and bare-LF messages kept byte for byte,
// and the round trip export → import → export giving the same bytes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, startServer, type RunningTestServer } from './harness/server.js';
import { Imap } from './imap/client.js';
import { deliver } from './pop3/helpers.js';

const T = { timeout: 120_000 };
let server: RunningTestServer;
let work: string;
let n = 0;

async function cliOk(args: string[]): Promise<string> {
  const r = await runCli(args, { dataDir: server.dataDir, timeoutMs: 60_000 });
  assert.equal(r.code, 0, `mailroom ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function newUser(label: string): Promise<{ user: string; pass: string }> {
  const user = `${label}-${++n}@example.test`;
  const pass = `pw-${n}`;
  await cliOk(['user', 'add', user, '--password', pass]);
  return { user, pass };
}

function python(script: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python: ${stderr || err.message}`));
      resolve(JSON.parse(stdout));
    });
  });
}

const CRLF_MSG = [
  'From: Bob <bob@example.test>', 'To: alice@example.test', 'Subject: Minutes', 'Message-ID: <minutes@example.test>', '',
  'From the start of the meeting:', '>From a quoted line', '>>From twice', 'end', '',
].join('\r\n');
const LF_MSG = 'From: Carol <carol@example.test>\nSubject: Bare LF\nMessage-ID: <lf@example.test>\n\nFrom here on, LF only.\n';
const OLD_MSG = 'From: Dan <dan@example.test>\r\nSubject: Old one\r\nMessage-ID: <old@example.test>\r\n\r\nfrom 2020\r\n';

before(async () => {
  server = await startServer();
  work = fs.mkdtempSync(path.join(server.dataDir, '..', 'archive-'));
});
after(async () => {
  await server?.stop();
});

/** A user with two INBOX messages (flags, keywords) and one in Projects/2026 from 2020. */
async function fixture(): Promise<{ user: string; pass: string }> {
  const u = await newUser('src');
  await deliver(server, u.user, CRLF_MSG);
  await deliver(server, u.user, LF_MSG);
  const c = await Imap.open(server.ports.imap!, { login: false });
  await c.ok(`LOGIN ${u.user} ${u.pass}`);
  await c.ok('SELECT INBOX');
  await c.ok('UID STORE 1 +FLAGS (\\Seen \\Answered $Work)');
  await c.ok('UID STORE 2 +FLAGS (\\Flagged \\Draft $Forwarded)');
  await c.ok('CREATE Projects/2026');
  c.t.send(`a1 APPEND Projects/2026 (\\Seen) "01-Jan-2020 10:00:00 +0000" {${Buffer.byteLength(OLD_MSG)}+}\r\n${OLD_MSG}\r\n`);
  assert.match((await c.readTagged('a1')).status, /OK/);
  c.close();
  return u;
}

describe('export and import', () => {
  test('mbox: python reads the flags, keywords and un-quoted bodies; import then export gives the same bytes', T, async () => {
    const src = await fixture();
    const out = path.join(work, 'mbox1');
    assert.match(await cliOk(['export', '--user', src.user, '--format', 'mbox', '--out', out]), /exported 3 messages/);
    const read = (await python(`
import mailbox, json, sys
box = mailbox.mbox(sys.argv[1], create=False)
print(json.dumps([{'flags': m.get_flags(), 'kw': m['X-Keywords'], 'subject': m['Subject'], 'from': m.get_from(), 'body': m.get_payload()} for m in box]))
`, [path.join(out, 'INBOX.mbox')])) as { flags: string; kw: string; subject: string; from: string; body: string }[];
    assert.deepEqual(read.map((m) => m.subject), ['Minutes', 'Bare LF']);
    assert.deepEqual([...read[0].flags].sort(), ['A', 'O', 'R']);
    assert.equal(read[0].kw, '$Work');
    assert.deepEqual([...read[1].flags].sort(), ['F', 'O', 'T']);
    assert.equal(read[1].kw, '$Forwarded');
    assert.match(read[0].from, /^MAILER-DAEMON /);
    // python reads mboxo: it sees one ">" more than the message had, which shows the quoting happened
    assert.match(read[0].body, /^>From the start of the meeting:\r?\n>>From a quoted line/);
    assert.ok(fs.existsSync(path.join(out, 'Projects', '2026.mbox')));

    const dst = await newUser('mbox-dst');
    assert.match(await cliOk(['import', '--user', dst.user, '--format', 'mbox', out]), /imported 3 messages/);
    const again = path.join(work, 'mbox2');
    await cliOk(['export', '--user', dst.user, '--format', 'mbox', '--out', again]);
    for (const f of ['INBOX.mbox', path.join('Projects', '2026.mbox')]) {
      assert.ok(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(out, f))), `${f} is byte-identical after the round trip`);
    }
    const c = await Imap.open(server.ports.imap!, { login: false });
    await c.ok(`LOGIN ${dst.user} ${dst.pass}`);
    await c.ok('SELECT INBOX');
    const fetched = await c.ok('UID FETCH 1:* (FLAGS BINARY.PEEK[])');
    assert.match(fetched, /FLAGS \(\\Seen \\Answered \$Work( \\Recent)?\)/);
    assert.match(fetched, /FLAGS \(\\Flagged \\Draft \$Forwarded( \\Recent)?\)/);
    assert.ok(fetched.includes(CRLF_MSG), 'the CRLF message byte for byte');
    // IMAP shows a bare LF as CRLF (docs/architecture.md); the stored bytes are checked by the identical re-export
    assert.ok(fetched.includes(LF_MSG.replace(/\n/g, '\r\n')), 'the bare-LF message');
    c.close();
  });

  test('maildir: python reads the files and flags; --mailbox and --before select; the round trip keeps bytes, flags and dates', T, async () => {
    const src = await fixture();
    const out = path.join(work, 'md1');
    assert.match(await cliOk(['export', '--user', src.user, '--format', 'maildir', '--out', out]), /exported 3 messages/);
    const read = (await python(`
import mailbox, json, sys
box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
print(json.dumps(sorted([{'flags': box.get_message(k).get_flags(), 'bytes': box.get_bytes(k).decode('latin1')} for k in box.keys()], key=lambda m: m['bytes'])))
`, [path.join(out, 'INBOX')])) as { flags: string; bytes: string }[];
    assert.deepEqual(read.map((m) => m.bytes).sort(), [CRLF_MSG, LF_MSG].sort());
    const byMsg = new Map(read.map((m) => [m.bytes, m.flags]));
    assert.equal(byMsg.get(CRLF_MSG), 'RSa'); // \Answered \Seen, keyword a = $Work
    assert.equal(byMsg.get(LF_MSG), 'DFP'); // \Draft \Flagged $Forwarded
    assert.match(fs.readFileSync(path.join(out, 'INBOX', 'dovecot-keywords'), 'utf8'), /^0 \$Work\n$/);

    const dst = await newUser('md-dst');
    assert.match(await cliOk(['import', '--user', dst.user, '--format', 'maildir', out]), /imported 3 messages/);
    const again = path.join(work, 'md2');
    await cliOk(['export', '--user', dst.user, '--format', 'maildir', '--out', again]);
    const snapshot = (root: string) =>
      ['INBOX', 'Projects/2026'].flatMap((box) =>
        fs.readdirSync(path.join(root, box, 'cur')).map((f) => {
          const file = path.join(root, box, 'cur', f);
          return `${box} ${f.replace(/^.*:2,/, '')} ${fs.statSync(file).mtime.toISOString()} ${fs.readFileSync(file).toString('base64')}`;
        }).sort());
    assert.deepEqual(snapshot(again), snapshot(out));

    const old = path.join(work, 'md-old');
    assert.match(await cliOk(['export', '--user', src.user, '--format', 'maildir', '--before', '2021-01-01', '--out', old]), /exported 1 messages/);
    const one = path.join(work, 'one.mbox');
    assert.match(await cliOk(['export', '--user', src.user, '--mailbox', 'Projects/2026', '--format', 'mbox', '--out', one]), /exported 1 messages/);
    assert.match(fs.readFileSync(one, 'latin1'), /^From MAILER-DAEMON Wed Jan {2}1 10:00:00 2020\nStatus: RO\r\n/);
  });

  test('an mbox written by python\'s mailbox module imports with its flags', T, async () => {
    const file = path.join(work, 'py.mbox');
    await python(`
import mailbox, json, sys
box = mailbox.mbox(sys.argv[1])
m = mailbox.mboxMessage('From: eve@example.test\\nSubject: read and answered\\n\\nFrom the desk of Eve\\n')
m.set_flags('RA')
box.add(m)
m = mailbox.mboxMessage('From: eve@example.test\\nSubject: flagged\\n\\nbody\\n')
m.set_flags('F')
box.add(m)
box.flush()
print(json.dumps(len(box)))
`, [file]);
    const dst = await newUser('py-dst');
    assert.match(await cliOk(['import', '--user', dst.user, '--format', 'mbox', '--mailbox', 'Old mail', file]), /imported 2 messages/);
    const c = await Imap.open(server.ports.imap!, { login: false });
    await c.ok(`LOGIN ${dst.user} ${dst.pass}`);
    await c.ok('SELECT "Old mail"');
    const fetched = await c.ok('UID FETCH 1:* (FLAGS BODY.PEEK[TEXT])');
    assert.match(fetched, /\* 1 FETCH \(FLAGS \(\\Seen \\Answered( \\Recent)?\)/);
    assert.match(fetched, /\* 2 FETCH \(FLAGS \(\\Flagged( \\Recent)?\)/);
    assert.match(fetched, /\r\nFrom the desk of Eve\r\n/, 'python\'s ">From" quoting undone');
    c.close();
    const bad = await runCli(['import', '--user', dst.user, '--format', 'mbox', path.join(work, 'missing.mbox')], { dataDir: server.dataDir });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /cannot read/);
  });
});
