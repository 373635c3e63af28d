// URLAUTH (RFC 4467) over raw sockets: GENURLAUTH, URLFETCH and RESETKEY with their exact
// responses; access identifiers checked against the session user; EXPIRE honoured; a reset
// key revokes URLs; one NIL for every kind of invalid URL (wrong key, missing message, ...).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Imap, startImapServer } from './client.js';
import { runCli, type RunningTestServer } from '../harness/server.js';

let server: RunningTestServer;
let n = 0;
before(async () => {
  server = await startImapServer();
});
after(async () => {
  await server?.stop();
});

async function freshUser(): Promise<{ c: Imap; user: string; enc: string }> {
  const user = `ua${++n}@example.test`;
  const r = await runCli(['user', 'add', user, '--password', 'pw'], { dataDir: server.dataDir });
  assert.equal(r.code, 0, r.stderr);
  const c = await Imap.open(server.ports.imap!, { login: false });
  await c.ok(`LOGIN ${user} pw`);
  return { c, user, enc: encodeURIComponent(user) };
}

const lit = (raw: string) => `{${Buffer.byteLength(raw)}+}\r\n${raw}`;
const DRAFT = 'From: a@example.test\r\nSubject: draft\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSi vis pacem, para bellum.\r\n--b--\r\n';

async function appendDraft(c: Imap, mailbox = 'Drafts'): Promise<number> {
  const r = await c.ok(`APPEND ${mailbox} (\\Draft) ${lit(DRAFT)}`);
  return Number(/APPENDUID \d+ (\d+)\]/.exec(r)![1]);
}

/** GENURLAUTH of one rump: the signed URL, checked against the exact response form. */
async function gen(c: Imap, rump: string): Promise<string> {
  const r = await c.cmd(`GENURLAUTH "${rump}" INTERNAL`);
  const m = /^\* GENURLAUTH "([^"]+)"\r\nt\d+ OK GENURLAUTH completed\r\n$/.exec(r.text);
  assert.ok(m, r.text);
  assert.equal(m[1].slice(0, rump.length + 10), `${rump}:internal:`);
  assert.match(m[1].slice(rump.length + 10), /^01[0-9a-f]{40}$/, 'version 01 and HMAC-SHA1 in lower-case hex');
  return m[1];
}

/** URLFETCH of one URL: the data, or null for NIL, from the exact response form. */
async function fetchUrl(c: Imap, url: string): Promise<string | null> {
  const text = await c.ok(`URLFETCH "${url}"`);
  const head = `* URLFETCH "${url}" `;
  assert.ok(text.startsWith(head), text);
  const rest = text.slice(head.length);
  if (rest.startsWith('NIL\r\n')) {
    assert.match(rest, /^NIL\r\nt\d+ OK URLFETCH completed\r\n$/);
    return null;
  }
  const m = /^\{(\d+)\}\r\n/.exec(rest)!;
  const data = rest.slice(m[0].length, m[0].length + Number(m[1]));
  assert.match(rest.slice(m[0].length + data.length), /^\r\nt\d+ OK URLFETCH completed\r\n$/);
  return data;
}

