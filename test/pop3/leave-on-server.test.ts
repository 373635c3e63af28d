/**
 * A 100-message leave-on-server mailbox, read whole: python3 poplib (UIDL, RETR of
 * every message, QUIT, twice: the UIDLs stay) and a raw client that sends every RETR
 * in one write (RFC 2449 6.6 PIPELINING). Every byte is compared with what RFC 1939 3
 * says must be sent, computed here independently of the server's encoder: lines in
 * CRLF form, a leading "." doubled, a CRLF added when the message does not end in
 * one, then "." CRLF.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createUser } from '../../src/mail/accounts.js';
import { deliver } from '../../src/mail/delivery.js';
import { MessageSource } from '../../src/mail/message-source.js';
import { LocalChangeBus } from '../../src/store/bus.js';
import { openStore } from '../../src/store/open.js';
import { startServer, tempDirs, type RunningTestServer } from '../harness/server.js';
import { connect } from '../harness/transcript.js';

const run = promisify(execFile);
const USER = 'keep@example.test';
const COUNT = 100;

/** Message n: sizes from ~100 bytes to ~60 KB, with the shapes that need care on the wire. */
function message(n: number): Buffer {
  const nl = n % 10 === 3 ? '\n' : '\r\n'; // some stored with bare LF
  const head = [`From: sender${n}@example.test`, `To: ${USER}`, `Subject: message ${n} \u00e9t\u00e9`, `Message-ID: <${n}.keep@example.test>`, ''];
  const lines: string[] = [];
  const size = 100 + ((n * 7919) % 60_000);
  for (let i = 0; lines.join(nl).length < size; i++) {
    if (i % 17 === 0) lines.push('.a line that starts with a dot');
    else if (i % 23 === 0) lines.push('.'); // would end the answer if not stuffed
    else if (i % 29 === 0) lines.push('..two dots');
    else if (i % 31 === 0) lines.push('');
    else lines.push(`line ${i} of message ${n}: caf\u00e9 \u20ac ${'x'.repeat(i % 70)}`);
  }
  let text = [...head, ...lines].join(nl);
  if (n % 11 !== 5) text += nl; // some end without a newline
  return Buffer.from(text, 'utf8');
}

/** The message in CRLF form (what LIST and "+OK n octets" count). */
function crlfForm(raw: Buffer): string {
  return raw.toString('latin1').replace(/(?<!\r)\n/g, '\r\n');
}

/** The lines a client sees after undoing the stuffing (poplib's answer). */
function linesOf(raw: Buffer): string[] {
  const text = crlfForm(raw);
  const lines = text.split('\r\n');
  if (text.endsWith('\r\n')) lines.pop();
  return lines;
}

/** The exact bytes of a RETR answer body, terminator included (RFC 1939 3). */
function wireForm(raw: Buffer): string {
  return linesOf(raw).map((l) => (l.startsWith('.') ? '.' + l : l) + '\r\n').join('') + '.\r\n';
}

describe('POP3 leave-on-server: 100 messages, every byte', () => {
  let server: RunningTestServer;
  const messages = Array.from({ length: COUNT }, (_, i) => message(i + 1));

  before(async () => {
    // Filled through the store before the server starts: 100 `mailroom deliver` runs would take minutes here.
    const { dataDir } = tempDirs();
    const store = await openStore({ dataDir, bus: new LocalChangeBus() });
    try {
      await createUser(store, USER, 'secret');
      const ctx = { store, ingest: { spoolDir: join(dataDir, 'tmp'), largePartThreshold: 64 * 1024 } };
      for (const raw of messages) {
        const [outcome] = await deliver(ctx, MessageSource.fromBuffer(raw), [USER]);
        assert.equal(outcome.status, 'delivered');
      }
    } finally {
      await store.close();
    }
    server = await startServer({ dataDir });
  });
  after(() => server.stop());

  it('python3 poplib: UIDL, RETR all, QUIT; again with the same UIDLs; every message exact', async () => {
    const script = `
import poplib, json, base64
out = []
for _ in range(2):
    p = poplib.POP3('127.0.0.1', ${server.ports.pop3})
    p.user('${USER}'); p.pass_('secret')
    uidl = [l.decode() for l in p.uidl()[1]]
    listing = [l.decode() for l in p.list()[1]]
    bodies = [base64.b64encode(b'\\r\\n'.join(p.retr(i)[1])).decode() for i in range(1, len(uidl) + 1)]
    out.append({'uidl': uidl, 'list': listing, 'bodies': bodies, 'quit': p.quit().decode()})
print(json.dumps(out))
`;
    const { stdout } = await run('python3', ['-c', script], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    const sessions = JSON.parse(stdout) as { uidl: string[]; list: string[]; bodies: string[]; quit: string }[];
    for (const s of sessions) {
      assert.equal(s.uidl.length, COUNT);
      assert.deepEqual(s.list, messages.map((m, i) => `${i + 1} ${crlfForm(m).length}`));
      s.bodies.forEach((b64, i) => assert.equal(Buffer.from(b64, 'base64').toString('latin1'), linesOf(messages[i]).join('\r\n'), `message ${i + 1}`));
      assert.equal(s.quit, '+OK Mailroom POP3 server signing off (0 messages removed)');
    }
    assert.deepEqual(sessions[1].uidl, sessions[0].uidl, 'leave-on-server: the same messages under the same UIDLs');
    assert.equal(new Set(sessions[0].uidl.map((l) => l.split(' ')[1])).size, COUNT);
  });

  it('a raw client sends every RETR in one write: answers in order, every byte exact', async () => {
    const t = await connect(server.ports.pop3!, { timeoutMs: 60_000 });
    assert.equal(await t.readLine(), '+OK Mailroom POP3 server ready\r\n');
    const retrs = messages.map((_, i) => `RETR ${i + 1}\r\n`).join('');
    t.send(`USER ${USER}\r\nPASS secret\r\n${retrs}QUIT\r\n`);
    const got = Buffer.from(await t.readToEnd(), 'utf8').toString('latin1');
    const total = messages.reduce((a, m) => a + crlfForm(m).length, 0);
    const expected =
      '+OK send PASS\r\n' +
      `+OK ${USER} has ${COUNT} messages (${total} octets)\r\n` +
      messages.map((m) => `+OK ${crlfForm(m).length} octets\r\n${wireForm(m)}`).join('') +
      '+OK Mailroom POP3 server signing off (0 messages removed)\r\n';
    assert.equal(got.length, expected.length);
    assert.ok(got === expected, 'the byte stream differs from RFC 1939 3');
  });
});
