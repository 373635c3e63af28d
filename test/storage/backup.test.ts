// `mailroom backup` / `mailroom restore-backup` over the built CLI: an online backup taken
// while IMAP APPENDs and SMTP deliveries keep arriving, an incremental second backup that
// copies only new blobs, a restore whose every message is byte-identical (read over IMAP
// with imapflow from both servers), and kill -9 at many points of a backup: restore either
// succeeds with a verified backup or refuses.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { childEnv, runCli, startServer, tempDirs, type RunningTestServer } from '../harness/server.js';
import { mainJs } from '../harness/repo-root.js';

const T = { timeout: 300_000 };
const USER = 'alice@example.test';
const PASS = 'backup-pw';
let server: RunningTestServer;
let env: Record<string, string>;

async function cliOk(args: string[], dataDir = server.dataDir): Promise<string> {
  const r = await runCli(args, { dataDir, env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, `mailroom ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function imap(port: number): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: USER, pass: PASS }, logger: false, tls: { rejectUnauthorized: false } });
}

/** Message-ID → raw bytes of every INBOX message. */
async function inbox(port: number): Promise<Map<string, Buffer>> {
  const c = imap(port);
  await c.connect();
  const out = new Map<string, Buffer>();
  try {
    const lock = await c.getMailboxLock('INBOX');
    try {
      for await (const m of c.fetch('1:*', { envelope: true, source: true })) out.set(m.envelope!.messageId!, m.source!);
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
  return out;
}

function body(i: number): string {
  // Every tenth message is large (its own blob file, bigger copy), the others small.
  const filler = i % 10 === 0 ? 'x'.repeat(76).concat('\r\n').repeat(3000) : `line ${i}\r\n`;
  return filler;
}

/** Appends over IMAP and sends over SMTP until stopped; records the Message-IDs acknowledged. */
function startLoad(): { acked: Set<string>; stop: () => Promise<void> } {
  const acked = new Set<string>();
  let running = true;
  const appender = (async () => {
    const c = imap(server.ports.imap!);
    await c.connect();
    for (let i = 0; running; i++) {
      const id = `<append-${i}@backup.test>`;
      await c.append('INBOX', `From: a@example.test\r\nTo: ${USER}\r\nSubject: append ${i}\r\nMessage-ID: ${id}\r\n\r\n${body(i)}`, ['\\Seen']);
      acked.add(id);
    }
    await c.logout();
  })();
  const sender = (async () => {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.smtp!, secure: false, ignoreTLS: true, name: 'client.test' });
    for (let i = 0; running; i++) {
      const id = `<smtp-${i}@backup.test>`;
      await t.sendMail({ envelope: { from: 'sender@remote.test', to: [USER] }, raw: `From: sender@remote.test\r\nTo: ${USER}\r\nSubject: smtp ${i}\r\nMessage-ID: ${id}\r\n\r\n${body(i + 5)}` });
      acked.add(id);
    }
    t.close();
  })();
  return {
    acked,
    stop: async () => {
      running = false;
      await Promise.all([appender, sender]);
    },
  };
}

async function until(pred: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  const { dir } = tempDirs();
  const dns = path.join(dir, 'dns.json');
  fs.writeFileSync(dns, '{}');
  env = { MAILROOM_SMTP_DNS_FILE: dns };
  server = await startServer({ env });
  await cliOk(['user', 'add', USER, '--password', PASS]);
});
after(async () => {
  await server?.stop();
});

describe('backup and restore-backup', () => {
  test('online backup under IMAP and SMTP load, incremental, restored byte for byte', T, async () => {
    const load = startLoad();
    const out = path.join(tempDirs().dir, 'backup');
    try {
      await until(() => load.acked.size >= 30);
      const before1 = new Set(load.acked);
      const first = await cliOk(['backup', '--out', out]);
      const m1 = /(\d+) new blobs .* (\d+) already there/.exec(first);
      assert.ok(m1 && Number(m1[1]) > 0, first);
      await until(() => load.acked.size >= before1.size + 20);
      const before2 = new Set(load.acked);
      const second = await cliOk(['backup', '--out', out]);
      const m2 = /(\d+) new blobs .* (\d+) already there/.exec(second);
      assert.ok(m2, second);
      assert.ok(Number(m2[2]) > 0, `the second backup reuses blobs: ${second}`);
      assert.ok(Number(m2[1]) < Number(m2[1]) + Number(m2[2]));
      for (const id of before1) assert.ok(before2.has(id));
      await load.stop();

      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { database: string; files: { path: string }[] };
      assert.equal(fs.readdirSync(out).filter((f) => f.endsWith('.db')).length, 1, 'the older database went once the new manifest was in place');

      const target = tempDirs().dataDir;
      const restored = await cliOk(['restore-backup', out], target);
      assert.match(restored, new RegExp(`restored ${manifest.files.length} files`));
      const again = await runCli(['restore-backup', out], { dataDir: target, env });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /not empty.*--force/);
      await cliOk(['restore-backup', '--force', out], target);

      const copy = await startServer({ dataDir: target, env });
      try {
        const live = await inbox(server.ports.imap!);
        const back = await inbox(copy.ports.imap!);
        for (const id of before2) assert.ok(back.has(id), `acknowledged before the backup began: ${id}`);
        assert.ok(back.size >= before2.size);
        for (const [id, raw] of back) assert.ok(raw.equals(live.get(id)!), `byte-identical: ${id}`);
        assert.ok([...back.values()].some((b) => b.length > 200_000), 'large messages included');
      } finally {
        await copy.stop();
      }
    } finally {
      await load.stop();
    }
  });

  test('a backup that does not match its manifest is refused; PostgreSQL refuses with the pg_dump hint', T, async () => {
    const out = path.join(tempDirs().dir, 'backup');
    await cliOk(['backup', '--out', out]);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { database: string };
    const db = path.join(out, m.database);
    const bytes = fs.readFileSync(db);
    bytes[bytes.length - 100] ^= 0xff;
    fs.writeFileSync(db, bytes);
    const r = await runCli(['restore-backup', out], { dataDir: tempDirs().dataDir, env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refused: .*wrong sha256: mailroom-/);
    const empty = await runCli(['restore-backup', tempDirs().dir], { dataDir: tempDirs().dataDir, env });
    assert.match(empty.stderr, /refused: no manifest.json/);

    const pg = await runCli(['backup', '--out', out], { dataDir: tempDirs().dataDir, env: { MAILROOM_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    assert.equal(pg.code, 1);
    assert.match(pg.stderr, /PostgreSQL: back it up with pg_dump/);
  });

  test('kill -9 during a backup: restore either gets a verified backup or refuses; a killed incremental keeps the previous one', T, async () => {
    const c = imap(server.ports.imap!);
    await c.connect();
    for (let i = 0; i < 150; i++) await c.append('INBOX', `Subject: k${i}\r\nMessage-ID: <kill-${i}@backup.test>\r\n\r\n${body(i)}`);
    await c.logout();
    const kill = (out: string, ms: number) =>
      new Promise<void>((resolve) => {
        const child = spawn(process.execPath, [mainJs, 'backup', '--out', out], { env: childEnv(server.dataDir, env), stdio: 'ignore' });
        const timer = setTimeout(() => child.kill('SIGKILL'), ms);
        child.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    const outcomes = { restored: 0, refused: 0 };
    const base = tempDirs().dir;
    for (const ms of [0, 100, 200, 300, 400, 500, 700, 900, 1200, 5000]) {
      const out = path.join(base, `fresh-${ms}`);
      await kill(out, ms);
      const r = await runCli(['restore-backup', out], { dataDir: path.join(base, `data-${ms}`), env });
      if (r.code === 0) outcomes.restored++;
      else {
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /refused: /);
        outcomes.refused++;
      }
    }
    assert.ok(outcomes.refused > 0 && outcomes.restored > 0, JSON.stringify(outcomes));

    const inc = path.join(base, 'incremental');
    await cliOk(['backup', '--out', inc]);
    for (const ms of [150, 300, 450, 600, 800]) {
      await kill(inc, ms);
      await cliOk(['restore-backup', inc], path.join(base, `inc-data-${ms}`));
    }
  });
});
