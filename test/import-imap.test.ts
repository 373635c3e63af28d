// `mailroom import-imap` against a real Dovecot (Debian) as the old server: mailboxes with
// special-use, flags, keywords, an old INTERNALDATE, a 1 MB message, the same message twice;
// checked with python's imaplib on both servers (identical bytes, flags, dates); an interrupted
// run resumed without duplicates; and python's poplib UIDL equal on both servers afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { childEnv, runCli, startServer, type RunningTestServer } from './harness/server.js';
import { startDovecot, type RunningDovecot } from './harness/dovecot.js';
import { mainJs } from './harness/repo-root.js';

const T = { timeout: 180_000 };
const OLD_USER = 'old@example.test';
const OLD_PASS = 'old-secret';
const NEW_USER = 'moved@example.test';
const NEW_PASS = 'new-secret';

let server: RunningTestServer | undefined;
let dovecot: RunningDovecot | undefined;
let skip: string | undefined;
let passwordFile: string;

function python(script: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, ...args], { timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python: ${stderr || err.message}`));
      resolve(JSON.parse(stdout));
    });
  });
}

/** Every selectable mailbox: its special-use attributes and, in UID order, flags, INTERNALDATE (as a time) and sha256 of BODY[]. */
const SNAPSHOT = `
import imaplib, json, sys, hashlib, re, datetime
port, user, pw, names = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].split(',')
c = imaplib.IMAP4('127.0.0.1', port)
c.login(user, pw)
uses = {'\\\\Sent', '\\\\Drafts', '\\\\Trash', '\\\\Junk', '\\\\Archive'}
attrs = {}
for line in c.list()[1]:
    m = re.match(rb'\\(([^)]*)\\) "(.)" "?([^"]*)"?', line)
    attrs[m.group(3).decode()] = sorted(a for a in m.group(1).decode().split() if a in uses)
out = {}
for name in names:
    typ, _ = c.select('"%s"' % name, readonly=True)
    assert typ == 'OK', name
    typ, data = c.uid('FETCH', '1:*', '(FLAGS INTERNALDATE BODY.PEEK[])')
    msgs = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        head = item[0].decode()
        flags = sorted(f for f in re.search(r'FLAGS \\(([^)]*)\\)', head).group(1).split() if f != '\\\\Recent')
        when = datetime.datetime.strptime(re.search(r'INTERNALDATE "([^"]+)"', head).group(1).strip(), '%d-%b-%Y %H:%M:%S %z').timestamp()
        msgs.append([flags, when, hashlib.sha256(item[1]).hexdigest(), len(item[1])])
    out[name] = {'attrs': attrs.get(name, []), 'messages': msgs}
c.logout()
print(json.dumps(out))
`;

const UIDLS = `
import poplib, json, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user(sys.argv[2]); p.pass_(sys.argv[3])
print(json.dumps([l.decode().split(' ', 1)[1] for l in p.uidl()[1]]))
p.quit()
`;

function message(subject: string, body: string, extra = ''): string {
  return `From: Old Friend <friend@example.test>\r\nTo: ${OLD_USER}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n${extra}\r\n${body}\r\n`;
}

function bigMessage(): string {
  const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n';
  return message('One megabyte', line.repeat(Math.ceil((1 << 20) / line.length)));
}

/** The mailboxes and messages on the old server. */
const OLD_MAIL: { box: string; raw: string; flags: string[]; date?: Date }[] = [
  { box: 'INBOX', raw: message('Hello', 'first'), flags: ['\\Seen', '\\Flagged', '$Work'] },
  { box: 'INBOX', raw: message('From 2001', 'an old one'), flags: ['\\Seen'], date: new Date('2001-02-03T04:05:06Z') },
  { box: 'INBOX', raw: message('Twice', 'the same bytes twice'), flags: [] },
  { box: 'INBOX', raw: message('Twice', 'the same bytes twice'), flags: ['\\Answered'] },
  { box: 'INBOX', raw: bigMessage(), flags: ['$Label1'], date: new Date('2019-12-31T23:59:59Z') },
  { box: 'INBOX', raw: message('Unread', 'still new'), flags: [] },
  { box: 'Sent', raw: message('My reply', 'sent by me'), flags: ['\\Seen'], date: new Date('2020-05-06T07:08:09Z') },
  { box: 'Archive', raw: message('Archived', 'kept'), flags: ['\\Seen', 'Receipt'] },
  { box: 'Work/Projects', raw: message('Plan', 'the plan', 'X-Note: nested\r\n'), flags: ['\\Draft', '$Forwarded'] },
];
const BOXES = ['INBOX', 'Sent', 'Archive', 'Work/Projects', 'Drafts', 'Trash', 'Junk'];

async function fillDovecot(d: RunningDovecot): Promise<void> {
  const c = new ImapFlow({ host: '127.0.0.1', port: d.ports.imap, secure: false, doSTARTTLS: false, auth: { user: OLD_USER, pass: OLD_PASS }, logger: false });
  await c.connect();
  for (const b of ['Sent', 'Archive', 'Work/Projects', 'Drafts', 'Trash', 'Junk']) await c.mailboxCreate(b).catch(() => undefined);
  for (const m of OLD_MAIL) await c.append(m.box, m.raw, m.flags, m.date);
  await c.logout();
}

async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(args, { dataDir: server!.dataDir, timeoutMs: 120_000 });
}

function importArgs(extra: string[] = [], user = NEW_USER): string[] {
  return [
    'import-imap', '--from', `imaps://${OLD_USER}@127.0.0.1:${dovecot!.ports.imaps}`, '--insecure',
    '--password-file', passwordFile, '--user', user, ...extra,
  ];
}

