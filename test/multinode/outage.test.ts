// A real PostgreSQL restart seen through the protocols (issue 6): a PRIVATE cluster
// (own temp dir, own port, so the shared test server is never disturbed) is stopped
// under a running `mailroom serve`; IMAP, POP3 and SMTP must answer with temporary
// failures (NO [UNAVAILABLE], -ERR [SYS/TEMP], 451 4.3.0) and the process must live.
// The cluster is started again and the SAME server process must serve normally, with
// every message it acknowledged before the outage still there.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Transcript } from '../harness/transcript.js';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';
import { PG_REQUIRED } from '../harness/pg.js';
import { PASS, USER, message } from '../imap/client.js';

/** The newest Debian PostgreSQL bin directory that has initdb and pg_ctl, or null. */
function findPgBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

const PG_BIN = findPgBin();
const AS_ROOT = process.getuid?.() === 0;
// initdb refuses to run as root: as root the cluster belongs to the `postgres` OS user.
const POSTGRES_UID = AS_ROOT ? osUid('postgres') : null;
const skip: string | false =
  PG_BIN === null
    ? PG_REQUIRED
      ? false // required: run and fail on the missing binaries
      : 'PostgreSQL outage test skipped: no /usr/lib/postgresql/<ver>/bin/{initdb,pg_ctl} (install postgresql)'
    : AS_ROOT && POSTGRES_UID === null && !PG_REQUIRED
      ? 'PostgreSQL outage test skipped: running as root without a `postgres` OS user to own the private cluster'
      : false;
if (skip !== false) process.stderr.write(`${skip}\n`);

