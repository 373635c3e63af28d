// Compression at rest over real sockets: a message with a 10 MB CSV attachment is kept as a
// brotli blob, and IMAP (BODY[] whole and partial, RFC822.SIZE, BINARY.SIZE), POP3 RETR and
// the quota see exactly the bytes and sizes of the original; `mailroom usage` reports the saving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';

const T = { timeout: 180_000 };
const USER = 'csv@example.test';
let server: RunningTestServer;
let raw: Buffer;

function message(): Buffer {
  let csv = 'date,amount,customer,region,product,notes\r\n';
  let k = 7;
  while (csv.length < 10_200_000) {
    k = (k * 1103515245 + 12345) & 0x7fffffff;
    csv += `2026-0${(k % 9) + 1}-${10 + (k % 18)},${(k % 100000) / 100},Customer ${k % 5000},Region ${k % 12},SKU-${k % 900},order ref ${k.toString(36)}\r\n`;
  }
  const b64 = Buffer.from(csv).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    `From: finance@example.test\r\nTo: ${USER}\r\nSubject: the export\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n` +
      `--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b1\r\nContent-Type: text/csv; name="export.csv"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${csv}\r\n` +
      `--b1\r\nContent-Type: text/csv; name="again.csv"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b1--\r\n`,
  );
}

before(async () => {
  server = await startServer();
  assert.equal((await runCli(['user', 'add', USER, '--password', 'pw'], { dataDir: server.dataDir })).code, 0);
  raw = message();
  const c = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap!, secure: false, auth: { user: USER, pass: 'pw' }, logger: false, tls: { rejectUnauthorized: false } });
  await c.connect();
  await c.append('INBOX', raw);
  await c.logout();
});
after(async () => {
  await server?.stop();
});

describe('compression at rest', () => {
  test('stored compressed; IMAP, POP3 and quota see the original bytes and sizes', T, async () => {
    const blobs = path.join(server.dataDir, 'blobs');
    const files = execSync(`find ${blobs} -type f -printf '%s %f\\n'`).toString().trim().split('\n');
    const compressed = files.filter((l) => l.endsWith('.br'));
    assert.ok(compressed.length >= 1, files.join('\n'));
    const onDisk = files.reduce((n, l) => n + Number(l.split(' ')[0]), 0);
    assert.ok(onDisk < raw.length / 4, `on disk ${onDisk} for ${raw.length} logical`);

    const c = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap!, secure: false, auth: { user: USER, pass: 'pw' }, logger: false, tls: { rejectUnauthorized: false } });
    await c.connect();
    const lock = await c.getMailboxLock('INBOX');
    try {
      const m = await c.fetchOne('1', { source: true, size: true, bodyParts: ['2'] });
      assert.ok(m);
      assert.equal(m.size, raw.length, 'RFC822.SIZE');
      assert.ok(m.source!.equals(raw), 'BODY[] byte for byte');
      for (const [start, len] of [[0, 100], [raw.length - 5000, 5000], [4_000_123, 1_000_000], [raw.length - 10, 100]] as const) {
        const part = await c.fetchOne('1', { source: { start, maxLength: len } });
        assert.ok(part && part.source!.equals(raw.subarray(start, Math.min(start + len, raw.length))), `BODY[]<${start}.${len}>`);
      }
    } finally {
      lock.release();
      await c.logout();
    }
    const { Imap } = await import('../imap/client.js');
    const t = await Imap.open(server.ports.imap!, { login: false });
    await t.ok(`LOGIN ${USER} pw`);
    await t.ok('EXAMINE INBOX');
    const sizes = await t.ok('FETCH 1 (RFC822.SIZE BINARY.SIZE[2] BINARY.SIZE[3])');
    const marker = 'Content-Transfer-Encoding: 8bit\r\n\r\n';
    const csvStart = raw.indexOf(marker) + marker.length;
    const csvLen = raw.indexOf('\r\n--b1\r\nContent-Type: text/csv; name="again.csv"') - csvStart;
    assert.match(sizes, new RegExp(`RFC822\\.SIZE ${raw.length}\\b`));
    assert.match(sizes, new RegExp(`BINARY\\.SIZE\\[2\\] ${csvLen}\\b`));
    assert.match(sizes, new RegExp(`BINARY\\.SIZE\\[3\\] ${csvLen}\\b`), 'the base64 part decodes to the same CSV');
    const mid = await t.ok('FETCH 1 (BODY.PEEK[2]<5000000.64>)');
    assert.ok(mid.includes(`{64}\r\n${raw.subarray(csvStart + 5_000_000, csvStart + 5_000_064).toString('latin1')}`), mid.slice(0, 300));
    t.close();

    // python's poplib as the POP3 client: LIST size and the RETR bytes (dot-unstuffed) by sha256.
    const pop = execFileSync('python3', ['-c', `
import poplib, hashlib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user(sys.argv[2]); p.pass_('pw')
size = p.list(1).split()[2].decode()
resp, lines, octets = p.retr(1)
print(size, hashlib.sha256(b'\\r\\n'.join(lines) + b'\\r\\n').hexdigest())
p.quit()
`, String(server.ports.pop3!), USER], { maxBuffer: 1 << 20 }).toString().trim();
    assert.equal(pop, `${raw.length} ${createHash('sha256').update(raw).digest('hex')}`, 'POP3 LIST and RETR byte for byte');

    const quota = await runCli(['quota', 'show', USER], { dataDir: server.dataDir });
    assert.match(quota.stdout, new RegExp(`^storage\\t${raw.length}\\t`, 'm'), 'quota counts the logical size');
    const usage = await runCli(['usage', '--user', USER], { dataDir: server.dataDir });
    const v = Object.fromEntries(usage.stdout.trim().split('\n').map((l) => l.split('\t')).map(([k, n]) => [k, Number(n)]));
    assert.equal(v.logical, raw.length);
    assert.ok(v['saved-by-compression'] > raw.length * 0.7, usage.stdout);
    assert.ok(v.stored < raw.length / 4, usage.stdout);
  });
});
