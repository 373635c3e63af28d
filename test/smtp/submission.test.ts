// Submission end to end: AUTH only after TLS, sender checks, Message-ID/Date added,
// local delivery, remote recipients queued, and the server-side Sent copy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { connect } from '../harness/transcript.js';
import { runCli } from '../harness/server.js';
import { cmd, dataDirOf, reply, startWorld, upgrade, type World } from './setup.js';

const run = promisify(execFile);
const PLAIN = Buffer.from('\0alice@example.test\0secret').toString('base64');

describe('SMTP submission', () => {
  let w: World;
  before(async () => {
    // remote.test routes to a closed port: queued mail stays queued (no network).
    w = await startWorld({ MAILROOM_AUTH_ALLOW_PLAINTEXT: 'never', MAILROOM_QUEUE_ROUTES: 'remote.test=127.0.0.1:1' }, async (store) => {
      await store.addAlias('info@example.test', 'alice@example.test');
    });
  });
  after(() => w.stop());

  const sent = (subject: string) => w.messages('alice@example.test', 'Sent').then((ms) => ms.filter((m) => m.text.includes(`Subject: ${subject}`)));

  it('587: no AUTH before STARTTLS (530 5.7.0), MAIL needs AUTH (530 5.7.0); after STARTTLS AUTH PLAIN works', async () => {
    const t = await connect(w.server.ports.submission!);
    await reply(t);
    const ehlo = await cmd(t, 'EHLO client.test');
    assert.doesNotMatch(ehlo, /AUTH/);
    assert.match(ehlo, /250 STARTTLS\r\n$/);
    assert.equal(await cmd(t, `AUTH PLAIN ${PLAIN}`), '530 5.7.0 Must issue a STARTTLS command first\r\n');
    assert.equal(await cmd(t, 'MAIL FROM:<alice@example.test>'), '530 5.7.0 Authentication required\r\n');
    await cmd(t, 'STARTTLS');
    const s = await upgrade(t);
    assert.match(await cmd(s, 'EHLO client.test'), /\r\n250-DSN\r\n250-REQUIRETLS\r\n250 AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN\r\n$/);
    assert.equal(await cmd(s, `AUTH PLAIN ${Buffer.from('\0alice@example.test\0wrong').toString('base64')}`), '535 5.7.8 Authentication credentials invalid\r\n');
    assert.equal(await cmd(s, 'AUTH LOGIN'), '334 VXNlcm5hbWU6\r\n');
    assert.equal(await cmd(s, '*'), '501 5.0.0 Authentication cancelled\r\n');
    assert.equal(await cmd(s, 'AUTH PLAIN'), '334 \r\n');
    assert.equal(await cmd(s, PLAIN), '235 2.7.0 Authentication successful\r\n');
    assert.equal(await cmd(s, `AUTH PLAIN ${PLAIN}`), '503 5.5.1 Already authenticated\r\n');
    assert.equal(await cmd(s, 'MAIL FROM:<bob@example.test>'), '553 5.7.1 Sender address <bob@example.test> is not yours\r\n');
    assert.equal(await cmd(s, 'MAIL FROM:<someone@other.test>'), '553 5.7.1 Sender address <someone@other.test> is not yours\r\n'); // catch-all does not count
    assert.equal(await cmd(s, 'MAIL FROM:<>'), '553 5.7.1 Sender address <> is not yours\r\n');
    assert.equal(await cmd(s, 'MAIL FROM:<info@example.test>'), '250 2.1.0 Sender OK\r\n'); // an alias that reaches alice
    assert.equal(await cmd(s, 'RSET'), '250 2.0.0 Flushed\r\n');
    assert.equal(await cmd(s, 'MAIL FROM:<alice+news@example.test>'), '250 2.1.0 Sender OK\r\n');
    assert.equal(await cmd(s, 'RCPT TO:<nobody@example.test>'), '550 5.1.1 <nobody@example.test>: Recipient address rejected: no such user here\r\n');
    s.close();
  });

  it('465 with nodemailer: local recipient delivered, Message-ID and Date added, Sent copy stored once and seen', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: w.server.ports.submissions!, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice@example.test', pass: 'secret' } });
    const raw = 'From: alice@example.test\r\nTo: bob@example.test\r\nSubject: no ids\r\n\r\nHello Bob.\r\n';
    const info = await transport.sendMail({ envelope: { from: 'alice@example.test', to: ['bob@example.test'] }, raw });
    assert.match(info.response, /^250 2\.0\.0 /);
    const [inbox] = (await w.messages('bob@example.test')).filter((m) => m.text.includes('Subject: no ids'));
    assert.match(inbox.text, /^Return-Path: <alice@example\.test>\r\nReceived: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby mx\.example\.test \(Mailroom\) with ESMTPSA id /);
    assert.match(inbox.text, /\r\nMessage-ID: <[^>]+@mx\.example\.test>\r\nDate: \w{3}, \d\d \w{3} \d{4} /);
    const copies = await sent('no ids');
    assert.equal(copies.length, 1);
    assert.deepEqual(copies[0].row.flags, ['\\Seen']);
    assert.match(copies[0].text, /^Message-ID: <[^>]+@mx\.example\.test>\r\nDate: [^\r]+\r\nFrom: alice@example\.test\r\n/, 'the Sent copy is what was sent, without trace fields');
  });

  it('587 with swaks (STARTTLS + AUTH LOGIN): a remote recipient is queued; the Sent copy keeps the client Message-ID', async () => {
    const { stdout } = await run('swaks', ['--server', '127.0.0.1', '--port', String(w.server.ports.submission!), '-tls', '--auth', 'LOGIN', '--auth-user', 'alice@example.test', '--auth-password', 'secret',
      '--from', 'alice@example.test', '--to', 'friend@remote.test', '--header', 'Subject: to a friend', '--header', 'Message-Id: <friend-1@example.test>', '--body', 'see you']);
    assert.match(stdout, /<~ +250 2\.0\.0 Ok: queued as/);
    const copies = await sent('to a friend');
    assert.equal(copies.length, 1);
    assert.match(copies[0].text, /Message-Id: <friend-1@example\.test>/);
    const queue = await runCli(['queue', 'list'], { dataDir: dataDirOf(w) });
    const id = /^([0-9a-f]+) .* alice@example\.test +1\/1 pending/m.exec(queue.stdout)?.[1];
    assert.ok(id, queue.stdout);
    assert.match((await runCli(['queue', 'show', id], { dataDir: dataDirOf(w) })).stdout, /friend@remote\.test/);
  });

  it('sent.copy=off: no Sent copy for that user', async () => {
    const r = await runCli(['user', 'set', 'bob@example.test', 'sent.copy=off'], { dataDir: dataDirOf(w) });
    assert.equal(r.code, 0, r.stderr);
    const script = `import smtplib, ssl\nctx=ssl._create_unverified_context()\ns=smtplib.SMTP_SSL('127.0.0.1', ${w.server.ports.submissions}, context=ctx)\ns.login('bob@example.test','secret')\ns.sendmail('bob@example.test',['alice@example.test'],b'Subject: no copy please\\r\\n\\r\\nx\\r\\n')\ns.quit()`;
    await run('python3', ['-c', script]);
    assert.equal((await w.messages('alice@example.test')).filter((m) => m.text.includes('Subject: no copy please')).length, 1);
    assert.equal((await w.messages('bob@example.test', 'Sent')).filter((m) => m.text.includes('Subject: no copy please')).length, 0);
  });

  const imap = async (user: string) => {
    const client = new ImapFlow({ host: '127.0.0.1', port: w.server.ports.imaps!, secure: true, tls: { rejectUnauthorized: false }, auth: { user, pass: 'secret' }, logger: false });
    await client.connect();
    return client;
  };

  it('a client that APPENDs its own Sent copy (imapflow) ends up with one copy; another message still gets stored', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: w.server.ports.submissions!, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice@example.test', pass: 'secret' } });
    const headers = 'From: alice@example.test\r\nTo: bob@example.test\r\nSubject: appended too\r\nMessage-ID: <dup-1@example.test>\r\nDate: Sun, 22 Nov 2026 00:00:00 +0000\r\n';
    const body = '\r\nThe same body.\r\n';
    await transport.sendMail({ envelope: { from: 'alice@example.test', to: ['bob@example.test'] }, raw: headers + body });
    const [serverCopy] = await sent('appended too');
    const client = await imap('alice@example.test');
    try {
      // Thunderbird-style: its own copy carries Bcc and is appended \Seen.
      const res = await client.append('Sent', `Bcc: carol@other.test\r\n${headers}${body}`, ['\\Seen', '$Forwarded']);
      assert.ok(res);
      assert.equal(Number(res.uid), serverCopy.row.uid, 'APPENDUID names the copy the server made');
      const after = await sent('appended too');
      assert.equal(after.length, 1, 'one copy');
      assert.deepEqual([...after[0].row.flags].sort(), ['$Forwarded', '\\Seen']);
      const other = await client.append('Sent', `${headers}\r\nA different body.\r\n`);
      assert.ok(other && Number(other.uid) > serverCopy.row.uid);
      assert.equal((await sent('appended too')).length, 2, 'a different body is another message');
    } finally {
      await client.logout();
    }
  });

  it('locally delivered mail is visible over IMAP (imapflow) and POP3 (python3 poplib)', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: w.server.ports.submissions!, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice@example.test', pass: 'secret' } });
    await transport.sendMail({ from: 'alice@example.test', to: 'carol@other.test', subject: 'seen everywhere', text: 'over IMAP and POP3' });
    const client = await imap('carol@other.test');
    try {
      await client.mailboxOpen('INBOX');
      const found = await client.search({ subject: 'seen everywhere' });
      assert.equal(Array.isArray(found) ? found.length : 0, 1);
    } finally {
      await client.logout();
    }
    const script = `import poplib, ssl\np=poplib.POP3_SSL('127.0.0.1', ${w.server.ports.pop3s}, context=ssl._create_unverified_context())\np.user('carol@other.test')\np.pass_('secret')\nn=len(p.list()[1])\nprint(b'\\r\\n'.join(p.retr(n)[1]).decode())\np.quit()`;
    const { stdout } = await run('python3', ['-c', script]);
    assert.match(stdout, /Subject: seen everywhere/);
  });
});

describe('SMTP protocol trace', () => {
  it('logs the conversation with AUTH secrets redacted', async () => {
    const w = await startWorld({ MAILROOM_LOG_TRACE: '1' });
    try {
      const t = await connect(w.server.ports.submissions!, { tls: true });
      await reply(t);
      await cmd(t, 'EHLO client.test');
      assert.equal(await cmd(t, `AUTH PLAIN ${PLAIN}`), '235 2.7.0 Authentication successful\r\n');
      await cmd(t, 'QUIT');
      await w.server.waitForLog((l) => l.msg === 'trace' && String(l.line).startsWith('221 '));
      const lines = w.server.stdout.filter((l) => l.msg === 'trace').map((l) => `${l.dir} ${l.line}`);
      assert.ok(lines.includes('C EHLO client.test'), lines.join('\n'));
      assert.ok(lines.includes('C AUTH PLAIN ***'), lines.join('\n'));
      assert.ok(!JSON.stringify(w.server.stdout).includes(PLAIN), 'the SASL response never reaches the log');
    } finally {
      await w.stop();
    }
  });
});
