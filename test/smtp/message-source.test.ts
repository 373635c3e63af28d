// One MessageSource per message (src/mail/message-source.ts), in a server running in this
// process: the spool is removed exactly once, after success, a refused message, a client
// that leaves mid-DATA and the quota retry; and a 50 MB submission to three local users
// plus the Sent copy grows the JS heap far less than 50 MB (its bytes stay in the spool
// file and in external buffers, never whole in the heap).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { startMailroom, type RunningServer } from '../../src/server.js';
import { LocalChangeBus } from '../../src/store/bus.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import { createUser } from '../../src/mail/accounts.js';

const PLAIN = Buffer.from('\0alice@example.test\0secret').toString('base64');
const MB = 1024 * 1024;

/** A raw SMTP client: each reply's last line. */
class Client {
  private buf = '';
  private waiters: ((line: string) => void)[] = [];
  private lines: string[] = [];
  readonly sock: net.Socket;
  constructor(port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.setEncoding('latin1').on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        if (line[3] !== ' ') continue;
        const w = this.waiters.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
  }
  reply(): Promise<string> {
    const l = this.lines.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((r) => this.waiters.push(r));
  }
  async cmd(line: string): Promise<string> {
    this.sock.write(line + '\r\n');
    return this.reply();
  }
  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => this.sock.write(data, (err) => (err ? reject(err) : resolve())));
  }
}