function osUid(name: string): { uid: number; gid: number } | null {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Runs a PostgreSQL binary as the cluster's owner. */
function pgRun(tool: string, args: string[]): string {
  const exe = join(PG_BIN ?? '/nonexistent', tool);
  const [cmd, argv] = AS_ROOT ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A throwaway cluster: initdb once, then start/stop as often as the test wants. */
class PrivateCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'mailroom-pg-'));
  readonly data = join(this.dir, 'data');
  port = 0;
  private running = false;

  async init(): Promise<void> {
    if (POSTGRES_UID) chownSync(this.dir, POSTGRES_UID.uid, POSTGRES_UID.gid);
    this.port = await freePort();
    pgRun('initdb', ['-D', this.data, '-U', 'postgres', '--auth=trust', '--no-sync']);
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  start(): void {
    // -k: the Unix socket goes into our dir, not /var/run/postgresql (shared cluster's).
    pgRun('pg_ctl', ['-D', this.data, '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(this.dir, 'log'), '-w', '-t', '60', 'start']);
    this.running = true;
  }

  stop(): void {
    pgRun('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', '-t', '60', 'stop']);
    this.running = false;
  }

  /** Stops (if running) and removes everything; never throws. */
  destroy(): void {
    try {
      if (this.running || existsSync(join(this.data, 'postmaster.pid'))) this.stop();
    } catch {
      // a cluster that will not stop cleanly still must not outlive the test
      try {
        pgRun('pg_ctl', ['-D', this.data, '-m', 'immediate', 'stop']);
      } catch {
        /* already gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  log(): string {
    return existsSync(join(this.dir, 'log')) ? readFileSync(join(this.dir, 'log'), 'utf8') : '';
  }
}

const CRLF = '\r\n';

async function imapLogin(port: number): Promise<Transcript> {
  const t = await connect(port, { timeoutMs: 30_000 });
  await t.readLine();
  t.send(`a LOGIN ${USER} ${PASS}${CRLF}`);
  assert.match(await t.readUntil(/^a .*\r\n/m), /^a OK/m);
  return t;
}

/** The MX refuses mail claiming our own domain unless SPF/DKIM/DMARC vouch for it: this one comes from elsewhere. */
function remoteMessage(subject: string): string {
  return message(subject).replace('From: Bob <bob@example.test>', 'From: Bob <bob@remote.test>');
}

async function smtpSend(port: number, subject: string): Promise<string> {
  const t = await connect(port, { timeoutMs: 30_000 });
  try {
    await t.readUntil(/^220 .*\r\n/m);
    t.send(`EHLO client.test${CRLF}`);
    await t.readUntil(/^250 .*\r\n/m);
    t.send(`MAIL FROM:<bob@remote.test>${CRLF}`);
    assert.match(await t.readLine(), /^250 /);
    t.send(`RCPT TO:<${USER}>${CRLF}`);
    const rcpt = await t.readLine();
    if (!rcpt.startsWith('250')) return rcpt;
    t.send(`DATA${CRLF}`);
    assert.match(await t.readLine(), /^354 /);
    t.send(`${remoteMessage(subject).replace(/\r?\n/g, CRLF)}${CRLF}.${CRLF}`);
    return await t.readLine();
  } finally {
    t.close();
  }
}

describe('PostgreSQL restart under a running server (private cluster)', { skip, timeout: 300_000 }, () => {
  let cluster: PrivateCluster;
  let server: RunningTestServer;
  const acknowledged: string[] = [];

  before(async () => {
    assert.ok(PG_BIN, 'MAILROOM_TEST_PG_REQUIRED=1 but no PostgreSQL binaries under /usr/lib/postgresql');
    cluster = new PrivateCluster();
    await cluster.init();
    cluster.start();
    server = await startServer({ env: { MAILROOM_DATABASE_URL: cluster.url }, timeoutMs: 60_000 });
    const r = await runCli(['user', 'add', USER, '--password', PASS], { dataDir: server.dataDir, env: { MAILROOM_DATABASE_URL: cluster.url }, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await server?.stop();
    cluster?.destroy();
  });

  it('acknowledged before, temporary failures during, normal service and nothing lost after', async () => {
    // Before: messages acknowledged over SMTP (250) and IMAP APPEND (OK).
    for (let i = 0; i < 3; i++) {
      assert.match(await smtpSend(server.ports.smtp!, `before-smtp-${i}`), /^250 /);
      acknowledged.push(`before-smtp-${i}`);
    }
    const held = await imapLogin(server.ports.imap!);
    const raw = message('before-append');
    held.send(`b APPEND INBOX {${Buffer.byteLength(raw)}+}${CRLF}${raw}${CRLF}`);
    assert.match(await held.readUntil(/^b .*\r\n/m), /^b OK/m);
    acknowledged.push('before-append');
    held.send(`c SELECT INBOX${CRLF}`);
    assert.match(await held.readUntil(/^c .*\r\n/m), /^c OK/m);

    // An SMTP transaction whose recipient was accepted before the outage, to reach DATA during it.
    const pending = await connect(server.ports.smtp!, { timeoutMs: 30_000 });
    await pending.readUntil(/^220 .*\r\n/m);
    pending.send(`EHLO client.test${CRLF}`);
    await pending.readUntil(/^250 .*\r\n/m);
    pending.send(`MAIL FROM:<bob@remote.test>${CRLF}RCPT TO:<${USER}>${CRLF}`);
    assert.match(await pending.readLine(), /^250 /);
    assert.match(await pending.readLine(), /^250 /);

    cluster.stop();

    // IMAP: a session that was logged in before, and a fresh login.
    held.send(`d STATUS INBOX (MESSAGES)${CRLF}`);
    assert.match(await held.readUntil(/^d .*\r\n/m), /^d NO \[UNAVAILABLE\]/m);
    held.send(`e NOOP${CRLF}`);
    const noop = await held.readUntil(/^e .*\r\n/m);
    assert.doesNotMatch(noop, /SERVERBUG|BYE/, noop);
    const fresh = await connect(server.ports.imap!, { timeoutMs: 30_000 });
    await fresh.readLine();
    fresh.send(`a LOGIN ${USER} ${PASS}${CRLF}`);
    assert.match(await fresh.readUntil(/^a .*\r\n/m), /^a NO \[UNAVAILABLE\]/m);
    fresh.close();

    // POP3: login during the outage.
    const pop = await connect(server.ports.pop3!, { timeoutMs: 30_000 });
    assert.match(await pop.readLine(), /^\+OK/);
    pop.send(`USER ${USER}${CRLF}`);
    assert.match(await pop.readLine(), /^\+OK/);
    pop.send(`PASS ${PASS}${CRLF}`);
    assert.match(await pop.readLine(), /^-ERR \[SYS\/TEMP\]/);
    pop.close();

    // SMTP: the recipient cannot be looked up → a temporary failure, never 5xx.
    assert.match(await smtpSend(server.ports.smtp!, 'during-rcpt'), /^451 4\.3\.0 /);
    // DATA cannot be stored → 451 for the message (not acknowledged, so it must not appear later).
    pending.send(`DATA${CRLF}`);
    assert.match(await pending.readLine(), /^354 /);
    pending.send(`${remoteMessage('during-data').replace(/\r?\n/g, CRLF)}${CRLF}.${CRLF}`);
    assert.match(await pending.readLine(), /^451 4\.3\.0 /);
    pending.send(`QUIT${CRLF}`);
    assert.match(await pending.readLine(), /^221 /);
    pending.close();

    cluster.start();

    // The same process recovers on its own (its pool reconnects): poll until a login works.
    const deadline = Date.now() + 60_000;
    let after: Transcript | undefined;
    while (!after) {
      try {
        after = await imapLogin(server.ports.imap!);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    // The session held across the outage works again too.
    held.send(`f STATUS INBOX (MESSAGES)${CRLF}`);
    assert.match(await held.readUntil(/^f .*\r\n/m), new RegExp(`^\\* STATUS "?INBOX"? \\(MESSAGES ${acknowledged.length}\\)`, 'm'));
    held.close();

    assert.match(await smtpSend(server.ports.smtp!, 'after-smtp'), /^250 /);
    acknowledged.push('after-smtp');

    after.send(`g SELECT INBOX${CRLF}`);
    assert.match(await after.readUntil(/^g .*\r\n/m), new RegExp(`^\\* ${acknowledged.length} EXISTS`, 'm'));
    after.send(`h FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])${CRLF}`);
    const subjects = [...(await after.readUntil(/^h .*\r\n/m)).matchAll(/Subject: (\S+)/g)].map((m) => m[1]).sort();
    assert.deepEqual(subjects, [...acknowledged].sort(), 'every acknowledged message, each once');
    after.close();

    const pop2 = await connect(server.ports.pop3!, { timeoutMs: 30_000 });
    await pop2.readLine();
    pop2.send(`USER ${USER}${CRLF}PASS ${PASS}${CRLF}STAT${CRLF}QUIT${CRLF}`);
    await pop2.readLine();
    assert.match(await pop2.readLine(), /^\+OK/);
    assert.match(await pop2.readLine(), new RegExp(`^\\+OK ${acknowledged.length} \\d+`));
    pop2.close();

    assert.ok(server.stdout.every((l) => l.msg !== 'internal error in IMAP command'), 'no SERVERBUG path taken');
    assert.ok(cluster.log().includes('database system is ready'), 'the private cluster really restarted');
  });
});
