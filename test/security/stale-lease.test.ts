/**
 * Issue 14, stale leases: a server killed with SIGKILL during a POP3 session leaves the
 * maildrop lease in the store. Its owner names this data directory's node id and the
 * dead process, so the restarted server releases it at start and the next POP3 login
 * succeeds at once instead of `-ERR [IN-USE]` until the lease expires.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startServer, type RunningTestServer } from '../harness/server.js';
import { Pop3Client } from '../pop3/helpers.js';
import { cli, PASSWORD, USER } from './helpers.js';

describe('stale leases are cleared at start', () => {
  let server: RunningTestServer | undefined;
  after(() => server?.stop());

  it('kill -9 during a POP3 session, restart: POP3 login succeeds at once', { timeout: 60_000 }, async (t) => {
    server = await startServer();
    await cli(server, 'user', 'add', USER, '--password', PASSWORD);
    const first = await Pop3Client.open(server.ports.pop3!);
    assert.match(await first.login(USER, PASSWORD), /^\+OK/);
    const second = await Pop3Client.open(server.ports.pop3!);
    assert.match(await second.login(USER, PASSWORD), /^-ERR \[IN-USE\]/, 'the maildrop is locked while the first session holds it');
    second.t.close();
    await server.stop('SIGKILL');
    first.t.close();

    server = await startServer({ dataDir: server.dataDir });
    const started = Date.now();
    const again = await Pop3Client.open(server.ports.pop3!);
    assert.match(await again.login(USER, PASSWORD), /^\+OK/, 'no [IN-USE] after the restart');
    t.diagnostic(`POP3 login ${Date.now() - started} ms after the restart`);
    assert.ok(server.stdout.some((l) => l.msg?.startsWith('released leases this node held before a crash')), 'the release is logged');
    assert.match(await again.cmd('QUIT'), /^\+OK/);
    again.t.close();
  });
});
