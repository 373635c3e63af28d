// CATENATE (RFC 4469) over raw sockets: TEXT literals and IMAP URLs (RFC 5092) to the user's
// own messages, absolute and relative, with SECTION and PARTIAL; [BADURL url] for URLs that
// name nothing this user can read; [TOOBIG] while spooling; inside MULTIAPPEND.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Imap, message, startImapServer } from './client.js';
import { runCli, type RunningTestServer } from '../harness/server.js';

let server: RunningTestServer;
let n = 0;
before(async () => {
  server = await startImapServer({ MAILROOM_IMAP_MAX_LITERAL_SIZE: '300000' });
});
after(async () => {
  await server?.stop();
});

async function freshUser(): Promise<{ c: Imap; user: string }> {
  const user = `cat${++n}@example.test`;
  const r = await runCli(['user', 'add', user, '--password', 'pw'], { dataDir: server.dataDir });
  assert.equal(r.code, 0, r.stderr);
  const c = await Imap.open(server.ports.imap!, { login: false });
  await c.ok(`LOGIN ${user} pw`);
  await c.ok('ENABLE IMAP4rev2');
  return { c, user };
}

const lit = (raw: string) => `{${Buffer.byteLength(raw)}+}\r\n${raw}`;

const MIXED = [
  'From: a@example.test',
  'Subject: parts',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain',
  '',
  'first part',
  '--b',
  'Content-Type: text/plain',
  '',
  'second part body',
  '--b--',
  '',
].join('\r\n');

async function body(c: Imap, uid: number): Promise<string> {
  const f = await c.ok(`UID FETCH ${uid} BODY.PEEK[]`);
  const m = /BODY\[\] \{(\d+)\}\r\n/.exec(f)!;
  return f.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1]));
}

function appendUid(tagged: string): number {
  return Number(/APPENDUID \d+ (\d+)\]/.exec(tagged)![1]);
}

