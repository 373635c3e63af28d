/**
 * Logins through the credential cache and the hash worker pool, over real IMAP and
 * POP3 sockets against the built server: a second login with the same password
 * succeeds; after `mailroom user passwd` (another process) the old password is
 * refused at once and the new one works; with one hash thread and a queue of one,
 * many simultaneous logins with a verified password all succeed (they need no hash),
 * and cold ones either succeed or get the temporary-failure code, never a wrong-password one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';
import { connect } from '../harness/transcript.js';
import { Pop3Client } from '../pop3/helpers.js';

const ALICE = 'alice@example.test';
const BOB = 'bob@example.test';

async function cli(server: RunningTestServer, ...args: string[]): Promise<void> {
  const r = await runCli(args, { dataDir: server.dataDir });
  assert.equal(r.code, 0, `mailroom ${args.join(' ')}: ${r.stderr}`);
}

/** Opens an IMAP connection, sends LOGIN, returns the tagged answer and closes. */
async function imapLogin(port: number, user: string, password: string): Promise<string> {
  const t = await connect(port, { timeoutMs: 20_000 });
  try {
    await t.readLine(); // greeting
    t.send(`a1 LOGIN ${user} "${password}"\r\n`);
    const text = await t.readUntil(/(^|\r\n)a1 (OK|NO|BAD)[^\r\n]*\r\n/);
    return /a1 ((?:OK|NO|BAD)[^\r\n]*)\r\n$/.exec(text)![1];
  } finally {
    t.socket.destroy();
  }
}

/** USER/PASS over POP3; returns the PASS answer and quits. */
async function pop3Login(port: number, user: string, password: string): Promise<string> {
  const c = await Pop3Client.open(port);
  try {
    const answer = await c.login(user, password);
    if (answer.startsWith('+OK')) assert.match(await c.cmd('QUIT'), /^\+OK/); // releases the maildrop lock
    return answer;
  } finally {
    c.t.socket.destroy();
  }
}

describe('login cache and hash threads (IMAP, POP3)', () => {
  let server: RunningTestServer;
  let imap: number;
  let pop3: number;

  before(async () => {
    server = await startServer({ env: { MAILROOM_AUTH_HASH_WORKERS: '1', MAILROOM_AUTH_HASH_QUEUE: '1' } });
    imap = server.ports.imap!;
    pop3 = server.ports.pop3!;
    await cli(server, 'user', 'add', ALICE, '--password', 'first pw');
    await cli(server, 'user', 'add', BOB, '--password', 'bob pw');
  });
  after(() => server.stop());

  it('a second login with the same password succeeds, over IMAP and POP3', async () => {
    assert.match(await imapLogin(imap, ALICE, 'first pw'), /^OK /);
    assert.match(await imapLogin(imap, ALICE, 'first pw'), /^OK /);
    assert.match(await pop3Login(pop3, ALICE, 'first pw'), /^\+OK /);
    assert.match(await pop3Login(pop3, ALICE, 'first pw'), /^\+OK /);
  });

  it('verified logins need no hash thread: 8 at once all succeed with one thread and a queue of one', async () => {
    assert.match(await imapLogin(imap, ALICE, 'first pw'), /^OK /);
    const answers = await Promise.all(Array.from({ length: 8 }, () => imapLogin(imap, ALICE, 'first pw')));
    assert.deepEqual(answers.map((a) => a.split(' ')[0]), Array(8).fill('OK'), answers.join('\n'));
  });

  it('cold logins beyond the queue get a temporary failure, never "wrong password"', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => imapLogin(imap, BOB, 'bob pw')));
    for (const a of answers) assert.match(a, /^(OK |NO \[UNAVAILABLE\])/);
    assert.ok(answers.some((a) => a.startsWith('OK ')), answers.join('\n'));
    assert.match(await imapLogin(imap, BOB, 'bob pw'), /^OK /, 'and once verified, the next one succeeds');
  });

  it('after `mailroom user passwd` the old password is refused at once and the new one works', async () => {
    assert.match(await imapLogin(imap, ALICE, 'first pw'), /^OK /); // cached right now
    await cli(server, 'user', 'passwd', ALICE, '--password', 'second pw');
    assert.match(await imapLogin(imap, ALICE, 'first pw'), /^NO \[AUTHENTICATIONFAILED\]/);
    assert.match(await pop3Login(pop3, ALICE, 'first pw'), /^-ERR \[AUTH\]/);
    assert.match(await imapLogin(imap, ALICE, 'second pw'), /^OK /);
    assert.match(await pop3Login(pop3, ALICE, 'second pw'), /^\+OK /);
    assert.match(await pop3Login(pop3, ALICE, 'second pw'), /^\+OK /);
  });

  it('a deleted user cannot log in with a cached password', async () => {
    assert.match(await imapLogin(imap, BOB, 'bob pw'), /^OK /);
    await cli(server, 'user', 'del', BOB);
    assert.match(await imapLogin(imap, BOB, 'bob pw'), /^NO \[AUTHENTICATIONFAILED\]/);
    await cli(server, 'user', 'add', BOB, '--password', 'bob pw');
    assert.match(await imapLogin(imap, BOB, 'bob pw'), /^OK /, 're-created with the same password: a new stored hash, verified afresh');
  });
});
