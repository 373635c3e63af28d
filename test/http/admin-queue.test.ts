// The admin page's outbound queue (issue 15): an entry that cannot be delivered is listed
// with its recipient and last error; Retry now makes it due; Delete removes it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';
import { AdminClient } from './admin-client.js';

let server: RunningTestServer;

async function cli(...args: string[]): Promise<string> {
  const r = await runCli(args, { dataDir: server.dataDir });
  if (r.code !== 0) throw new Error(`mailroom ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A loopback port nobody listens on: delivery there is refused at once. */
async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

let dnsFile: string;

before(async () => {
  const port = await closedPort();
  dnsFile = join(tmpdir(), `mailroom-admin-queue-dns-${process.pid}.json`); // no answers: nothing is looked up off this machine
  writeFileSync(dnsFile, '{}');
  server = await startServer({ env: { MAILROOM_QUEUE_ROUTES: `remote.test=127.0.0.1:${port}`, MAILROOM_QUEUE_POLL_MS: '100', MAILROOM_SMTP_DNS_FILE: dnsFile } });
  await cli('user', 'add', 'root@example.test', '--password', 'admin-secret');
  await cli('user', 'set', 'root@example.test', 'admin=yes');
  await cli('alias', 'add', 'away@example.test', 'far@remote.test');
});
after(async () => {
  await server?.stop();
  rmSync(dnsFile, { force: true });
});

test('queue page: lists an undeliverable entry with its error; retry makes it due, delete removes it', async () => {
  const file = join(server.dataDir, '..', 'm.eml');
  writeFileSync(file, 'From: root@example.test\r\nTo: away@example.test\r\nSubject: queued\r\nMessage-ID: <q1@example.test>\r\n\r\nhello\r\n');
  await runCli(['deliver', '--to', 'away@example.test', file], { dataDir: server.dataDir, env: { MAILROOM_SMTP_DNS_FILE: dnsFile } });
  const id = (await cli('queue', 'list')).split(/\s/)[0];
  assert.match(id, /^[A-Za-z0-9]+$/, 'one entry queued');

  const c = new AdminClient(`http://127.0.0.1:${server.ports.http}`);
  assert.equal((await c.signIn('root@example.test', 'admin-secret')).status, 303);
  // Wait until the queue tried once (connection refused) so the page shows an error.
  let page = await c.get('/admin/queue');
  for (let i = 0; i < 100 && !page.body.includes('ECONNREFUSED'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    page = await c.get('/admin/queue');
  }
  assert.match(page.body, new RegExp(`<td>${id}</td>`));
  assert.match(page.body, /far@remote\.test \(pending: [^<]*ECONNREFUSED[^<]*\)/, 'the recipient with its last result');
  const status = await c.get('/admin');
  assert.match(status.body, /<th>Outbound queue<\/th><td>1 entries, oldest queued /);

  const retry = await c.post('/admin/queue', '/admin/queue/retry', { id });
  assert.equal(retry.status, 303);
  assert.match(decodeURIComponent(retry.location!.replace(/\+/g, ' ')), new RegExp(`queue entry ${id} is due now`));
  const missing = await c.post('/admin/queue', '/admin/queue/retry', { id: 'nosuchentry' });
  assert.match(decodeURIComponent(missing.location!.replace(/\+/g, ' ')), /error=no queue entry nosuchentry/);

  const del = await c.post('/admin/queue', '/admin/queue/delete', { id });
  assert.equal(del.status, 303);
  assert.doesNotMatch(await cli('queue', 'list'), new RegExp(id));
  assert.match((await c.get('/admin/queue')).body, /The queue is empty\./);
});
