/**
 * POP3 with third-party clients (python3 poplib, curl, fetchmail) and the mixed
 * IMAP + POP3 semantics seen from an IMAP client (imapflow) on the same account.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { startServer, type RunningTestServer } from '../harness/server.js';
import { connect } from '../harness/transcript.js';
import { cli, deliver, Pop3Client } from './helpers.js';

const run = promisify(execFile);
const MSG = (n: number) => `Subject: message ${n}\r\nMessage-ID: <${n}.${Date.now()}@example.test>\r\n\r\nbody ${n}\r\n.dot line\r\n`;

describe('POP3 with third-party clients', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startServer();
    for (const u of ['py', 'curl', 'fm']) await cli(server, ['user', 'add', `${u}@example.test`, '--password', 'secret']);
    for (let i = 1; i <= 3; i++) await deliver(server, 'py@example.test', MSG(i));
    for (let i = 1; i <= 2; i++) await deliver(server, 'curl@example.test', MSG(i));
    for (let i = 1; i <= 3; i++) await deliver(server, 'fm@example.test', MSG(i));
  });
  after(() => server.stop());

  it('python3 poplib: plain + stls, and POP3_SSL', async () => {
    const script = `
import poplib, ssl, sys, json
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
out = {}
p = poplib.POP3('127.0.0.1', ${server.ports.pop3})
out['capa'] = sorted(p.capa().keys())
p.stls(context=ctx)
p.user('py@example.test'); p.pass_('secret')
out['stat'] = p.stat()
out['uidl'] = [l.decode() for l in p.uidl()[1]]
resp, lines, octets = p.retr(1)
out['retr'] = [l.decode() for l in lines]; out['octets'] = octets
out['list'] = [l.decode() for l in p.list()[1]]
out['top'] = [l.decode() for l in p.top(2, 0)[1]]
p.dele(3); p.quit()
s = poplib.POP3_SSL('127.0.0.1', ${server.ports.pop3s}, context=ctx)
s.user('py@example.test'); s.pass_('secret')
out['after'] = s.stat(); out['uidl2'] = [l.decode() for l in s.uidl()[1]]
s.quit()
print(json.dumps(out))
`;
    const { stdout } = await run('python3', ['-c', script], { timeout: 60_000 });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    assert.ok((out.capa as string[]).includes('STLS') && (out.capa as string[]).includes('UIDL'));
    assert.equal((out.stat as number[])[0], 3);
    assert.deepEqual((out.retr as string[]).slice(-2), ['body 1', '.dot line'], 'poplib undoes the byte-stuffing');
    const sizes = (out.list as string[]).map((l) => Number(l.split(' ')[1]));
    assert.equal(sizes[0], MSG(1).length);
    assert.deepEqual(out.top, ['Subject: message 2', (out.top as string[])[1], '']);
    assert.deepEqual((out.after as number[])[0], 2);
    assert.deepEqual(out.uidl2, (out.uidl as string[]).slice(0, 2), 'UIDLs are stable across sessions and TLS modes');
  });

  it('curl pop3://: list, retr, -X UIDL', async () => {
    const base = `pop3://127.0.0.1:${server.ports.pop3}`;
    const auth = ['-s', '--user', 'curl@example.test:secret'];
    const list = (await run('curl', [...auth, `${base}/`])).stdout;
    assert.deepEqual(list.trim().split(/\r?\n/), [`1 ${MSG(1).length}`, `2 ${MSG(2).length}`]);
    const retr = (await run('curl', [...auth, `${base}/2`])).stdout;
    assert.match(retr, /^Subject: message 2\r\n/);
    assert.ok(retr.endsWith('body 2\r\n.dot line\r\n'), JSON.stringify(retr));
    const uidl = (await run('curl', [...auth, '-X', 'UIDL', `${base}/`])).stdout;
    assert.equal(uidl.trim().split(/\r?\n/).length, 2);
    assert.match(uidl, /^1 \S+\r?\n2 \S+/);
  });

  it('fetchmail --keep: all, then zero, then exactly the one new message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetchmail-'));
    const mda = join(dir, 'mda.sh');
    writeFileSync(mda, `#!/bin/sh\ncat > "${dir}/out/$(date +%s%N).eml"\n`);
    chmodSync(mda, 0o755);
    await run('mkdir', ['-p', join(dir, 'out')]);
    const rc = join(dir, 'fetchmailrc');
    writeFileSync(rc, `poll 127.0.0.1 protocol pop3 port ${server.ports.pop3} uidl user "fm@example.test" password "secret" keep sslproto '' mda "${mda}"\n`);
    chmodSync(rc, 0o600);
    const fetch = async () => {
      const r = await run('fetchmail', ['-f', rc, '-i', join(dir, 'idfile'), '--nosyslog', '-v'], { env: { ...process.env, HOME: dir }, timeout: 60_000 }).catch((e: { code: number; stdout: string; stderr: string }) => e);
      // fetchmail exits 1 when there was no mail: that is a valid outcome here.
      assert.ok([0, 1].includes(r && 'code' in r && typeof r.code === 'number' ? r.code : 0), JSON.stringify(r));
      return readdirSync(join(dir, 'out')).length;
    };
    assert.equal(await fetch(), 3, 'first run fetches all');
    assert.equal(await fetch(), 3, 'second run fetches nothing new');
    await deliver(server, 'fm@example.test', MSG(4));
    assert.equal(await fetch(), 4, 'third run fetches exactly the new one');
  });
});

/** Resolves with `p`, or rejects after `ms` saying what did not happen (a hang becomes a clear failure). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The next event `name` from an imapflow client. */
function nextEvent<T>(client: ImapFlow, name: string): Promise<T> {
  return new Promise<T>((resolve) => (client as unknown as NodeJS.EventEmitter).once(name, resolve));
}

