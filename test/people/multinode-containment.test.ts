// Containment across nodes: two `mailroom serve` processes on one PostgreSQL database; a
// device revoked with the CLI (a third process) ends its IMAP sessions on both nodes at
// once (the `credentials` event travels by LISTEN/NOTIFY), and a device of the same member
// logged in on either node keeps working.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase, pgSkip, type FreshDatabase } from '../harness/pg.js';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';
import { connect, type Transcript } from '../harness/transcript.js';

const ACCOUNT = 'nodes@example.test';

describe('containment on several nodes', { skip: pgSkip, timeout: 180_000 }, () => {
  let db: FreshDatabase;
  let a: RunningTestServer;
  let b: RunningTestServer;

  async function cli(...args: string[]): Promise<string> {
    const r = await runCli(args, { dataDir: a.dataDir, env: { MAILROOM_DATABASE_URL: db.url }, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `mailroom ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  async function idle(port: number, pass: string): Promise<Transcript> {
    const t = await connect(port, { timeoutMs: 15_000 });
    await t.readLine();
    t.send(`a LOGIN ${ACCOUNT} ${pass}\r\nb SELECT INBOX\r\nc IDLE\r\n`);
    await t.readUntil(/\+ [^\r]*\r\n/);
    return t;
  }

  before(async () => {
    db = await freshDatabase();
    // IDLE polling off: only the bus can tell a node (as in multi-node.test.ts)
    const env = { MAILROOM_DATABASE_URL: db.url, MAILROOM_IMAP_IDLE_POLL_MS: '600000' };
    [a, b] = await Promise.all([startServer({ env }), startServer({ env })]);
    await cli('user', 'add', ACCOUNT, '--password', 'owner-password');
    await cli('member', 'add', ACCOUNT, 'bob');
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
  });

  test('a device revoked from the CLI gets BYE on both nodes; the other device stays', async () => {
    const phone = (await cli('device', 'add', ACCOUNT, '--member', 'bob', '--name', 'phone')).trimEnd().split('\n').pop()!;
    const laptop = (await cli('device', 'add', ACCOUNT, '--member', 'bob', '--name', 'laptop')).trimEnd().split('\n').pop()!;
    const onA = await idle(a.ports.imap!, phone);
    const onB = await idle(b.ports.imap!, phone);
    const other = await idle(b.ports.imap!, laptop);
    await cli('device', 'revoke', ACCOUNT, 'phone');
    assert.match(await onA.readToEnd(), /^\* BYE [^\r]*revoked/m);
    assert.match(await onB.readToEnd(), /^\* BYE [^\r]*revoked/m);
    other.send('DONE\r\nd NOOP\r\n');
    assert.match(await other.readUntil(/d [A-Z]+ [^\r]*\r\n/), /d OK/);
    other.close();
  });
});
