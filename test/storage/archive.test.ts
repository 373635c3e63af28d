// `mailroom archive --older-than`: export, verify, remove; then `mailroom import` of the
// archive gives back identical mailboxes (bytes, flags, keywords, INTERNALDATE), read over
// IMAP with imapflow. Through Recently Deleted by default, for good with --purge-now.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { runCli, startServer, tempDirs, type RunningTestServer } from '../harness/server.js';

const T = { timeout: 120_000 };
let server: RunningTestServer;
let n = 0;

async function cliOk(args: string[]): Promise<string> {
  const r = await runCli(args, { dataDir: server.dataDir, timeoutMs: 60_000 });
  assert.equal(r.code, 0, `mailroom ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function client(user: string): Promise<ImapFlow> {
  const c = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap!, secure: false, auth: { user, pass: 'pw' }, logger: false, tls: { rejectUnauthorized: false } });
  await c.connect();
  return c;
}

/** mailbox → sorted lines "Message-ID date flags sha-of-bytes" (bytes as base64). */
async function state(user: string, boxes: string[]): Promise<Record<string, string[]>> {
  const c = await client(user);
  const out: Record<string, string[]> = {};
  try {
    for (const box of boxes) {
      const lock = await c.getMailboxLock(box);
      out[box] = [];
      try {
        const exists = typeof c.mailbox === 'object' ? c.mailbox.exists : 0;
        if (exists > 0) {
          for await (const m of c.fetch('1:*', { envelope: true, source: true, flags: true, internalDate: true })) {
            const flags = [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort().join(',');
            out[box].push(`${m.envelope!.messageId} ${new Date(m.internalDate!).toISOString()} ${flags} ${m.source!.toString('base64')}`);
          }
        }
      } finally {
        lock.release();
      }
      out[box].sort();
    }
  } finally {
    await c.logout();
  }
  return out;
}

const msg = (id: string, body: string) => `From: old@example.test\r\nSubject: ${id}\r\nMessage-ID: <${id}@archive.test>\r\n\r\n${body}\r\n`;

async function fixture(): Promise<string> {
  const user = `arch-${++n}@example.test`;
  await cliOk(['user', 'add', user, '--password', 'pw']);
  const c = await client(user);
  await c.mailboxCreate('Projects/2019');
  const year = 365 * 24 * 3600 * 1000;
  const put = [
    ['INBOX', 'old-1', ['\\Seen', '$Work'], new Date('2020-03-01T10:00:00Z')],
    ['INBOX', 'old-2', ['\\Flagged', '\\Answered'], new Date('2021-07-04T12:30:00Z')],
    ['INBOX', 'old-3', [], new Date(Date.now() - 3 * year)],
    ['INBOX', 'new-1', ['\\Seen'], new Date(Date.now() - year)],
    ['INBOX', 'new-2', [], new Date()],
    ['Projects/2019', 'old-4', ['\\Seen', '$Done'], new Date('2019-01-02T03:04:05Z')],
    ['Projects/2019', 'new-3', [], new Date(Date.now() - 24 * 3600 * 1000)],
  ] as const;
  for (const [box, id, flags, date] of put) await c.append(box, msg(id, `body of ${id}\r\nFrom the archive`), [...flags], date);
  await c.logout();
  return user;
}

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

describe('archive --older-than', () => {
  test('archive --older-than then restore the archive with import: identical', T, async () => {
    const user = await fixture();
    const boxes = ['INBOX', 'Projects/2019'];
    const original = await state(user, boxes);
    const out = path.join(tempDirs().dir, 'archive');
    const said = await cliOk(['archive', '--user', user, '--older-than', '2y', '--out', out]);
    assert.match(said, /archived 4 messages .* \(verified: count and sha256\); 4 moved to Recently Deleted/);
    const left = await state(user, boxes);
    assert.deepEqual(left.INBOX.map((l) => l.split(' ')[0]), ['<new-1@archive.test>', '<new-2@archive.test>']);
    assert.deepEqual(left['Projects/2019'].map((l) => l.split(' ')[0]), ['<new-3@archive.test>']);
    const deleted = await cliOk(['deleted', 'list', '--user', user]);
    assert.equal(deleted.trim().split('\n').length - 1, 4, deleted);
    assert.match(deleted, /\tcli\tarchive\t/);
    assert.equal(fs.readdirSync(path.join(out, 'INBOX', 'cur')).length, 3);

    assert.match(await cliOk(['import', '--user', user, '--format', 'maildir', out]), /imported 4 messages/);
    assert.deepEqual(await state(user, boxes), original);

    const again = await runCli(['archive', '--user', user, '--older-than', '2y', '--out', out], { dataDir: server.dataDir });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists/);
    const bad = await runCli(['archive', '--user', user, '--older-than', 'ages', '--out', `${out}-x`], { dataDir: server.dataDir });
    assert.match(bad.stderr, /--older-than: expected an age/);
  });

  test('--mailbox with mbox and --purge-now: removed for good, and the mbox imports back identical', T, async () => {
    const user = await fixture();
    const original = await state(user, ['INBOX']);
    const file = path.join(tempDirs().dir, 'inbox-old.mbox');
    const said = await cliOk(['archive', '--user', user, '--older-than', '2025-01-01', '--mailbox', 'INBOX', '--format', 'mbox', '--purge-now', '--out', file]);
    assert.match(said, /archived 3 messages .*; 3 removed for good/);
    assert.equal((await cliOk(['deleted', 'list', '--user', user])).trim().split('\n').length, 1, 'nothing in Recently Deleted');
    assert.equal((await state(user, ['INBOX'])).INBOX.length, 2);
    const nothing = await cliOk(['archive', '--user', user, '--older-than', '2025-01-01', '--mailbox', 'INBOX', '--out', `${file}.2`]);
    assert.match(nothing, /nothing received before/);
    assert.match(await cliOk(['import', '--user', user, '--format', 'mbox', '--mailbox', 'INBOX', file]), /imported 3 messages/);
    assert.deepEqual(await state(user, ['INBOX']), original);
  });
});