/** Sequence number → flags of every message in the open mailbox. */
async function flagsBySeq(client: ImapFlow): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for await (const m of client.fetch('1:*', { flags: true })) out.set(m.seq, [...(m.flags ?? [])].sort());
  return out;
}

// "At once" for IMAP means a push through the change bus, milliseconds on an idle machine;
// the bound is generous because the test machine is shared, and only turns a hang into a failure.
const PUSH_MS = 10_000;

describe('IMAP and POP3 on one account', () => {
  let server: RunningTestServer;
  const imap = (user: string) => new ImapFlow({ host: '127.0.0.1', port: server.ports.imap!, secure: false, auth: { user, pass: 'secret' }, logger: false, tls: { rejectUnauthorized: false } });
  before(async () => {
    // A fake DNS file keeps the MX path (SPF/DKIM/DMARC checks) off the network.
    const dns = join(mkdtempSync(join(tmpdir(), 'pop3-dns-')), 'dns.json');
    writeFileSync(dns, JSON.stringify({ 'remote.test': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] } }));
    server = await startServer({ env: { MAILROOM_SMTP_DNS_FILE: dns, MAILROOM_HOSTNAME: 'mx.example.test' } });
    for (const u of ['x', 'h', 'k', 'd', 's', 'n']) await cli(server, ['user', 'add', `${u}@example.test`, '--password', 'secret']);
    for (const u of ['x', 'h', 'k', 's', 'n']) for (let i = 1; i <= 2; i++) await deliver(server, `${u}@example.test`, MSG(i));
    await deliver(server, 'd@example.test', MSG(1));
    await cli(server, ['user', 'set', 'h@example.test', 'pop3.deleteMode=hide']);
    await cli(server, ['user', 'set', 'n@example.test', 'pop3.markSeen=false']);
  });
  after(() => server.stop());

  it('POP3 DELE + QUIT reaches an IMAP client in IDLE as EXPUNGE', async () => {
    const client = imap('x@example.test');
    await client.connect();
    await client.mailboxOpen('INBOX');
    const expunged = new Promise<number>((resolve) => (client as unknown as NodeJS.EventEmitter).on('expunge', (e: { seq: number }) => resolve(e.seq)));
    const idling = client.idle();
    const p = await Pop3Client.open(server.ports.pop3!);
    await p.login('x@example.test');
    await p.cmd('DELE 1');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(client.mailbox && typeof client.mailbox === 'object' ? client.mailbox.exists : -1, 2, 'nothing changes before QUIT');
    const quitAt = performance.now();
    assert.match(await p.cmd('QUIT'), /^\+OK/);
    assert.equal(await within(expunged, PUSH_MS, 'EXPUNGE in IDLE after POP3 QUIT'), 1);
    const ms = performance.now() - quitAt;
    void idling;
    assert.equal(client.mailbox && typeof client.mailbox === 'object' ? client.mailbox.exists : -1, 1);
    const left = await client.fetchOne('1', { envelope: true });
    assert.equal(left && left.envelope?.subject, 'message 2', 'the other message stays');
    await client.logout();
    assert.ok(ms < PUSH_MS, `EXPUNGE after ${Math.round(ms)} ms`);
  });

  it('deleteMode=hide: POP3 no longer sees it, IMAP keeps it', async () => {
    const p = await Pop3Client.open(server.ports.pop3!);
    await p.login('h@example.test');
    await p.cmd('DELE 1');
    await p.cmd('QUIT');
    const q = await Pop3Client.open(server.ports.pop3!);
    assert.match(await q.login('h@example.test'), /has 1 message/);
    await q.cmd('QUIT');
    const client = imap('h@example.test');
    await client.connect();
    const box = await client.mailboxOpen('INBOX');
    assert.equal(box.exists, 2);
    const flags = await flagsBySeq(client);
    assert.ok(flags.get(1)!.includes('$POP3Deleted'), `hidden from POP3 by a keyword IMAP can see: ${JSON.stringify([...flags])}`);
    assert.ok(!flags.get(2)!.includes('$POP3Deleted'));
    await client.logout();
  });

  it('an IMAP keyword does not change the UIDL; MOVE out of INBOX and back keeps it', async () => {
    const uidls = async () => {
      const p = await Pop3Client.open(server.ports.pop3!);
      await p.login('k@example.test');
      const lines = (await p.multi('UIDL')).lines.map((l) => l.split(' ')[1]);
      await p.cmd('QUIT');
      return lines;
    };
    const before = await uidls();
    const client = imap('k@example.test');
    await client.connect();
    await client.mailboxOpen('INBOX');
    await client.messageFlagsAdd('1:*', ['$Important', '\\Flagged']);
    assert.deepEqual(await uidls(), before, 'flags do not change UIDLs');
    await client.mailboxCreate('Elsewhere').catch(() => undefined);
    await client.messageMove('1', 'Elsewhere');
    assert.deepEqual(await uidls(), before.slice(1));
    await client.mailboxOpen('Elsewhere');
    await client.messageMove('1:*', 'INBOX');
    assert.deepEqual((await uidls()).sort(), [...before].sort(), 'back in INBOX with the same UIDL');
    await client.logout();
  });

  /** Holds a POP3 session open on d@ while `send` delivers; IMAP must see EXISTS at once, POP3 only at the next login. */
  async function deliveredWhileBothWatch(send: () => Promise<unknown>, subject: string): Promise<void> {
    const client = imap('d@example.test');
    await client.connect();
    const before = (await client.mailboxOpen('INBOX')).exists;
    const p = await Pop3Client.open(server.ports.pop3!);
    assert.match(await p.login('d@example.test'), new RegExp(`has ${before} message`));
    const exists = nextEvent<{ count: number }>(client, 'exists');
    const idling = client.idle();
    await send();
    assert.equal((await within(exists, PUSH_MS, `EXISTS in IDLE after ${subject}`)).count, before + 1);
    void idling;
    assert.match(await p.cmd('STAT'), new RegExp(`^\\+OK ${before} `), 'the POP3 session keeps its login snapshot');
    assert.match(await p.cmd('QUIT'), /^\+OK/);
    const q = await Pop3Client.open(server.ports.pop3!);
    assert.match(await q.login('d@example.test'), new RegExp(`has ${before + 1} messages`));
    assert.ok((await q.multi(`TOP ${before + 1} 0`)).lines.includes(`Subject: ${subject}`));
    assert.match(await q.cmd('QUIT'), /^\+OK/);
    await client.logout();
  }

  it('mail delivered by `mailroom deliver` reaches IMAP at once and POP3 at the next login', async () => {
    await deliveredWhileBothWatch(() => deliver(server, 'd@example.test', MSG(20)), 'message 20');
  });

  it('mail delivered by SMTP (python3 smtplib) reaches IMAP at once and POP3 at the next login', async (t) => {
    const probe = await connect(server.ports.smtp!, { timeoutMs: 20_000 });
    const greeting = await probe.readLine();
    probe.close();
    if (!greeting.startsWith('220 ')) return t.skip(`the SMTP listener does not serve mail in this build: ${greeting.trim()}`);
    const smtp = `import smtplib\ns=smtplib.SMTP('127.0.0.1', ${server.ports.smtp})\ns.sendmail('a@remote.test', ['d@example.test'], b'From: a@remote.test\\r\\nSubject: by smtp\\r\\n\\r\\nhi\\r\\n')\ns.quit()`;
    await deliveredWhileBothWatch(() => run('python3', ['-c', smtp], { timeout: 60_000 }), 'by smtp');
  });

  it('pop3.markSeen: RETR sets \\Seen for IMAP at once (TOP does not); markSeen=false leaves it unread', async () => {
    for (const [u, expectSeen] of [['s', true], ['n', false]] as const) {
      const p = await Pop3Client.open(server.ports.pop3!);
      await p.login(`${u}@example.test`);
      assert.equal((await p.multi('RETR 1')).status.slice(0, 3), '+OK');
      assert.equal((await p.multi('TOP 2 1')).status.slice(0, 3), '+OK');
      const client = imap(`${u}@example.test`);
      await client.connect();
      await client.mailboxOpen('INBOX');
      const flags = await flagsBySeq(client); // the POP3 session is still open: no QUIT needed
      assert.equal(flags.get(1)!.includes('\\Seen'), expectSeen, `${u}: RETR ${JSON.stringify([...flags])}`);
      assert.ok(!flags.get(2)!.includes('\\Seen'), `${u}: TOP never marks read`);
      await client.logout();
      assert.match(await p.cmd('QUIT'), /^\+OK/);
    }
  });

  // Last on this server: it leaves 127.0.0.1 with failures that slow every later login.
  it('failed POP3 logins slow down IMAP logins from the same address (one shared throttle)', async () => {
    const imapLogin = async (pass: string): Promise<{ line: string; ms: number }> => {
      const t = await connect(server.ports.imap!, { timeoutMs: 60_000 });
      await t.readLine();
      const t0 = performance.now();
      t.send(`a1 LOGIN "x@example.test" "${pass}"\r\n`);
      const line = await t.readUntil(/^a1 .*\r\n/m);
      const ms = performance.now() - t0;
      t.close();
      return { line: line.split('\r\n').find((l) => l.startsWith('a1 '))!, ms };
    };
    const p = await Pop3Client.open(server.ports.pop3!);
    for (let i = 0; i < 6; i++) assert.match(await p.login('x@example.test', `wrong-${i}`), /^-ERR \[AUTH\] /);
    await p.cmd('QUIT');
    // Six failures from this address: the next attempt, by any protocol, waits 250 ms * 2^3 first
    // (src/auth/throttle.ts). A lower bound only: a loaded machine can make it slower, never faster.
    const bad = await imapLogin('still-wrong');
    assert.match(bad.line, /^a1 NO /);
    assert.ok(bad.ms >= 1900, `IMAP LOGIN after 6 POP3 failures answered in ${Math.round(bad.ms)} ms`);
  });
});