describe('CATENATE', { timeout: 60_000 }, () => {
  test('advertised; TEXT plus absolute URLs to a whole message, a section and a partial range', async () => {
    const { c, user } = await freshUser();
    assert.match(await c.ok('CAPABILITY'), / CATENATE /);
    const src = await c.ok(`APPEND INBOX ${lit(MIXED)}`);
    const uid = appendUid(src);
    const sel = await c.ok('SELECT INBOX');
    const validity = /UIDVALIDITY (\d+)/.exec(sel)![1];
    const base = `imap://${encodeURIComponent(user)}@127.0.0.1/INBOX;UIDVALIDITY=${validity}/;UID=${uid}`;
    const head = 'From: me@example.test\r\nSubject: built\r\n\r\n';
    const r = await c.cmd(`APPEND Drafts (\\Draft) CATENATE (TEXT ${lit(head)} URL "${base}/;SECTION=2" TEXT ${lit('\r\n--\r\n')} URL "${base}/;SECTION=1/;PARTIAL=0.5")`);
    assert.equal(r.status, 'OK', r.tagged);
    await c.ok('SELECT Drafts');
    assert.equal(await body(c, appendUid(r.tagged)), `${head}second part body\r\n--\r\nfirst`);
    // The whole message by URL, unchanged
    const w = await c.cmd(`APPEND Drafts CATENATE (URL "${base}")`);
    assert.equal(w.status, 'OK', w.tagged);
    assert.equal(await body(c, appendUid(w.tagged)), MIXED);
    c.close();
  });

  test('relative URLs against the selected mailbox and an absolute path; synchronizing literals', async () => {
    const { c } = await freshUser();
    const uid = appendUid(await c.ok(`APPEND INBOX ${lit(message('orig', 'original text'))}`));
    await c.ok('SELECT INBOX');
    const tag = c.nextTag();
    const head = 'Subject: fwd\r\n\r\n';
    c.t.send(`${tag} APPEND INBOX CATENATE (TEXT {${head.length}}\r\n`);
    await c.t.readUntil(/^\+ [^\r\n]*\r\n/m);
    c.t.send(`${head} URL ";UID=${uid}/;SECTION=TEXT" URL "/INBOX/;UID=${uid}/;SECTION=HEADER.FIELDS%20(SUBJECT)")\r\n`);
    const r = await c.readTagged(tag);
    assert.match(r.tagged, /^OK \[APPENDUID /);
    assert.equal(await body(c, appendUid(r.tagged)), `${head}original text\r\nSubject: orig\r\n\r\n`);
    c.close();
  });

  test('[BADURL url] names the bad URL; nothing is stored', async () => {
    const { c, user } = await freshUser();
    const uid = appendUid(await c.ok(`APPEND INBOX ${lit(message('x'))}`));
    const count = async () => Number(/MESSAGES (\d+)/.exec(await c.ok('STATUS INBOX (MESSAGES)'))![1]);
    const bad = [
      `/INBOX/;UID=${uid + 5}`, // no such message
      `/Nosuch/;UID=${uid}`, // no such mailbox
      `/INBOX;UIDVALIDITY=1/;UID=${uid}`, // stale UIDVALIDITY (the first mailbox's is not 1)
      `imap://other%40example.test@127.0.0.1/INBOX/;UID=${uid}`, // another user
      `;UID=${uid}`, // relative without a selected mailbox
      `/INBOX/;UID=${uid}/;SECTION=1.2.x`, // bad section
      `/INBOX/;UID=${uid};URLAUTH=anonymous`, // URLAUTH not offered
      `http://example.test/`,
    ];
    const validity = /UIDVALIDITY (\d+)/.exec(await c.ok('STATUS INBOX (UIDVALIDITY)'))![1];
    assert.notEqual(validity, '1');
    for (const url of bad) {
      const r = await c.cmd(`APPEND INBOX CATENATE (TEXT ${lit('Subject: a\r\n\r\n')} URL "${url}")`);
      assert.equal(r.tagged.slice(0, 11 + url.length + 1), `NO [BADURL ${url}]`, `${url}: ${r.tagged}`);
    }
    assert.equal(await count(), 1);
    // a user in the URL that is this user is fine (a copy in another mailbox: INBOX would take it for a resend)
    const ok = await c.cmd(`APPEND Drafts CATENATE (URL "imap://${encodeURIComponent(user)};AUTH=*@127.0.0.1/INBOX/;UID=${uid}")`);
    assert.equal(ok.status, 'OK', ok.tagged);
    assert.match(await c.ok('STATUS Drafts (MESSAGES)'), /MESSAGES 1\)/);
    c.close();
  });

  test('syntax errors get BAD; an empty result is NO [CANNOT]', async () => {
    const { c } = await freshUser();
    assert.match((await c.cmd('APPEND INBOX CATENATE ()')).tagged, /^BAD /);
    assert.match((await c.cmd('APPEND INBOX CATENATE (FOO "x")')).tagged, /^BAD /);
    assert.match((await c.cmd(`APPEND INBOX CATENATE (TEXT ${lit('a')}`)).tagged, /^BAD /);
    assert.match((await c.cmd('APPEND INBOX CATENATE (TEXT {0+}\r\n)')).tagged, /^NO \[CANNOT\] /);
    c.close();
  });

  test('[TOOBIG] when the parts together exceed the limit; a big referenced message is streamed', async () => {
    const { c } = await freshUser();
    const big = message('big', ('y'.repeat(98) + '\r\n').repeat(2000)); // ~200 KB, over the spool threshold
    const uid = appendUid(await c.ok(`APPEND INBOX ${lit(big)}`));
    const one = await c.cmd(`APPEND Drafts CATENATE (URL "/INBOX/;UID=${uid}")`);
    assert.equal(one.status, 'OK', one.tagged);
    await c.ok('SELECT Drafts');
    assert.equal(await body(c, appendUid(one.tagged)), big);
    const two = await c.cmd(`APPEND INBOX CATENATE (URL "/INBOX/;UID=${uid}" URL ";UID=${uid}")`);
    assert.match(two.tagged, /^NO \[TOOBIG\] /);
    assert.match(await c.ok('STATUS INBOX (MESSAGES)'), /MESSAGES 1\)/);
    c.close();
  });

  test('inside MULTIAPPEND: a literal and a CATENATE message in one APPEND; a bad URL stores none', async () => {
    const { c } = await freshUser();
    const uid = appendUid(await c.ok(`APPEND INBOX ${lit(message('src', 'source body'))}`));
    const r = await c.cmd(`APPEND INBOX ${lit(message('plain'))} (\\Seen) CATENATE (TEXT ${lit('Subject: cat\r\n\r\n')} URL "/INBOX/;UID=${uid}/;SECTION=TEXT")`);
    assert.match(r.tagged, /^OK \[APPENDUID \d+ 2:3\] /);
    await c.ok('SELECT INBOX');
    assert.equal(await body(c, 3), 'Subject: cat\r\n\r\nsource body\r\n');
    assert.match(await c.ok('UID FETCH 3 FLAGS'), /FLAGS \(\\Seen\)/);
    const bad = await c.cmd(`APPEND INBOX ${lit(message('p2'))} CATENATE (URL "/INBOX/;UID=99")`);
    assert.match(bad.tagged, /^NO \[BADURL \/INBOX\/;UID=99\] /);
    assert.match(await c.ok('STATUS INBOX (MESSAGES)'), /MESSAGES 3\)/);
    c.close();
  });
});