/** Runs the import and SIGKILLs it as soon as it reports the first finished mailbox; resolves with its stderr. */
function importKilledAfterFirstMailbox(user: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...importArgs([], user)], { env: childEnv(server!.dataDir), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (/^INBOX: /m.test(stderr)) child.kill('SIGKILL');
    });
    child.once('error', reject);
    child.once('close', () => resolve(stderr));
  });
}

before(async () => {
  const d = await startDovecot({ [OLD_USER]: OLD_PASS });
  if ('skip' in d) {
    skip = d.skip;
    return;
  }
  dovecot = d;
  await fillDovecot(d);
  server = await startServer();
  passwordFile = path.join(server.dataDir, '..', 'old-password');
  fs.writeFileSync(passwordFile, `${OLD_PASS}\n`, { mode: 0o600 });
  const add = await cli(['user', 'add', NEW_USER, '--password', NEW_PASS]);
  assert.equal(add.code, 0, add.stderr);
});

after(async () => {
  await server?.stop();
  await dovecot?.stop();
});

describe('import-imap from Dovecot', () => {
  test('interrupted, resumed: identical to the old server, no duplicates; POP3 UIDLs taken over', T, async (t) => {
    if (skip) return t.skip(skip);
    const d = dovecot!;
    const s = server!;
    // Mailroom's own Archive goes, so the import has to create it with \Archive from the old server's LIST.
    const c = new ImapFlow({ host: '127.0.0.1', port: s.ports.imap!, secure: false, doSTARTTLS: false, auth: { user: NEW_USER, pass: NEW_PASS }, logger: false });
    await c.connect();
    await c.mailboxDelete('Archive');
    await c.logout();

    const first = await cli(importArgs(['--limit', '4']));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /imported 4 messages .*stopped at --limit/);
    // Killed between storing a message and writing it down: the last journal line is lost.
    const journalDir = path.join(s.dataDir, 'imports');
    const [journal] = fs.readdirSync(journalDir);
    const lines = fs.readFileSync(path.join(journalDir, journal), 'utf8').trimEnd().split('\n');
    assert.match(lines.at(-1)!, /^C\t/);
    fs.writeFileSync(path.join(journalDir, journal), `${lines.slice(0, -1).join('\n')}\n`);

    const second = await cli(importArgs(['--pop3', `pop3://127.0.0.1:${d.ports.pop3}`]));
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /imported 5 messages from 7 mailboxes, 4 were already here/);
    assert.match(second.stderr, /^INBOX: 2 copied, 4 already here, 6 on the old server$/m);
    assert.match(second.stdout, /POP3: 6 UIDLs taken over, 0 already, 0 old POP3 messages not found/);

    const old = await python(SNAPSHOT, [String(d.ports.imap), OLD_USER, OLD_PASS, BOXES.join(',')]);
    const moved = await python(SNAPSHOT, [String(s.ports.imap!), NEW_USER, NEW_PASS, BOXES.join(',')]);
    assert.deepEqual(moved, old);
    const inbox = (old as Record<string, { messages: unknown[] }>).INBOX.messages;
    assert.equal(inbox.length, 6);
    assert.equal((old as Record<string, { attrs: string[] }>).Archive.attrs[0], '\\Archive');

    const oldUidls = await python(UIDLS, [String(d.ports.pop3), OLD_USER, OLD_PASS]);
    const newUidls = await python(UIDLS, [String(s.ports.pop3!), NEW_USER, NEW_PASS]);
    assert.equal((oldUidls as string[]).length, 6);
    assert.deepEqual(newUidls, oldUidls);

    // A third run finds everything there.
    const third = await cli(importArgs(['--pop3', `pop3://127.0.0.1:${d.ports.pop3}`]));
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /imported 0 messages from 7 mailboxes, 9 were already here/);
    assert.match(third.stdout, /POP3: 0 UIDLs taken over, 6 already/);
    assert.deepEqual(await python(SNAPSHOT, [String(s.ports.imap!), NEW_USER, NEW_PASS, BOXES.join(',')]), old);
  });

  test('killed with SIGKILL in the middle, run again: identical, nothing twice', T, async (t) => {
    if (skip) return t.skip(skip);
    const user = 'killed@example.test';
    const add = await cli(['user', 'add', user, '--password', NEW_PASS]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(await importKilledAfterFirstMailbox(user), /^INBOX: 6 copied/m);
    const again = await cli(importArgs([], user));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /, \d+ were already here/);
    const old = await python(SNAPSHOT, [String(dovecot!.ports.imap), OLD_USER, OLD_PASS, BOXES.join(',')]);
    assert.deepEqual(await python(SNAPSHOT, [String(server!.ports.imap!), user, NEW_PASS, BOXES.join(',')]), old);
  });

  test('bad input: a wrong password, a certificate that does not verify, a URL with a password', T, async (t) => {
    if (skip) return t.skip(skip);
    const wrong = path.join(server!.dataDir, '..', 'wrong-password');
    fs.writeFileSync(wrong, 'nope\n');
    // imap:// with STARTTLS (Dovecot offers it; --insecure for its self-signed certificate), then a refused login.
    const bad = await cli(['import-imap', '--from', `imap://${OLD_USER}@127.0.0.1:${dovecot!.ports.imap}`, '--insecure', '--password-file', wrong, '--user', NEW_USER]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: .*(authentication|login)/im);
    const untrusted = await cli(['import-imap', '--from', `imaps://${OLD_USER}@127.0.0.1:${dovecot!.ports.imaps}`, '--password-file', passwordFile, '--user', NEW_USER]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /certificate/i);
    const inUrl = await cli(['import-imap', '--from', `imaps://${OLD_USER}:pw@127.0.0.1`, '--password-file', passwordFile, '--user', NEW_USER]);
    assert.equal(inUrl.code, 1);
    assert.match(inUrl.stderr, /--password-file/);
  });
});
