// APPEND re-sent after a lost OK (issue 9): the same message (same user, mailbox,
// Message-ID and bytes) APPENDed again within the re-send window is not stored twice;
// other bytes under the same Message-ID, an expunged first copy, or a client gone before
// the store each behave as a user expects. Raw transcripts over a real socket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { RunningTestServer } from '../harness/server.js';
import { Imap, PASS, startImapServer, USER } from './client.js';

function msg(id: string, body: string): string {
  return `From: Bob <bob@example.test>\r\nTo: ${USER}\r\nSubject: resend ${id}\r\nMessage-ID: <${id}@example.test>\r\n\r\n${body}\r\n`;
}

async function append(c: Imap, box: string, raw: string): Promise<string> {
  return c.ok(`APPEND ${box} {${Buffer.byteLength(raw)}+}\r\n${raw}`);
}

function uidOf(reply: string): number {
  const m = /\[APPENDUID \d+ (\d+)\]/.exec(reply);
  assert.ok(m, `no APPENDUID in ${reply}`);
  return Number(m[1]);
}

async function count(c: Imap, box: string): Promise<number> {
  const text = await c.ok(`STATUS ${box} (MESSAGES)`);
  return Number(/MESSAGES (\d+)/.exec(text)![1]);
}

describe('APPEND re-sent after a lost OK', () => {
  let server: RunningTestServer;
  let c: Imap;
  before(async () => {
    server = await startImapServer();
    c = await Imap.open(server.ports.imap!);
    for (const box of ['Same', 'Edited', 'Expunged', 'Gone']) await c.ok(`CREATE ${box}`);
  });
  after(async () => {
    c.close();
    await server.stop();
  });

  test('the same message again gets the first UID and no second copy', async () => {
    const raw = msg('same', 'one body');
    const first = uidOf(await append(c, 'Same', raw));
    const again = await append(c, 'Same', raw);
    assert.match(again, /OK \[APPENDUID \d+ \d+\] APPEND completed \(already saved\)/);
    assert.equal(uidOf(again), first);
    assert.equal(await count(c, 'Same'), 1);
  });

  test('other bytes under the same Message-ID are a new message (a re-saved draft)', async () => {
    const a = uidOf(await append(c, 'Edited', msg('draft', 'first version')));
    const b = uidOf(await append(c, 'Edited', msg('draft', 'second version')));
    assert.ok(b > a);
    assert.equal(await count(c, 'Edited'), 2);
  });

  test('once the first copy is expunged, the same message is stored again', async () => {
    const raw = msg('expunged', 'body');
    const first = uidOf(await append(c, 'Expunged', raw));
    await c.ok('SELECT Expunged');
    await c.ok(`UID STORE ${first} +FLAGS.SILENT (\\Deleted)`);
    await c.ok('EXPUNGE');
    await c.ok('UNSELECT');
    const second = uidOf(await append(c, 'Expunged', raw));
    assert.ok(second > first);
    assert.equal(await count(c, 'Expunged'), 1);
  });

  test('a client that leaves right after sending, then APPENDs again, ends with exactly one copy', async () => {
    const raw = msg('gone', 'x'.repeat(200_000));
    const s = net.connect(server.ports.imap!, '127.0.0.1');
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
    let seen = '';
    s.on('data', (d: Buffer) => (seen += d.toString('latin1')));
    s.on('error', () => {});
    s.write(`a LOGIN ${USER} ${PASS}\r\n`);
    while (!/a OK/.test(seen)) await new Promise((r) => setTimeout(r, 10));
    s.end(`b APPEND Gone {${Buffer.byteLength(raw)}+}\r\n${raw}\r\n`); // the whole command, then gone before any answer
    // Stored (its OK then has nobody to reach) or dropped: the server says which once it is done with it.
    // (Polling for one copy instead would race with a first APPEND still being stored.)
    await server.waitForLog((l) => /APPEND not stored: the client left|stored by APPEND, but the client left|command not run: the client left/.test(String(l.msg)), 30_000);
    uidOf(await append(c, 'Gone', raw));
    assert.equal(await count(c, 'Gone'), 1);
  });
});
