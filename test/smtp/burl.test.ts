// BURL (RFC 4468) on submission: a draft APPENDed with imapflow, signed with GENURLAUTH over
// raw IMAP, sent with BURL from a raw SMTP client, arrives byte for byte; BURL mixed with
// BDAT; every refusal with its enhanced status code, and the session goes on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect, type Transcript } from '../harness/transcript.js';
import { Imap } from '../imap/client.js';
import { cmd, reply, startWorld, type World } from './setup.js';

const run = promisify(execFile);
const ALICE = 'alice@example.test';
const ENC = encodeURIComponent(ALICE);
const plain = (user: string) => Buffer.from(`\0${user}\0secret`).toString('base64');
const DRAFT = [
  'From: alice@example.test',
  'To: bob@example.test',
  'Subject: big draft',
  'Date: Sun, 29 Nov 2026 09:00:00 +0000',
  'Message-ID: <draft-1@example.test>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Line one of the draft.',
  'Ünïcödé and a long line ' + 'x'.repeat(500),
  '',
].join('\r\n');
const DRAFT2 = DRAFT.replace('draft-1@', 'draft-2@').replace('Subject: big draft', 'Subject: second draft');

describe('SMTP BURL', { timeout: 90_000 }, () => {
  let w: World;
  let imap: Imap;
  let uid: number;
  /** A second draft: the resend guard would take the same Message-ID twice for a resend. */
  let uid2: number;
  before(async () => {
    w = await startWorld();
    const flow = new ImapFlow({ host: '127.0.0.1', port: w.server.ports.imap!, secure: false, tls: { rejectUnauthorized: false }, auth: { user: ALICE, pass: 'secret' }, logger: false });
    await flow.connect();
    const appended = await flow.append('Drafts', Buffer.from(DRAFT), ['\\Draft']);
    assert.ok(appended && appended.uid);
    uid = appended.uid;
    const second = await flow.append('Drafts', Buffer.from(DRAFT2), ['\\Draft']);
    assert.ok(second && second.uid);
    uid2 = second.uid;
    await flow.logout();
    imap = await Imap.open(w.server.ports.imap!, { login: false });
    await imap.ok(`LOGIN ${ALICE} secret`);
  });
  after(async () => {
    imap?.close();
    await w?.stop();
  });

  async function gen(rump: string): Promise<string> {
    const r = await imap.ok(`GENURLAUTH "${rump}" INTERNAL`);
    return /^\* GENURLAUTH "([^"]+)"/.exec(r)![1];
  }

  async function session(user = ALICE): Promise<Transcript> {
    const t = await connect(w.server.ports.submission!);
    await reply(t);
    const ehlo = await cmd(t, 'EHLO client.test');
    assert.match(ehlo, /\r\n250-BURL\r\n/, 'BURL without argument before AUTH (RFC 4468 3.1)');
    assert.match(ehlo, /\r\n250-8BITMIME\r\n/, 'RFC 4468 4: with 8BITMIME');
    assert.equal(await cmd(t, `AUTH PLAIN ${plain(user)}`), '235 2.7.0 Authentication successful\r\n');
    assert.match(await cmd(t, 'EHLO client.test'), /\r\n250-BURL imap\r\n/, 'BURL imap once authenticated');
    return t;
  }

  async function received(subject: string, count: number): Promise<Buffer[]> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const got = (await w.messages('bob@example.test')).filter((m) => m.text.includes(`Subject: ${subject}`)).map((m) => m.raw);
      if (got.length >= count || Date.now() > deadline) return got;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** What submission put above the draft must be trace fields only: the draft itself is unchanged. */
  function assertDraftAtEnd(raw: Buffer, draft: string): void {
    const text = raw.toString('utf8');
    assert.ok(text.endsWith(draft), 'the draft arrives byte for byte');
    const added = text.slice(0, text.length - draft.length);
    for (const field of added.split(/\r\n(?![ \t])/).filter((l) => l !== '')) assert.match(field, /^(Received|Return-Path|X-[\w-]+|Authentication-Results):/i, field);
  }

  it('round trip: APPEND (imapflow), GENURLAUTH submit+alice, BURL LAST; bob receives the draft byte for byte', async () => {
    const url = await gen(`imap://${ENC}@127.0.0.1/Drafts/;uid=${uid};urlauth=submit+${ENC}`);
    const t = await session();
    assert.equal(await cmd(t, `MAIL FROM:<${ALICE}>`), '250 2.1.0 Sender OK\r\n');
    assert.match(await cmd(t, 'RCPT TO:<bob@example.test>'), /^250 /);
    assert.match(await cmd(t, `BURL ${url} LAST`), /^250 2\.0\.0 /);
    const [raw] = await received('big draft', 1);
    assert.ok(raw);
    assertDraftAtEnd(raw, DRAFT);
    t.close();
  });

  it('BDAT and BURL interleaved, pipelined: a prepended header, the draft, and a last BDAT', async () => {
    const url = await gen(`imap://${ENC}@127.0.0.1/Drafts/;uid=${uid2};urlauth=submit+${ENC}`);
    const body = await gen(`imap://${ENC}@127.0.0.1/Drafts/;uid=${uid2}/;section=TEXT;urlauth=submit+${ENC}`);
    const t = await session();
    const head = 'Resent-From: alice@example.test\r\n';
    const tail = '-- \r\nsent by BURL\r\n';
    t.send(`MAIL FROM:<${ALICE}>\r\nRCPT TO:<bob@example.test>\r\nBDAT ${head.length}\r\n${head}BURL ${url}\r\n`);
    assert.equal(await reply(t), '250 2.1.0 Sender OK\r\n');
    assert.match(await reply(t), /^250 /);
    assert.equal(await reply(t), `250 2.0.0 ${head.length} octets received\r\n`);
    assert.equal(await reply(t), '250 2.5.0 Waiting for additional BURL or BDAT commands\r\n');
    assert.equal(await cmd(t, `BURL ${body}`), '250 2.5.0 Waiting for additional BURL or BDAT commands\r\n');
    t.send(`BDAT ${Buffer.byteLength(tail)} LAST\r\n${tail}`);
    assert.match(await reply(t), /^250 2\.0\.0 /);
    const [raw] = await received('second draft', 1);
    assert.ok(raw);
    const draftBody = DRAFT2.slice(DRAFT2.indexOf('\r\n\r\n') + 4);
    assertDraftAtEnd(raw, `${head}${DRAFT2}${draftBody}${tail}`);
    t.close();
  });

  it('refusals: wrong token 5.6.6, another user 5.7.0, expired 5.6.6, plain URL 5.7.8, no recipients 5.5.0; the transaction ends, the session goes on', async () => {
    const url = await gen(`imap://${ENC}@127.0.0.1/Drafts/;uid=${uid};urlauth=submit+${ENC}`);
    const forBob = await gen(`imap://${ENC}@127.0.0.1/Drafts/;uid=${uid};urlauth=submit+bob%40example.test`);
    const userOnly = await gen(`imap://${ENC}@127.0.0.1/Drafts/;uid=${uid};urlauth=user+${ENC}`);
    const expired = await gen(`imap://${ENC}@127.0.0.1/Drafts/;uid=${uid};EXPIRE=2001-01-01T00:00:00Z;urlauth=submit+${ENC}`);
    const missing = await gen(`imap://${ENC}@127.0.0.1/Drafts/;uid=${uid + 40};urlauth=submit+${ENC}`);
    const wrong = url.slice(0, -1) + (url.endsWith('0') ? '1' : '0');
    const t = await session();
    const start = async () => {
      assert.equal(await cmd(t, `MAIL FROM:<${ALICE}>`), '250 2.1.0 Sender OK\r\n');
      assert.match(await cmd(t, 'RCPT TO:<bob@example.test>'), /^250 /);
    };
    const cases: [string, string][] = [
      [wrong, '554 5.6.6 IMAP URL resolution failed\r\n'],
      [missing, '554 5.6.6 IMAP URL resolution failed\r\n'],
      [expired, '554 5.6.6 IMAP URL resolution failed\r\n'],
      [forBob, '554 5.7.0 IMAP URL authorization failed\r\n'],
      [userOnly, '554 5.7.0 IMAP URL authorization failed\r\n'],
      [`imap://${ENC}@127.0.0.1/Drafts/;uid=${uid}`, '554 5.7.8 URL resolution requires trust relationship\r\n'],
      ['https://example.com/x', '554 5.7.8 URL resolution requires trust relationship\r\n'],
    ];
    for (const [u, want] of cases) {
      await start();
      assert.equal(await cmd(t, `BURL ${u} LAST`), want, u);
      assert.equal(await cmd(t, 'BDAT 0 LAST'), '503 5.5.1 Need MAIL command first\r\n', 'the whole transaction failed');
    }
    assert.equal(await cmd(t, 'BURL'), '501 5.5.4 Syntax: BURL absolute-URI [LAST]\r\n');
    assert.equal(await cmd(t, `BURL ${url}`), '503 5.5.1 Need MAIL command first\r\n');
    assert.equal(await cmd(t, `MAIL FROM:<${ALICE}>`), '250 2.1.0 Sender OK\r\n');
    assert.equal(await cmd(t, `BURL ${url} LAST`), '554 5.5.0 No recipients have been specified\r\n');
    assert.equal(await cmd(t, 'RSET'), '250 2.0.0 Flushed\r\n');
    t.close();
    // bob may not send alice's submit+alice URL: the access names the submitting user (RFC 4468 3.3)
    const b = await session('bob@example.test');
    assert.equal(await cmd(b, 'MAIL FROM:<bob@example.test>'), '250 2.1.0 Sender OK\r\n');
    assert.match(await cmd(b, `RCPT TO:<${ALICE}>`), /^250 /);
    assert.equal(await cmd(b, `BURL ${url} LAST`), '554 5.7.0 IMAP URL authorization failed\r\n');
    b.close();
  });

  it('python3 smtplib: sees BURL imap after login and sends a draft with docmd', async () => {
    const draft = DRAFT.replace('draft-1@', 'draft-3@').replace('Subject: big draft', 'Subject: python draft');
    const appended = await imap.ok(`APPEND Drafts (\\Draft) {${Buffer.byteLength(draft)}+}\r\n${draft}`);
    const uid3 = Number(/APPENDUID \d+ (\d+)\]/.exec(appended)![1]);
    const url = await gen(`imap://${ENC}@127.0.0.1/Drafts/;uid=${uid3};urlauth=submit+${ENC}`);
    const script = [
      'import smtplib, sys',
      `s = smtplib.SMTP('127.0.0.1', ${w.server.ports.submission}, timeout=60)`,
      's.ehlo()',
      "print('before', s.esmtp_features.get('burl'))",
      `s.login('${ALICE}', 'secret')`,
      's.ehlo()',
      "print('after', s.esmtp_features.get('burl'))",
      `s.mail('${ALICE}')`,
      "s.rcpt('bob@example.test')",
      'code, text = s.docmd("BURL", sys.argv[1] + " LAST")',
      "print(code, text.decode().split(' ')[0])",
      's.quit()',
    ].join('\n');
    const { stdout } = await run('python3', ['-c', script, url], { timeout: 60_000 });
    assert.deepEqual(stdout.trim().split('\n'), ['before ', 'after imap', '250 2.0.0']);
    const [raw] = await received('python draft', 1);
    assert.ok(raw);
    assertDraftAtEnd(raw, draft);
  });

  it('not on port 25 and not before AUTH', async () => {
    const mx = await connect(w.server.ports.smtp!);
    await reply(mx);
    assert.doesNotMatch(await cmd(mx, 'EHLO client.test'), /BURL/);
    assert.equal(await cmd(mx, 'BURL imap://x@y/INBOX/;uid=1;urlauth=anonymous:internal:0123456789abcdef0123456789abcdef LAST'), '500 5.5.2 Syntax error, command unrecognized\r\n');
    mx.close();
    const t = await connect(w.server.ports.submission!);
    await reply(t);
    await cmd(t, 'EHLO client.test');
    assert.equal(await cmd(t, 'BURL imap://x@y/INBOX/;uid=1;urlauth=anonymous:internal:0123456789abcdef0123456789abcdef LAST'), '530 5.7.0 Authentication required\r\n');
    t.close();
  });
});
