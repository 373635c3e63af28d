// Quotas that never drift: `mailroom quota check [--fix]` recounts from the messages, the
// server repairs a corrupted counter by itself (interval shortened here), and
// `mailroom usage` reports logical and stored size and what dedup saved.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ImapFlow } from 'imapflow';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';

const T = { timeout: 120_000 };
const USER = 'quota@example.test';
let server: RunningTestServer;

const cli = (args: string[]) => runCli(args, { dataDir: server.dataDir, timeoutMs: 60_000 });

function corrupt(bytes: number, messages: number): void {
  const db = new Database(path.join(server.dataDir, 'mailroom.db'));
  db.pragma('busy_timeout = 10000');
  db.prepare('UPDATE users SET used_bytes = ?, used_messages = ? WHERE address = ?').run(bytes, messages, USER);
  db.close();
}

async function shown(): Promise<string> {
  const r = await cli(['quota', 'show', USER]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

before(async () => {
  server = await startServer(); // the daily check does not interfere with the CLI part
  assert.equal((await cli(['user', 'add', USER, '--password', 'pw'])).code, 0);
  const c = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap!, secure: false, auth: { user: USER, pass: 'pw' }, logger: false, tls: { rejectUnauthorized: false } });
  await c.connect();
  const body = `Subject: same\r\n\r\n${'attachment data '.repeat(400)}\r\n`;
  for (let i = 0; i < 3; i++) await c.append('INBOX', body);
  await c.append('INBOX', 'Subject: other\r\n\r\nsmall\r\n');
  const lock = await c.getMailboxLock('INBOX');
  await c.messageDelete('4'); // kept in Recently Deleted, no longer counted (retention default)
  lock.release();
  await c.logout();
});
after(async () => {
  await server?.stop();
});

describe('quota check and usage', () => {
  test('check finds a corrupted counter, --fix repairs it, and so does the server by itself', T, async () => {
    const ok = await cli(['quota', 'check', '--user', USER]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /1 checked, 0 drifted/);
    const good = await shown();
    const size = Number(/^storage\t(\d+)/m.exec(good)![1]);
    assert.ok(size > 3 * 6400, good);
    assert.match(good, /^messages\t3\t/m);

    corrupt(size + 12345, 42);
    const bad = await cli(['quota', 'check']);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, new RegExp(`${USER.replace('.', '\\.')}\\t${size + 12345}\\t${size}\\t42\\t3\\tdrifted`));
    const fix = await cli(['quota', 'check', '--user', USER, '--fix']);
    assert.equal(fix.code, 0, fix.stderr);
    assert.match(fix.stdout, /\tfixed\n[\s\S]*1 drifted, 1 fixed/);
    assert.equal(await shown(), good);

    // The same data with the scheduled check every second: it repairs a fresh corruption by itself.
    await server.stop();
    server = await startServer({ dataDir: server.dataDir, env: { MAILROOM_RETENTION_QUOTA_CHECK_INTERVAL_S: '1' } });
    corrupt(1, 1000);
    const repaired = await server.waitForLog((l) => l.msg === 'quota counters had drifted; repaired', 20_000);
    assert.deepEqual((repaired.users as { user: string; actual: unknown }[])[0], { user: USER, recorded: { bytes: 1, messages: 1000 }, actual: { bytes: size, messages: 3 } });
    assert.equal(await shown(), good);
  });

  test('usage: logical size, stored size, saved by dedup', T, async () => {
    const r = await cli(['usage', '--user', USER]);
    assert.equal(r.code, 0, r.stderr);
    const v = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('\t')).map(([k, n]) => [k, Number(n)]));
    assert.equal(v.messages, 4, 'Recently Deleted rows take space too');
    assert.ok(v['saved-by-dedup'] >= 2 * 6400, r.stdout);
    assert.equal(v.logical - v['saved-by-dedup'] - v['saved-by-compression'], v.stored);
    const all = await cli(['usage']);
    assert.match(all.stdout, /^logical\t\d+\t/m);
  });
});
