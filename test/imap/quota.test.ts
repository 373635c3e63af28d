// QUOTA (RFC 9208) over real sockets: GETQUOTA/GETQUOTAROOT/SETQUOTA transcripts, the quota
// admin (user setting imap.quota_admin=yes, account password only), [OVERQUOTA] on APPEND and
// COPY, STATUS DELETED/DELETED-STORAGE, the 80/95 % warning messages (once per crossing,
// re-armed by an expunge) from APPEND and from delivery, and imapflow's and imaplib's view.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { ImapFlow } from 'imapflow';
import { deliver, Imap, message } from './client.js';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';

let server: RunningTestServer;
let n = 0;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

async function cli(...args: string[]): Promise<string> {
  const r = await runCli(args, { dataDir: server.dataDir });
  if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A fresh user; returns address and password. */
async function newUser(label: string): Promise<{ user: string; pass: string }> {
  const user = `${label}${++n}@example.test`;
  const pass = `pw-${label}-${n}`;
  await cli('user', 'add', user, '--password', pass);
  return { user, pass };
}

async function login(user: string, pass: string): Promise<Imap> {
  const c = await Imap.open(server.ports.imap!, { login: false });
  await c.ok(`LOGIN ${user} ${pass}`);
  return c;
}

/** A message of about `kib` KiB. */
function sized(subject: string, kib: number): string {
  return message(subject, ('y'.repeat(78) + '\r\n').repeat(Math.round((kib * 1024) / 80)));
}

async function append(c: Imap, raw: string, box = 'INBOX'): Promise<{ status: string; tagged: string }> {
  const r = await c.cmd(`APPEND ${box} {${Buffer.byteLength(raw)}+}\r\n${raw}`);
  return r;
}

async function warnings(c: Imap): Promise<string[]> {
  await c.ok('NOOP');
  const text = await c.ok('UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  return [...text.matchAll(/Subject: (Your mailbox is \d+ % full)/g)].map((m) => m[1]);
}

describe('QUOTA', { timeout: 120_000 }, () => {
  test('capabilities; no limit: no root; limits from the CLI as STORAGE (KiB) and MESSAGE', async () => {
    const { user, pass } = await newUser('q');
    const c = await login(user, pass);
    const caps = await c.ok('CAPABILITY');
    assert.match(caps, / QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE /);
    assert.doesNotMatch(caps, /QUOTASET/, 'only for the quota admin');
    assert.match(await c.ok('GETQUOTAROOT INBOX'), /^\* QUOTAROOT "INBOX"\r\nt\d+ OK/);
    assert.match((await c.cmd('GETQUOTA ""')).tagged, /^NO \[NONEXISTENT\] /);
    await cli('quota', 'set', user, '--storage', '100K', '--messages', '10');
    const raw = message('one');
    assert.equal((await append(c, raw)).status, 'OK');
    const kib = Math.ceil(Buffer.byteLength(raw) / 1024);
    assert.match(await c.ok('GETQUOTAROOT INBOX'), new RegExp(`^\\* QUOTAROOT "INBOX" ""\\r\\n\\* QUOTA "" \\(STORAGE ${kib} 100 MESSAGE 1 10\\)\\r\\n`));
    assert.match(await c.ok('GETQUOTA ""'), new RegExp(`^\\* QUOTA "" \\(STORAGE ${kib} 100 MESSAGE 1 10\\)\\r\\n`));
    assert.match((await c.cmd('GETQUOTAROOT Nosuch')).tagged, /^NO \[NONEXISTENT\] /);
    assert.match((await c.cmd('GETQUOTA "someone@example.test"')).tagged, /^NO \[NONEXISTENT\] No such quota root/);
    assert.match((await c.cmd('SETQUOTA "" (STORAGE 1000)')).tagged, /^NO \[NOPERM\] /);
    assert.match((await c.cmd('GETQUOTA')).tagged, /^BAD /);
    c.close();
  });

  test('the quota admin sets any user\'s limits; the account password only; bad resource lists are BAD', async () => {
    const admin = await newUser('admin');
    const other = await newUser('other');
    await cli('user', 'set', admin.user, 'imap.quota_admin=yes');
    const a = await login(admin.user, admin.pass);
    assert.match(await a.ok('CAPABILITY'), / QUOTASET /);
    assert.match(await a.ok(`SETQUOTA "${other.user}" (STORAGE 200 MESSAGE 5)`), new RegExp(`^\\* QUOTA "${other.user}" \\(STORAGE 0 200 MESSAGE 0 5\\)\\r\\n`));
    assert.match(await cli('quota', 'show', other.user), /^storage\t0\t204800\t/m);
    assert.match(await a.ok(`GETQUOTA "${other.user}"`), /\(STORAGE 0 200 MESSAGE 0 5\)/);
    // a resource left out loses its limit (RFC 9208 4.1.3)
    assert.match(await a.ok(`SETQUOTA "${other.user}" (MESSAGE 7)`), /\(MESSAGE 0 7\)/);
    assert.match(await cli('quota', 'show', other.user), /^storage\t0\tunlimited\t/m);
    assert.match(await a.ok(`SETQUOTA "" (message 3)`), /^\* QUOTA "" \(MESSAGE 0 3\)\r\n/);
    assert.doesNotMatch(await a.ok(`SETQUOTA "${other.user}" ()`), /\* QUOTA/, 'no limits left: nothing to show');
    assert.match((await a.cmd('SETQUOTA "" (BANANAS 3)')).tagged, /^BAD .*Unknown quota resource BANANAS/);
    assert.match((await a.cmd('SETQUOTA "" (STORAGE 3 STORAGE 4)')).tagged, /^BAD .*given twice/);
    assert.match((await a.cmd('SETQUOTA "" (STORAGE x)')).tagged, /^BAD /);
    assert.match((await a.cmd('SETQUOTA "nobody@example.test" (STORAGE 3)')).tagged, /^NO \[NONEXISTENT\] /);
    a.close();
    // the same account through a device password is not the admin
    const secret = (await cli('device', 'add', admin.user, '--name', 'phone')).trimEnd().split('\n').at(-1)!;
    const d = await login(admin.user, secret);
    assert.doesNotMatch(await d.ok('CAPABILITY'), /QUOTASET/);
    assert.match((await d.cmd(`SETQUOTA "${other.user}" (STORAGE 1)`)).tagged, /^NO \[NOPERM\] /);
    d.close();
  });

  test('[OVERQUOTA] on APPEND and COPY; MOVE within the account still works; STATUS DELETED and DELETED-STORAGE', async () => {
    const { user, pass } = await newUser('full');
    await cli('quota', 'set', user, '--messages', '2');
    const c = await login(user, pass);
    await c.ok('CREATE Other');
    assert.equal((await append(c, sized('a', 3))).status, 'OK');
    assert.equal((await append(c, message('b'))).status, 'OK');
    assert.match((await append(c, message('c'))).tagged, /^NO \[OVERQUOTA\] /);
    await c.ok('SELECT INBOX');
    assert.match((await c.cmd('COPY 1 Other')).tagged, /^NO \[OVERQUOTA\] /);
    await c.ok('MOVE 2 Other');
    await c.ok('STORE 1 +FLAGS (\\Deleted)');
    const st = await c.ok('STATUS INBOX (MESSAGES DELETED DELETED-STORAGE)');
    // INBOX: a, and the 95 % warning that b's APPEND caused (filed outside quota)
    assert.match(st, /^\* STATUS "INBOX" \(MESSAGES 2 DELETED 1 DELETED-STORAGE [34]\)\r\n/);
    assert.match(await c.ok('STATUS Other (DELETED DELETED-STORAGE)'), /\(DELETED 0 DELETED-STORAGE 0\)/);
    c.close();
  });

  test('warnings at 80 and 95 %, once per crossing, again after an expunge freed room', async () => {
    const { user, pass } = await newUser('warn');
    await cli('quota', 'set', user, '--storage', '100K');
    const c = await login(user, pass);
    await c.ok('SELECT INBOX');
    for (let i = 0; i < 7; i++) assert.equal((await append(c, sized(`m${i}`, 10))).status, 'OK');
    assert.deepEqual(await warnings(c), [], '~70 %');
    await append(c, sized('m7', 10)); // ~80 %
    assert.deepEqual(await warnings(c), ['Your mailbox is 80 % full']);
    await append(c, sized('m8', 10)); // ~90 %: no new warning
    assert.deepEqual(await warnings(c), ['Your mailbox is 80 % full']);
    const found = /\* SEARCH (\d+)\r\n/.exec(await c.ok('UID SEARCH SUBJECT "80 % full"'))!;
    const body = await c.ok(`UID FETCH ${found[1]} BODY.PEEK[]`);
    assert.match(body, /From: Mailroom <postmaster@example\.test>/);
    assert.match(body, /Auto-Submitted: auto-generated/);
    assert.match(body, new RegExp(`Your mailbox ${user.replace('.', '\\.')} has reached 80 % of its quota`));
    await append(c, sized('m9', 5)); // ~96 %
    assert.deepEqual(await warnings(c), ['Your mailbox is 80 % full', 'Your mailbox is 95 % full']);
    await c.ok('UID STORE 1:4 +FLAGS.SILENT (\\Deleted)');
    await c.ok('EXPUNGE'); // ~55 %: re-armed
    await append(c, sized('n1', 10));
    await append(c, sized('n2', 10)); // ~77 %
    assert.equal((await warnings(c)).length, 2);
    await append(c, sized('n3', 5)); // over 80 % again
    assert.deepEqual((await warnings(c)).slice(2), ['Your mailbox is 80 % full']);
    c.close();
  });

  test('delivery warns too; imapflow getQuota and python imaplib getquotaroot read the root', async () => {
    const { user, pass } = await newUser('deliv');
    await cli('quota', 'set', user, '--messages', '5');
    for (let i = 0; i < 4; i++) await deliver(server, message(`d${i}`), user);
    const c = await login(user, pass);
    await c.ok('SELECT INBOX');
    assert.deepEqual(await warnings(c), ['Your mailbox is 80 % full']);
    c.close();
    const flow = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap!, secure: false, doSTARTTLS: false, auth: { user, pass }, logger: false });
    await flow.connect();
    const q = (await flow.getQuota('INBOX')) as { message?: { usage: number; limit: number } };
    assert.deepEqual({ usage: q.message?.usage, limit: q.message?.limit }, { usage: 5, limit: 5 });
    await flow.logout();
    const py = `
import imaplib, json, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login(sys.argv[2], sys.argv[3])
typ, dat = c.getquotaroot('INBOX')
print(json.dumps([typ, [[x.decode() for x in d] for d in dat]]))
c.logout()
`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile('python3', ['-c', py, String(server.ports.imap), user, pass], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
    );
    assert.deepEqual(JSON.parse(out), ['OK', [['"INBOX" ""'], ['"" (MESSAGE 5 5)']]]);
  });
});
