// Small messages kept inside the database (issue 13, store/blob/inline.ts) over the real
// server: no blob file for them; IMAP FETCH (imapflow, whole, partial and BINARY) and POP3
// RETR (python's poplib) give the exact bytes; a backup restored elsewhere serves them byte
// for byte; and a few hundred small messages delivered over LMTP take less than a bound
// on disk (file sizes as `du` counts them, not time).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import { runCli, startServer, tempDirs, type RunningTestServer } from '../harness/server.js';
import { diskUsage } from '../harness/disk-usage.js';
import { dataOf, smallMessage } from '../../bench/storage-density.js';
import { load } from '../../bench/smtp-load.js';

const T = { timeout: 300_000 };
const USER = 'small@example.test';
const PASS = 'inline-pw';
let server: RunningTestServer;

async function cliOk(args: string[], dataDir = server.dataDir): Promise<string> {
  const r = await runCli(args, { dataDir, timeoutMs: 120_000 });
  assert.equal(r.code, 0, `mailroom ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function imap(port: number): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: USER, pass: PASS }, logger: false, tls: { rejectUnauthorized: false } });
}

function py(script: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
  });
}

const POP_ALL = `
import poplib, sys, base64
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user(sys.argv[2]); p.pass_(sys.argv[3])
for i in range(1, len(p.list()[1]) + 1):
    sys.stdout.write(base64.b64encode(b'\\r\\n'.join(p.retr(i)[1]) + b'\\r\\n').decode() + '\\n')
p.quit()
`;

/** Every INBOX message's bytes in UID order. */
async function fetchAll(port: number): Promise<Buffer[]> {
  const c = imap(port);
  await c.connect();
  try {
    const lock = await c.getMailboxLock('INBOX');
    try {
      const out: Buffer[] = [];
      for await (const m of c.fetch('1:*', { uid: true, source: true })) out.push(m.source!);
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
}

/** Small messages of several kinds: plain ASCII, 8-bit UTF-8, a line starting with a dot (POP3 stuffs it), an armored PGP body. */
const MESSAGES = [
  Buffer.from('From: a@example.net\r\nTo: small@example.test\r\nSubject: plain\r\nMessage-ID: <plain@example.net>\r\n\r\nHello there.\r\n'),
  Buffer.from('From: b@example.net\r\nSubject: utf-8\r\nMessage-ID: <utf8@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße, ĉiuj — 你好\r\n.a dot line\r\n..two dots\r\n'),
  Buffer.from(
    'From: c@example.net\r\nSubject: armored\r\nMessage-ID: <pgp@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="E"\r\n\r\n' +
      '--E\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--E\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\n' +
      randomBytes(4000).toString('base64').replace(/.{64}/g, '$&\r\n') +
      '\r\n-----END PGP MESSAGE-----\r\n\r\n--E--\r\n',
  ),
];

before(async () => {
  server = await startServer();
  await cliOk(['user', 'add', USER, '--password', PASS]);
  const c = imap(server.ports.imap!);
  await c.connect();
  for (const m of MESSAGES) await c.append('INBOX', m);
  await c.logout();
});
after(async () => {
  await server?.stop();
});

describe('small messages inside the database', () => {
  test('no blob file; FETCH (whole, partial, BINARY) and POP3 RETR give the exact bytes', T, async () => {
    assert.equal(diskUsage(server.dataDir).blobFileCount, 0, 'small messages are kept in the database');
    assert.deepEqual(await fetchAll(server.ports.imap!), MESSAGES);
    const c = imap(server.ports.imap!);
    await c.connect();
    try {
      const lock = await c.getMailboxLock('INBOX');
      try {
        for (const [i, raw] of MESSAGES.entries()) {
          const part = await c.fetchOne(String(i + 1), { source: { start: 20, maxLength: 60 } });
          assert.deepEqual(part && part.source, raw.subarray(20, 80), `partial FETCH of message ${i + 1}`);
        }
        const bin = await c.fetchOne('2', { bodyParts: ['1'] }, { binary: true });
        assert.ok(bin && bin.binaryParts?.has('1'), 'answered by FETCH BINARY');
        const body = MESSAGES[1].subarray(MESSAGES[1].indexOf('\r\n\r\n') + 4);
        assert.deepEqual(bin.bodyParts?.get('1'), body, 'BINARY[1]: the 8-bit body as stored');
      } finally {
        lock.release();
      }
    } finally {
      await c.logout();
    }
    const popped = (await py(POP_ALL, String(server.ports.pop3!), USER, PASS)).trim().split('\n').map((l) => Buffer.from(l, 'base64'));
    assert.deepEqual(popped, MESSAGES);
  });

  test('a backup restored into another data directory serves them byte for byte', T, async () => {
    const out = `${tempDirs().dir}/backup`;
    await cliOk(['backup', '--out', out]);
    const target = tempDirs().dataDir;
    await cliOk(['restore-backup', out], target);
    const copy = await startServer({ dataDir: target });
    try {
      assert.equal(diskUsage(target).blobFileCount, 0);
      assert.deepEqual(await fetchAll(copy.ports.imap!), MESSAGES);
    } finally {
      await copy.stop();
    }
  });

  test('5,000 small messages over LMTP grow the data directory by at most 1.5× their size (server stopped)', T, async () => {
    // Issue 13's figure. `npm run bench storage-density` (the same messages, the empty data
    // directory counted too): 1.48× (2.17× with the FTS5 index, 8.65× with one file per blob).
    const env = { MAILROOM_IMAP: 'off', MAILROOM_IMAPS: 'off', MAILROOM_POP3: 'off', MAILROOM_POP3S: 'off', MAILROOM_SMTP: 'off', MAILROOM_SUBMISSION: 'off', MAILROOM_SUBMISSIONS: 'off', MAILROOM_HTTP: 'off' };
    const first = await startServer({ env });
    const dataDir = first.dataDir;
    await first.stop();
    await cliOk(['user', 'add', 'density@bench.test', '--password', PASS], dataDir);
    const empty = diskUsage(dataDir).total;
    const s = await startServer({ env, dataDir });
    const raw = Array.from({ length: 5000 }, (_, i) => smallMessage(i));
    try {
      const r = await load(s.ports.lmtp!, 4, raw.length, raw.map(dataOf), 'LHLO', () => 'density@bench.test');
      assert.equal(r.accepted, raw.length, r.firstFailures.join(' | '));
    } finally {
      await s.stop();
    }
    const used = diskUsage(dataDir);
    const logical = raw.reduce((a, m) => a + m.length, 0);
    const ratio = (used.total - empty) / logical;
    assert.equal(used.blobFileCount, 0);
    assert.ok(ratio <= 1.5, `${ratio.toFixed(2)}× (${used.total - empty} bytes for ${logical}): ${JSON.stringify(used)}`);
  });
});
