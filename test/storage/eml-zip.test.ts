// eml-zip over the built CLI: python's zipfile reads the archive (every .eml byte-exact,
// flags in the index), a zip of .eml files made by python (no index) imports, and
// export → import → export keeps bytes, flags and dates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { childEnv, runCli, startServer, tempDirs, type RunningTestServer } from '../harness/server.js';
import { mainJs } from '../harness/repo-root.js';

const T = { timeout: 120_000 };
let server: RunningTestServer;
let n = 0;

async function cliOk(args: string[]): Promise<string> {
  const r = await runCli(args, { dataDir: server.dataDir, timeoutMs: 60_000 });
  assert.equal(r.code, 0, `mailroom ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
  return r.stdout;
}

function python(script: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, ...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`python: ${stderr || err.message}`)) : resolve(JSON.parse(stdout))));
  });
}

async function newUser(): Promise<string> {
  const user = `zip-${++n}@example.test`;
  await cliOk(['user', 'add', user, '--password', 'pw']);
  return user;
}

async function client(user: string): Promise<ImapFlow> {
  const c = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap!, secure: false, auth: { user, pass: 'pw' }, logger: false, tls: { rejectUnauthorized: false } });
  await c.connect();
  return c;
}

const MESSAGES: [string, string, string[], string][] = [
  ['INBOX', 'Subject: crlf\r\nMessage-ID: <z1@t>\r\n\r\nFrom here\r\n', ['\\Seen', '$Work'], '2024-02-03T04:05:06Z'],
  ['INBOX', 'Subject: lf\nMessage-ID: <z2@t>\n\nno final newline', ['\\Flagged'], '2025-06-07T08:09:10Z'],
  ['Reports/Q1', `Subject: big csv\r\nMessage-ID: <z3@t>\r\n\r\n${'date,amount,customer\r\n2026-01-01,12.50,ACME\r\n'.repeat(5000)}`, [], '2026-01-01T00:00:00Z'],
];

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

describe('eml-zip', () => {
  test('export: python zipfile reads each .eml byte-exact and the flags from the index; import → export keeps everything', T, async () => {
    const user = await newUser();
    const c = await client(user);
    await c.mailboxCreate('Reports/Q1');
    for (const [box, raw, flags, date] of MESSAGES) await c.append(box, raw, flags, new Date(date));
    await c.logout();
    const dir = tempDirs().dir;
    const zip = path.join(dir, 'mail.zip');
    assert.match(await cliOk(['export', '--user', user, '--format', 'eml-zip', '--out', zip]), /exported 3 messages/);
    const read = (await python(`
import zipfile, json, sys
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
index = json.loads(z.read('mailroom-index.json'))
print(json.dumps([{'mailbox': m['mailbox'], 'flags': m['flags'], 'date': m['internalDate'], 'raw': z.read(m['file']).decode('latin1'), 'compressed': z.getinfo(m['file']).compress_size} for m in index['messages']]))
`, [zip])) as { mailbox: string; flags: string[]; date: string; raw: string; compressed: number }[];
    assert.deepEqual(read.map((m) => [m.mailbox, m.raw, [...m.flags].sort(), m.date]), MESSAGES.map(([b, raw, f, d]) => [b, raw, [...f].sort(), new Date(d).toISOString()]));
    assert.ok(read[2].compressed < read[2].raw.length / 10, 'the CSV is deflated');

    const copy = await newUser();
    assert.match(await cliOk(['import', '--user', copy, '--format', 'eml-zip', zip]), /imported 3 messages/);
    const zip2 = path.join(dir, 'again.zip');
    await cliOk(['export', '--user', copy, '--format', 'eml-zip', '--out', zip2]);
    const entries = (file: string) => python(`
import zipfile, json, sys
z = zipfile.ZipFile(sys.argv[1])
i = json.loads(z.read('mailroom-index.json'))
print(json.dumps([[m['mailbox'], sorted(m['flags']), m['internalDate'], z.read(m['file']).decode('latin1')] for m in i['messages']]))
`, [file]);
    assert.deepEqual(await entries(zip2), await entries(zip));
  });

  test('a zip of .eml files made by python (no index) imports, folders as mailboxes', T, async () => {
    const dir = tempDirs().dir;
    const zip = path.join(dir, 'py.zip');
    await python(`
import zipfile, json, sys
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo('top.eml', (2023, 5, 6, 7, 8, 10)), 'Subject: top\\r\\n\\r\\nhi\\r\\n')
    z.writestr('Old/Stuff/a.eml', 'Subject: nested\\r\\n\\r\\nthere\\r\\n')
    z.writestr('notes.txt', 'not mail')
print(1)
`, [zip]);
    const user = await newUser();
    assert.match(await cliOk(['import', '--user', user, '--format', 'eml-zip', zip]), /imported 2 messages/);
    const c = await client(user);
    const lock = await c.getMailboxLock('Old/Stuff');
    const got = await c.fetchOne('1', { source: true });
    lock.release();
    const inbox = await c.getMailboxLock('INBOX');
    const top = await c.fetchOne('1', { source: true, internalDate: true });
    inbox.release();
    await c.logout();
    assert.equal(got && got.source!.toString(), 'Subject: nested\r\n\r\nthere\r\n');
    assert.equal(top && top.source!.toString(), 'Subject: top\r\n\r\nhi\r\n');
    assert.equal(top && new Date(top.internalDate!).toISOString(), '2023-05-06T07:08:10.000Z');
    const bad = await runCli(['import', '--user', user, '--format', 'eml-zip', path.join(dir, 'nothing.zip')], { dataDir: server.dataDir });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /cannot read/);
  });

  test('on a terminal (util-linux script gives a pty) export draws a progress bar on stderr', T, async () => {
    const user = await newUser();
    const c = await client(user);
    for (let i = 0; i < 5; i++) await c.append('INBOX', `Subject: p${i}\r\n\r\nbody\r\n`);
    await c.logout();
    const out = path.join(tempDirs().dir, 'p.zip');
    const cmd = [process.execPath, mainJs, 'export', '--user', user, '--format', 'eml-zip', '--out', out].map((a) => `'${a}'`).join(' ');
    const tty = await new Promise<string>((resolve, reject) =>
      execFile('script', ['-qec', cmd, '/dev/null'], { env: childEnv(server.dataDir), timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    assert.match(tty, /\rexport \[#{30}\] 5\/5\r?\n/);
    assert.match(tty, /exported 5 messages/);
  });
});
