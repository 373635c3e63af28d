// MULTIAPPEND (RFC 3502) over raw sockets: several messages in one APPEND with flags and
// dates, sync and non-sync literals, a big one streamed to a spool; all or nothing when one
// fails (quota, an empty literal, bad syntax after the first message); one APPENDUID.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Imap, message, startImapServer } from './client.js';
import { runCli, type RunningTestServer } from '../harness/server.js';

let server: RunningTestServer;
let n = 0;
before(async () => {
  server = await startImapServer();
});
after(async () => {
  await server?.stop();
});

async function freshUser(): Promise<Imap> {
  const user = `multi${++n}@example.test`;
  const r = await runCli(['user', 'add', user, '--password', 'pw'], { dataDir: server.dataDir });
  assert.equal(r.code, 0, r.stderr);
  const c = await Imap.open(server.ports.imap!, { login: false });
  await c.ok(`LOGIN ${user} pw`);
  return c;
}

const lit = (raw: string) => `{${Buffer.byteLength(raw)}+}\r\n${raw}`;

async function count(c: Imap, box = 'INBOX'): Promise<number> {
  return Number(/MESSAGES (\d+)/.exec(await c.ok(`STATUS ${box} (MESSAGES)`))![1]);
}

describe('MULTIAPPEND', { timeout: 60_000 }, () => {
  test('advertised; three messages with their own flags and dates, one APPENDUID with consecutive UIDs', async () => {
    const c = await freshUser();
    assert.match(await c.ok('CAPABILITY'), / MULTIAPPEND /);
    const [a, b, d] = [message('first'), message('second'), message('third')];
    const r = await c.cmd(`APPEND INBOX (\\Seen) ${lit(a)} (\\Flagged $Work) "05-Jan-2020 10:00:00 +0000" ${lit(b)} ${lit(d)}`);
    assert.equal(r.status, 'OK', r.text);
    const m = /APPENDUID (\d+) (\d+):(\d+)\]/.exec(r.tagged)!;
    assert.deepEqual([Number(m[2]), Number(m[3])], [1, 3]);
    await c.ok('ENABLE IMAP4rev2'); // no \Recent
    await c.ok('SELECT INBOX');
    const f = await c.ok('UID FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    const flags = [...f.matchAll(/\* (\d+) FETCH \(FLAGS \(([^)]*)\)/g)].map((x) => [Number(x[1]), x[2]]);
    assert.deepEqual(flags, [[1, '\\Seen'], [2, '\\Flagged $Work'], [3, '']]);
    assert.match(f, /\* 2 FETCH \(FLAGS \([^)]*\) INTERNALDATE "05-Jan-2020 10:00:00 \+0000"/);
    assert.deepEqual([...f.matchAll(/Subject: (\w+)/g)].map((x) => x[1]), ['first', 'second', 'third']);
    c.close();
  });

  test('synchronizing literals get a continuation each; a big message is streamed', async () => {
    const c = await freshUser();
    const small = message('small');
    const big = message('big', ('z'.repeat(98) + '\r\n').repeat(5000));
    const tag = c.nextTag();
    c.t.send(`${tag} APPEND INBOX {${Buffer.byteLength(small)}}\r\n`);
    await c.t.readUntil(/^\+ [^\r\n]*\r\n/m);
    c.t.send(`${small} (\\Draft) {${Buffer.byteLength(big)}}\r\n`);
    await c.t.readUntil(/^\+ [^\r\n]*\r\n/m);
    c.t.send(`${big}\r\n`);
    const r = await c.readTagged(tag);
    assert.match(r.tagged, /^OK \[APPENDUID \d+ 1:2\] /);
    await c.ok('ENABLE IMAP4rev2');
    await c.ok('SELECT INBOX');
    assert.match(await c.ok('UID FETCH 2 (FLAGS RFC822.SIZE)'), new RegExp(`FLAGS \\(\\\\Draft\\) RFC822\\.SIZE ${Buffer.byteLength(big)} `));
    c.close();
  });

  test('all or nothing: over quota, an empty message, bad syntax after the first, a missing mailbox', async () => {
    const c = await freshUser();
    const user = `multi${n}@example.test`;
    await c.ok('APPEND INBOX ' + lit(message('kept')));
    assert.equal((await runCli(['quota', 'set', user, '--messages', '3'], { dataDir: server.dataDir })).code, 0);
    const three = [message('a'), message('b'), message('c')].map(lit).join(' ');
    assert.match((await c.cmd(`APPEND INBOX ${three}`)).tagged, /^NO \[OVERQUOTA\] /);
    assert.equal(await count(c), 1, 'none of the three was stored');
    assert.match((await c.cmd(`APPEND INBOX ${lit(message('x'))} {0+}\r\n`)).tagged, /^NO \[CANNOT\] Empty message/);
    assert.match((await c.cmd(`APPEND INBOX ${lit(message('y'))} (\\Seen ${lit(message('z'))}`)).tagged, /^BAD /);
    assert.match((await c.cmd(`APPEND Nosuch ${lit(message('y'))} ${lit(message('z'))}`)).tagged, /^NO \[TRYCREATE\] /);
    assert.equal(await count(c), 1);
    const two = await c.cmd(`APPEND INBOX ${lit(message('d'))} ${lit(message('e'))}`);
    assert.match(two.tagged, /^OK \[APPENDUID \d+ 2:3\] /, 'within the quota it works');
    assert.equal(await count(c), 3 + 1, 'and the 80 % warning came with it'); // 3 of 3: the 95 % warning, filed outside quota
    c.close();
  });
});
