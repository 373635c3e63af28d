// REPLACE (RFC 8508) over raw sockets: REPLACE and UID REPLACE into the same and another
// mailbox with APPENDUID before the EXPUNGE (VANISHED with QRESYNC), nothing changed when the
// append fails (quota) or the mailbox is missing, the replaced message kept in Recently Deleted
// when retention is on, and a device with delete=trash sending it to Trash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Imap, message } from './client.js';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';

let server: RunningTestServer;
let n = 0;
before(async () => {
  server = await startServer({ env: { MAILROOM_RETENTION_KEEP_DELETED: 'true' } });
});
after(async () => {
  await server?.stop();
});

async function cli(...args: string[]): Promise<string> {
  const r = await runCli(args, { dataDir: server.dataDir });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function freshUser(): Promise<{ c: Imap; user: string }> {
  const user = `repl${++n}@example.test`;
  await cli('user', 'add', user, '--password', 'pw');
  const c = await Imap.open(server.ports.imap!, { login: false });
  await c.ok(`LOGIN ${user} pw`);
  await c.ok('ENABLE IMAP4rev2');
  return { c, user };
}

const lit = (raw: string) => `{${Buffer.byteLength(raw)}+}\r\n${raw}`;

async function subjects(c: Imap, box: string): Promise<string[]> {
  await c.ok(`EXAMINE "${box}"`);
  const f = await c.ok('UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  return [...f.matchAll(/Subject: ([^\r\n]+)/g)].map((m) => m[1]);
}

describe('REPLACE', { timeout: 60_000 }, () => {
  test('REPLACE by number in the same mailbox: APPENDUID, then EXPUNGE, then EXISTS; UID REPLACE into another mailbox', async () => {
    const { c } = await freshUser();
    assert.match(await c.ok('CAPABILITY'), / REPLACE /);
    for (const s of ['draft v1', 'other']) await c.ok(`APPEND INBOX ${lit(message(s))}`);
    await c.ok('SELECT INBOX');
    const r = await c.cmd(`REPLACE 1 INBOX (\\Draft) ${lit(message('draft v2'))}`);
    assert.equal(r.status, 'OK', r.text);
    assert.match(r.text, /^\* OK \[APPENDUID \d+ 3\] Replacement Message ready\r\n\* 1 EXPUNGE\r\n\* 2 EXISTS\r\n/);
    const r2 = await c.cmd(`UID REPLACE 3 Drafts ${lit(message('draft v3'))}`);
    assert.match(r2.text, /^\* OK \[APPENDUID \d+ 1\] Replacement Message ready\r\n\* 2 EXPUNGE\r\n/);
    assert.deepEqual(await subjects(c, 'INBOX'), ['other']);
    assert.deepEqual(await subjects(c, 'Drafts'), ['draft v3']);
    c.close();
  });

  test('with QRESYNC: VANISHED instead of EXPUNGE and HIGHESTMODSEQ on the OK', async () => {
    const { c } = await freshUser();
    await c.ok(`APPEND INBOX ${lit(message('a'))}`);
    await c.ok('ENABLE QRESYNC');
    await c.ok('SELECT INBOX');
    const r = await c.cmd(`UID REPLACE 1 INBOX ${lit(message('b'))}`);
    assert.match(r.text, /\* VANISHED 1\r\n/);
    assert.match(r.tagged, /^OK \[HIGHESTMODSEQ \d+\]/);
    c.close();
  });

  test('refusals change nothing: missing mailbox, unknown UID, number above EXISTS, over quota, EXAMINE', async () => {
    const { c, user } = await freshUser();
    await c.ok(`APPEND INBOX ${lit(message('keep me'))}`);
    await c.ok('SELECT INBOX');
    assert.match((await c.cmd(`REPLACE 1 Nosuch ${lit(message('x'))}`)).tagged, /^NO \[TRYCREATE\] /);
    assert.match((await c.cmd(`UID REPLACE 99 INBOX ${lit(message('x'))}`)).tagged, /^NO \[NONEXISTENT\] /);
    assert.match((await c.cmd(`REPLACE 5 INBOX ${lit(message('x'))}`)).tagged, /^BAD /);
    assert.match((await c.cmd(`REPLACE 1 INBOX`)).tagged, /^BAD /);
    await cli('quota', 'set', user, '--storage', '1');
    assert.match((await c.cmd(`REPLACE 1 INBOX ${lit(message('too big'))}`)).tagged, /^NO \[OVERQUOTA\] /);
    await cli('quota', 'set', user, '--storage', 'unlimited');
    await c.ok('EXAMINE INBOX');
    assert.match((await c.cmd(`REPLACE 1 INBOX ${lit(message('x'))}`)).tagged, /^NO \[READ-ONLY\] /);
    assert.deepEqual(await subjects(c, 'INBOX'), ['keep me']);
    c.close();
  });

  test('the replaced message goes where an expunge sends it: Recently Deleted, or Trash for a delete=trash device', async () => {
    const { c, user } = await freshUser();
    await c.ok(`APPEND INBOX ${lit(message('old one'))}`);
    await c.ok('SELECT INBOX');
    await c.ok(`REPLACE 1 INBOX ${lit(message('new one'))}`);
    assert.match(await cli('deleted', 'list', '--user', user), /old one/);
    const secret = (await cli('device', 'add', user, '--name', 'phone')).trimEnd().split('\n').at(-1)!;
    await cli('device', 'set', user, 'phone', 'delete=trash');
    const d = await Imap.open(server.ports.imap!, { login: false });
    await d.ok(`LOGIN ${user} ${secret}`);
    await d.ok('SELECT INBOX');
    const r = await d.cmd(`REPLACE 1 INBOX ${lit(message('newest'))}`);
    assert.match(r.text, /\* OK \[APPENDUID \d+ \d+\] Replacement Message ready\r\n\* 1 EXPUNGE\r\n/);
    assert.deepEqual(await subjects(d, 'Trash'), ['new one']);
    assert.deepEqual(await subjects(d, 'INBOX'), ['newest']);
    d.close();
    c.close();
  });
});