/** Text lines (never starting with a dot) adding up to about `size` bytes. */
function message(subject: string, size: number): Buffer {
  // From someone outside (the MX refuses a local From it cannot authenticate); alice may send as it (send.as)
  const head = `From: someone@remote.test\r\nTo: bob@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@client.test>\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmnopqrstu\r\n';
  return Buffer.from(head + line.repeat(Math.ceil(size / line.length)));
}

describe('SMTP: one message source per message', () => {
  let dir: string;
  let server: RunningServer;
  let store: Store;
  let spoolDir: string;
  const port = (name: 'smtp' | 'submission') => server.addresses[name]!.port;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-source-'));
    const data = join(dir, 'data');
    const setup = await openStore({ dataDir: data, bus: new LocalChangeBus() });
    for (const u of ['alice', 'bob', 'carol']) await createUser(setup, `${u}@example.test`, 'secret');
    await setup.setUserSetting((await setup.getUser('alice@example.test'))!.id, 'send.as', 'someone@remote.test');
    await setup.close();
    writeFileSync(join(dir, 'dns.json'), '{}');
    const env: Record<string, string> = { MAILROOM_DATA: data, MAILROOM_HOSTNAME: 'mx.example.test', MAILROOM_SMTP_DNS_FILE: join(dir, 'dns.json'), MAILROOM_SMTP: '127.0.0.1:0', MAILROOM_SUBMISSION: '127.0.0.1:0', MAILROOM_SMTP_MAX_MESSAGE_SIZE: String(60 * MB) };
    for (const off of ['IMAP', 'IMAPS', 'POP3', 'POP3S', 'SUBMISSIONS', 'LMTP', 'HTTP']) env[`MAILROOM_${off}`] = 'off';
    const config = loadConfig({ env, cwd: dir });
    server = await startMailroom(config, pino({ level: 'silent' }));
    store = await openStore({ dataDir: data, bus: new LocalChangeBus() });
    spoolDir = join(data, 'tmp');
  });
  after(async () => {
    await store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const spools = () => {
    try {
      return readdirSync(spoolDir).filter((n) => n.endsWith('.eml'));
    } catch {
      return [];
    }
  };
  /** The spool is removed right after the reply is written; give the server its turn to get there. */
  async function noSpoolLeft(what: string): Promise<void> {
    for (let i = 0; i < 200 && spools().length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(spools(), [], `${what}: no spool file left`);
  }
  const count = async (address: string, subject: string, mailbox = 'INBOX') => {
    const user = (await store.getUser(address))!;
    const box = (await store.getMailbox(user.id, mailbox))!;
    let n = 0;
    for (const row of await store.listMessages(box.id, user.id)) if ((await store.getContent(row.contentId))?.index.envelope.subject === subject) n++;
    return n;
  };

  async function mx(rcpts: string[], body: Buffer): Promise<{ c: Client; final: string }> {
    const c = new Client(port('smtp'));
    await c.reply();
    await c.cmd('EHLO client.test');
    await c.cmd('MAIL FROM:<someone@remote.test>');
    for (const r of rcpts) assert.match(await c.cmd(`RCPT TO:<${r}>`), /^250 /);
    assert.match(await c.cmd('DATA'), /^354 /);
    await c.write(body);
    await c.write('.\r\n');
    return { c, final: await c.reply() };
  }

  it('success: a 1 MB message (a spool file) is stored and its spool removed', async () => {
    const { c, final } = await mx(['bob@example.test'], message('one spool', MB));
    assert.match(final, /^250 2\.0\.0 /);
    c.sock.end();
    assert.equal(await count('bob@example.test', 'one spool'), 1);
    await noSpoolLeft('success');
  });

  it('failure: a message past the size limit gets 552 and leaves no spool', async () => {
    const c = new Client(port('smtp'));
    await c.reply();
    await c.cmd('EHLO client.test');
    await c.cmd('MAIL FROM:<someone@remote.test>');
    await c.cmd('RCPT TO:<bob@example.test>');
    await c.cmd('DATA');
    await c.write(message('too big', 61 * MB));
    await c.write('.\r\n');
    assert.match(await c.reply(), /^552 5\.3\.4 /);
    c.sock.end();
    await noSpoolLeft('refused');
  });

  it('a client that leaves mid-DATA leaves no spool and nothing stored', async () => {
    const c = new Client(port('smtp'));
    await c.reply();
    await c.cmd('EHLO client.test');
    await c.cmd('MAIL FROM:<someone@remote.test>');
    await c.cmd('RCPT TO:<bob@example.test>');
    await c.cmd('DATA');
    await c.write(message('left midway', 2 * MB)); // past the memory limit: a spool file exists now
    c.sock.destroy();
    await noSpoolLeft('client gone');
    assert.equal(await count('bob@example.test', 'left midway'), 0);
  });

  it('quota retry: the copy refused for quota after RCPT is stored past it, from the same spool, which is removed once', async () => {
    const bob = (await store.getUser('bob@example.test'))!;
    const usage = await store.getQuota(bob.id);
    await store.setQuota(bob.id, { bytes: usage.usedBytes + 1000, messages: null }); // RCPT (no SIZE) passes, the append does not
    try {
      const { c, final } = await mx(['alice@example.test', 'bob@example.test'], message('quota race', MB));
      assert.match(final, /^250 2\.0\.0 /);
      c.sock.end();
      assert.equal(await count('alice@example.test', 'quota race'), 1);
      assert.equal(await count('bob@example.test', 'quota race'), 1, 'absorbed past the quota');
      await noSpoolLeft('quota retry');
    } finally {
      await store.setQuota(bob.id, { bytes: null, messages: null });
    }
  });

  it('50 MB submitted to three local users plus the Sent copy: the JS heap grows far less than 50 MB', { timeout: 300_000 }, async (t) => {
    const body = message('fifty', 50 * MB);
    const c = new Client(port('submission'));
    await c.reply();
    await c.cmd('EHLO client.test');
    assert.match(await c.cmd(`AUTH PLAIN ${PLAIN}`), /^235 /);
    await c.cmd('MAIL FROM:<alice@example.test>');
    for (const r of ['alice', 'bob', 'carol']) assert.match(await c.cmd(`RCPT TO:<${r}@example.test>`), /^250 /);
    assert.match(await c.cmd('DATA'), /^354 /);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = heapBefore;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
    try {
      for (let i = 0; i < body.length; i += MB) await c.write(body.subarray(i, i + MB));
      await c.write('.\r\n');
      assert.match(await c.reply(), /^250 2\.0\.0 /);
    } finally {
      clearInterval(timer);
    }
    c.sock.end();
    for (const u of ['alice', 'bob', 'carol']) assert.equal(await count(`${u}@example.test`, 'fifty'), 1, u);
    assert.equal(await count('alice@example.test', 'fifty', 'Sent'), 1, 'Sent copy');
    t.diagnostic(`JS heap grew by ${((peak - heapBefore) / MB).toFixed(1)} MB at the peak`);
    assert.ok(peak - heapBefore < 25 * MB, `heap grew by ${Math.round((peak - heapBefore) / MB)} MB`);
    await noSpoolLeft('50 MB');
  });
});