describe('URLAUTH', { timeout: 90_000 }, () => {
  test('advertised; SELECT says URLMECH INTERNAL; GENURLAUTH and URLFETCH of a section and a whole message', async () => {
    const { c, enc } = await freshUser();
    assert.match(await c.ok('CAPABILITY'), / URLAUTH /);
    const uid = await appendDraft(c);
    assert.match(await c.ok('EXAMINE Drafts'), /\r\n\* OK \[URLMECH INTERNAL\] URLAUTH mechanisms\r\n/);
    const base = `imap://${enc}@127.0.0.1/Drafts/;uid=${uid}`;
    const part = await gen(c, `${base}/;section=1;urlauth=user+${enc}`);
    assert.equal(await fetchUrl(c, part), 'Si vis pacem, para bellum.');
    const whole = await gen(c, `${base};urlauth=authuser`);
    assert.equal(await fetchUrl(c, whole), DRAFT);
    // several URLs in one command: one response each, in order; the mechanism is case-insensitive
    const r = await c.ok(`URLFETCH "${part}" "${whole.replace(':internal:', ':InTeRnAl:')}"`);
    assert.equal(r.split('* URLFETCH ').length, 3);
    assert.ok(r.indexOf(part) < r.indexOf('Subject: draft'));
    // two pairs in one GENURLAUTH
    const two = await c.ok(`GENURLAUTH "${base};urlauth=anonymous" INTERNAL "${base}/;section=1;urlauth=anonymous" internal`);
    assert.match(two, /^\* GENURLAUTH "[^"]+;urlauth=anonymous:internal:01[0-9a-f]{40}" "[^"]+;section=1;urlauth=anonymous:internal:01[0-9a-f]{40}"\r\n/);
    c.close();
  });

  test('GENURLAUTH refusals are tagged BAD with the RFC texts; the session goes on', async () => {
    const { c, enc } = await freshUser();
    const uid = await appendDraft(c, 'INBOX');
    const cases: [string, string][] = [
      [`"imap://${enc}@example.com/INBOX/;uid=${uid}/;section=1.2" INTERNAL`, 'BAD missing access identifier in supplied URL'],
      [`"imap://example.com/INBOX/;uid=${uid}/;section=1.2;urlauth=submit+fred" INTERNAL`, 'BAD missing owner username in supplied URL'],
      [`"imap://${enc}@example.com/INBOX/;uid=${uid};urlauth=anonymous" XSAMPLE`, 'BAD Unsupported URLAUTH mechanism: XSAMPLE'],
      [`"imap://${enc}@example.com/INBOX;urlauth=anonymous" INTERNAL`, 'BAD not a URL to a message or message part ending in ;URLAUTH=access (RFC 4467 9)'],
      [`"imap://${enc}@example.com/INBOX/;uid=${uid};urlauth=anonymous:internal:0123456789abcdef0123456789abcdef" INTERNAL`, 'BAD supplied URL already carries a mechanism and token'],
      [`"imap://someone%40example.test@example.com/INBOX/;uid=${uid};urlauth=anonymous" INTERNAL`, 'BAD URL owner is not the logged-in user'],
      [`"imap://${enc}@example.com/Nope/;uid=${uid};urlauth=anonymous" INTERNAL`, 'BAD URL names a mailbox that does not exist'],
    ];
    for (const [args, want] of cases) {
      const r = await c.cmd(`GENURLAUTH ${args}`);
      assert.equal(r.tagged, want, args);
      assert.doesNotMatch(r.text, /\* GENURLAUTH/);
    }
    assert.equal((await c.cmd('GENURLAUTH')).status, 'BAD');
    assert.equal((await c.cmd(`GENURLAUTH "imap://${enc}@h/INBOX/;uid=1;urlauth=anonymous"`)).status, 'BAD');
    assert.equal((await c.cmd('URLFETCH')).status, 'BAD');
    await c.ok('NOOP');
    c.close();
  });

  test('one NIL for a wrong token, a missing message or section, an unknown mailbox or owner, and non-URLAUTH URLs', async () => {
    const { c, enc } = await freshUser();
    const uid = await appendDraft(c);
    const good = await gen(c, `imap://${enc}@h/Drafts/;uid=${uid};urlauth=authuser`);
    const token = good.slice(-42);
    const flipped = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
    const missing = await gen(c, `imap://${enc}@h/Drafts/;uid=${uid + 50};urlauth=authuser`);
    const noSection = await gen(c, `imap://${enc}@h/Drafts/;uid=${uid}/;section=9;urlauth=authuser`);
    const invalid = [
      flipped,
      good.replace(':internal:', ':xsample:'),
      good.slice(0, -2), // still 32+ hex digits, but not the token
      good.replace(enc, enc.toUpperCase()), // RFC 4467 6: the rump is taken as it is, no case-folding (the owner is still found)
      good.replace('/Drafts/', '/Dr%61fts/'), // nor percent-decoding (the mailbox is still found)
      missing,
      noSection,
      `imap://${enc}@h/Nowhere/;uid=${uid};urlauth=authuser:internal:${token}`,
      `imap://nobody%40example.test@h/Drafts/;uid=${uid};urlauth=authuser:internal:${token}`,
      `imap://${enc}@h/Drafts/;uid=${uid}`,
      `imap://${enc}@h/Drafts;urlauth=authuser:internal:${token}`,
      'not a url at all',
    ];
    for (const url of invalid) assert.equal(await fetchUrl(c, url), null, url);
    assert.equal(await fetchUrl(c, good), DRAFT);
    c.close();
  });

  test('access identifiers: user+ only for that user, submit+ never for an IMAP session, authuser and anonymous for anyone logged in', async () => {
    const a = await freshUser();
    const b = await freshUser();
    const uid = await appendDraft(b.c);
    const base = `imap://${b.enc}@h/Drafts/;uid=${uid}/;section=1`;
    const forA = await gen(b.c, `${base};urlauth=user+${a.enc}`);
    const forB = await gen(b.c, `${base};urlauth=user+${b.enc}`);
    const submit = await gen(b.c, `${base};urlauth=submit+${b.enc}`);
    const anyone = await gen(b.c, `${base};urlauth=anonymous`);
    const auth = await gen(b.c, `${base};urlauth=authuser`);
    const body = 'Si vis pacem, para bellum.';
    assert.equal(await fetchUrl(a.c, forA), body, "b's URL for a, fetched by a with b's rights");
    assert.equal(await fetchUrl(a.c, forB), null, "a cannot use b's user+ URL");
    assert.equal(await fetchUrl(b.c, forA), null, 'nor b one made for a');
    assert.equal(await fetchUrl(b.c, forB), body);
    assert.equal(await fetchUrl(a.c, submit), null, 'an IMAP session is not a submission entity');
    assert.equal(await fetchUrl(b.c, submit), null);
    assert.equal(await fetchUrl(a.c, anyone), body);
    assert.equal(await fetchUrl(a.c, auth), body);
    // a cannot read b's mailbox otherwise, and a URL in a's name to b's mailbox is refused
    assert.equal((await a.c.cmd(`GENURLAUTH "${base};urlauth=anonymous" INTERNAL`)).tagged, 'BAD URL owner is not the logged-in user');
    a.c.close();
    b.c.close();
  });

  test('EXPIRE: a past date is refused at once, a near one works until it passes', async () => {
    const { c, enc } = await freshUser();
    const uid = await appendDraft(c);
    const base = `imap://${enc}@h/Drafts/;uid=${uid}/;section=1`;
    const past = await gen(c, `${base};EXPIRE=2001-01-01T00:00:00Z;urlauth=authuser`);
    assert.equal(await fetchUrl(c, past), null);
    const soon = new Date(Date.now() + 3000).toISOString();
    const url = await gen(c, `${base};EXPIRE=${soon};urlauth=authuser`);
    const later = await gen(c, `${base};EXPIRE=2999-01-01T00:00:00+02:00;urlauth=authuser`);
    assert.equal(await fetchUrl(c, url), 'Si vis pacem, para bellum.');
    // the clock decides: ask until the expiry has passed (bounded), never a fixed sleep
    const deadline = Date.now() + 30_000;
    let got: string | null = 'not yet';
    while (got !== null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      got = await fetchUrl(c, url);
    }
    assert.equal(got, null);
    assert.ok(Date.now() >= new Date(soon).getTime());
    assert.equal(await fetchUrl(c, later), 'Si vis pacem, para bellum.');
    // the expiry is inside the signed rump: moving it forward breaks the token
    assert.equal(await fetchUrl(c, url.replace(soon, '2999-01-01T00:00:00Z')), null);
    c.close();
  });

  test('RESETKEY mailbox revokes that mailbox only; RESETKEY alone revokes everything; mechanisms checked', async () => {
    const { c, enc } = await freshUser();
    const d = await appendDraft(c);
    const i = await appendDraft(c, 'INBOX');
    const inDrafts = await gen(c, `imap://${enc}@h/Drafts/;uid=${d};urlauth=authuser`);
    const inInbox = await gen(c, `imap://${enc}@h/INBOX/;uid=${i};urlauth=authuser`);
    assert.equal((await c.cmd('RESETKEY Drafts')).tagged, 'OK [URLMECH INTERNAL] Key reset');
    assert.equal(await fetchUrl(c, inDrafts), null);
    assert.equal(await fetchUrl(c, inInbox), DRAFT);
    const again = await gen(c, `imap://${enc}@h/Drafts/;uid=${d};urlauth=authuser`);
    assert.notEqual(again, inDrafts);
    assert.equal(await fetchUrl(c, again), DRAFT);
    assert.equal((await c.cmd('RESETKEY INBOX internal')).tagged, 'OK [URLMECH INTERNAL] Key reset');
    assert.equal(await fetchUrl(c, inInbox), null);
    assert.equal((await c.cmd('RESETKEY INBOX XSAMPLE')).tagged, 'BAD Unsupported URLAUTH mechanism: XSAMPLE');
    assert.equal((await c.cmd('RESETKEY Nope')).tagged, 'NO [NONEXISTENT] Mailbox does not exist: Nope');
    assert.equal((await c.cmd('RESETKEY')).tagged, 'OK All keys removed');
    assert.equal(await fetchUrl(c, again), null);
    // GENURLAUTH needs no RESETKEY first: a key is made again on demand
    assert.equal(await fetchUrl(c, await gen(c, `imap://${enc}@h/Drafts/;uid=${d};urlauth=authuser`)), DRAFT);
    c.close();
  });

  test('not before login', async () => {
    const c = await Imap.open(server.ports.imap!, { login: false });
    for (const cmd of ['GENURLAUTH "x" INTERNAL', 'URLFETCH "x"', 'RESETKEY']) assert.equal((await c.cmd(cmd)).status, 'BAD', cmd);
    c.close();
  });
});
