// Vacation auto-reply (issue 15) over real sockets: python smtplib sends, imaplib reads the
// reply in the sender's INBOX (a local sender) or the server's log and queue show it leaving
// (a remote sender); RFC 3834's "once per sender" and "never to lists or robots" hold.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { runCli, startServer, type RunningTestServer } from './harness/server.js';

const ALICE = 'alice@example.test';
const CAROL = 'carol@example.test';
const PASS = 'vacation-pw';
let server: RunningTestServer;

function py(script: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, ...args], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
  });
}

const SUBMIT = `
import smtplib, sys
with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30) as s:
    s.login(sys.argv[2], sys.argv[3])
    s.sendmail(sys.argv[2], [sys.argv[4]], sys.argv[5].encode())
`;

const MX = `
import smtplib, sys
with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30) as s:
    s.sendmail(sys.argv[2], [sys.argv[3]], sys.argv[4].encode())
`;

/** Every message in the user's INBOX, headers only, as one JSON list. */
const INBOX = `
import imaplib, sys, json
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login(sys.argv[2], sys.argv[3])
c.select('INBOX', readonly=True)
out = []
for n in c.search(None, 'ALL')[1][0].split():
    out.append(c.fetch(n, '(BODY.PEEK[])')[1][0][1].decode('utf-8', 'replace'))
print(json.dumps(out))
c.logout()
`;

async function inbox(user: string): Promise<string[]> {
  return JSON.parse(await py(INBOX, String(server.ports.imap), user, PASS)) as string[];
}

const cli = (...args: string[]) => runCli(args, { dataDir: server.dataDir });

function mail(from: string, subject: string, extra = ''): string {
  return `From: <${from}>\r\nTo: Alice <${ALICE}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.net>\r\n${extra}\r\nhello\r\n`;
}

before(async () => {
  server = await startServer();
  for (const u of [ALICE, CAROL]) assert.equal((await cli('user', 'add', u, '--password', PASS)).code, 0);
});
after(async () => {
  await server?.stop();
});

describe('vacation auto-reply', () => {
  test('vacation set checks its input; show tells what is on', async () => {
    assert.match((await cli('vacation', 'set', ALICE)).stderr, /give --message or --message-file/);
    assert.match((await cli('vacation', 'set', ALICE, '--message', 'x', '--days', '0')).stderr, /--days must be/);
    assert.match((await cli('vacation', 'set', ALICE, '--message', 'x', '--until', '2001-01-01')).stderr, /in the past/);
    assert.match((await cli('vacation', 'show', ALICE)).stdout, /vacation off/);
    const set = await cli('vacation', 'set', ALICE, '--message', 'Away until Monday.\nAlice', '--until', '2099-01-01', '--days', '3');
    assert.equal(set.code, 0, set.stderr);
    const show = (await cli('vacation', 'show', ALICE)).stdout;
    assert.match(show, /vacation on until 2099-01-01T00:00:00.000Z, every 3 day\(s\)/);
    assert.match(show, /Away until Monday\.\nAlice/);
  });

  test('a local colleague gets one reply in her INBOX, from the null sender, threaded; the second message gets none', { timeout: 60_000 }, async () => {
    await py(SUBMIT, String(server.ports.submission), CAROL, PASS, ALICE, mail(CAROL, 'Budget question'));
    let replies: string[] = [];
    for (let i = 0; i < 50 && replies.length === 0; i++) {
      replies = (await inbox(CAROL)).filter((m) => /Auto-Submitted: auto-replied/.test(m));
      if (replies.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(replies.length, 1);
    const r = replies[0];
    assert.match(r, /^Return-Path: <>\r\n/, 'sent with the null sender (RFC 3834 3.3)');
    assert.match(r, /\r\nFrom: <alice@example.test>\r\nTo: <carol@example.test>\r\nSubject: Auto: Budget question\r\n/);
    assert.match(r, /\r\nIn-Reply-To: <Budgetquestion@example.net>\r\n/);
    assert.match(r, /\r\n\r\nAway until Monday\.\r\nAlice\r\n$/);

    await py(SUBMIT, String(server.ports.submission), CAROL, PASS, ALICE, mail(CAROL, 'Budget question again'));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await inbox(CAROL)).filter((m) => /Auto-Submitted: auto-replied/.test(m)).length, 1, 'once per sender per interval');
    assert.equal((await inbox(ALICE)).length, 2, 'alice got both messages');
  });

  test('a remote sender is answered through the queue; lists, robots and auto-replies are not', { timeout: 60_000 }, async () => {
    await py(MX, String(server.ports.smtp), 'news@lists.example.net', ALICE, mail('news@lists.example.net', 'Newsletter', 'List-Id: <news.lists.example.net>\r\n'));
    await py(MX, String(server.ports.smtp), 'robot@example.net', ALICE, mail('robot@example.net', 'Away too', 'Auto-Submitted: auto-replied\r\n'));
    await py(MX, String(server.ports.smtp), 'MAILER-DAEMON@example.net', ALICE, mail('MAILER-DAEMON@example.net', 'Bounce'));
    await py(MX, String(server.ports.smtp), 'bob@example.net', ALICE, mail('bob@example.net', 'Hello Alice'));
    const sent = await server.waitForLog((l) => l.msg === 'vacation reply sent' && l.to === 'bob@example.net', 20_000);
    assert.equal(sent.user, ALICE);
    const replied = server.stdout.filter((l) => l.msg === 'vacation reply sent').map((l) => l.to);
    assert.deepEqual(replied, [CAROL, 'bob@example.net'], 'nobody else was answered');
    const skipped = server.stdout.filter((l) => l.msg === 'no vacation reply').map((l) => l.why);
    assert.ok(skipped.length === 0 || skipped.every((w) => typeof w === 'string'));
  });

  test('vacation off: no more replies', { timeout: 60_000 }, async () => {
    assert.equal((await cli('vacation', 'off', ALICE)).code, 0);
    assert.match((await cli('vacation', 'show', ALICE)).stdout, /vacation off/);
    await py(MX, String(server.ports.smtp), 'dave@example.net', ALICE, mail('dave@example.net', 'Are you there'));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(server.stdout.filter((l) => l.msg === 'vacation reply sent' && l.to === 'dave@example.net').length, 0);
  });
});
