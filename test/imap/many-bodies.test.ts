// Streaming at scale (issue 3): `UID FETCH 1:* BODY.PEEK[]` over 10,000 messages (~245 MB on
// the wire) read by a client that consumes at a capped rate, so the server's writes must wait
// for the socket to drain. Every literal must arrive complete with the exact bytes, and the
// server's RSS must stay near its idle baseline.
//
// Why this can fail: the client reads at READ_RATE (8 MB/s) while the server can produce
// several times faster (the 10 bodies stay in the page cache). A server that writes each
// response without awaiting `drain` queues the difference in its socket buffer: its RSS would
// grow by far more than MAX_GROWTH. Checked by hand on 2026-11-22: with the drain in fetch.ts
// the peak was +84 MB over baseline for 237 MB streamed; with the drain removed from a private
// copy of dist/, +250 MB and this test failed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { startServer, tempDirs, type RunningTestServer } from '../harness/server.js';
import { openStore } from '../../src/store/open.js';
import { LocalChangeBus } from '../../src/store/bus.js';
import { createUser } from '../../src/mail/accounts.js';
import { ingest } from '../../src/ingest.js';
import { PASS, USER } from './client.js';
import { MessageSource } from '../../src/mail/message-source.js';

const COUNT = 10_000;
const VARIANTS = 10;
const BODY_SIZE = 24 * 1024;
/** What the slow client consumes per second. */
const READ_RATE = 8 * 1024 * 1024;
/** Allowed RSS growth over the idle baseline; a non-streaming server would need ~the whole output. */
const MAX_GROWTH = 150 * 1024 * 1024;

/** Distinct ~24 KB messages, CRLF only (so the wire bytes are the stored bytes). */
function variant(i: number): Buffer {
  const head = `From: Bob <bob@example.test>\r\nTo: ${USER}\r\nSubject: bulk ${i}\r\nMessage-ID: <bulk-${i}@example.test>\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n`;
  const line = `${String(i).padStart(2, '0')} ${'abcdefghijklmnopqrstuvwxyz'.repeat(3)}\r\n`;
  return Buffer.from(head + line.repeat(Math.ceil(BODY_SIZE / line.length)));
}

/** Fills the user's INBOX in-process (dedup: only VARIANTS distinct contents are stored). */
async function fillInbox(dataDir: string, messages: Buffer[]): Promise<void> {
  const store = await openStore({ dataDir, bus: new LocalChangeBus() });
  try {
    const user = await createUser(store, USER, PASS);
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    const opts = { spoolDir: join(dataDir, 'tmp'), largePartThreshold: 1024 * 1024 };
    const keys: string[][] = [];
    for (let i = 0; i < COUNT; i++) {
      if (i < VARIANTS) {
        const got = await ingest(store, MessageSource.fromBuffer(messages[i]), opts);
        await store.appendMessage({ mailboxId: inbox.id, content: got.content, threadKeys: got.index.threadKeys, ignoreQuota: true });
        keys.push(got.index.threadKeys);
        continue;
      }
      // the content is stored: refer to it (ingest would hash and look it up again each time)
      const content = { id: sha(messages[i % VARIANTS]), existing: true as const };
      await store.appendMessage({ mailboxId: inbox.id, content, threadKeys: keys[i % VARIANTS], ignoreQuota: true });
    }
  } finally {
    await store.close();
  }
}

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmRSS not found');
  return Number(m[1]) * 1024;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Literal {
  seq: number;
  uid: number;
  size: number;
  hash: string;
}

/**
 * Reads `* n FETCH (UID u BODY[] {size}` + literal + `)` responses until `done` matches the
 * text after the last literal; consumes at most READ_RATE bytes per second (pausing the socket).
 */
function readFetch(socket: net.Socket, done: RegExp): Promise<{ literals: Literal[]; bytes: number; tail: string }> {
  const literals: Literal[] = [];
  let text = '';
  let current: { seq: number; uid: number; size: number; left: number; hash: ReturnType<typeof createHash> } | null = null;
  let bytes = 0;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed after ${literals.length} literals; text: ${text.slice(-300)}`)));
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      let data = chunk;
      while (data.length > 0) {
        if (current) {
          const take = Math.min(current.left, data.length);
          current.hash.update(data.subarray(0, take));
          current.left -= take;
          data = data.subarray(take);
          if (current.left === 0) {
            literals.push({ seq: current.seq, uid: current.uid, size: current.size, hash: current.hash.digest('hex') });
            current = null;
          }
          continue;
        }
        // text mode: the response lines between literals are short, so a string is fine
        const nl = data.indexOf('\n');
        const upto = nl < 0 ? data.length : nl + 1;
        text += data.subarray(0, upto).toString('latin1');
        data = data.subarray(upto);
        // RFC 9051 7.5.2 allows the data items in any order: UID may come before or after the literal.
        const after = / UID (\d+)\)\r\n$/.exec(text);
        if (after && literals.length > 0 && literals[literals.length - 1].uid === -1) {
          literals[literals.length - 1].uid = Number(after[1]);
          text = text.slice(0, after.index);
        }
        const m = /\* (\d+) FETCH \((?:UID (\d+) )?BODY\[\] \{(\d+)\}\r\n$/.exec(text);
        if (m) {
          current = { seq: Number(m[1]), uid: m[2] === undefined ? -1 : Number(m[2]), size: Number(m[3]), left: Number(m[3]), hash: createHash('sha256') };
          text = text.slice(0, m.index);
          if (current.size === 0) {
            literals.push({ seq: current.seq, uid: current.uid, size: 0, hash: current.hash.digest('hex') });
            current = null;
          }
        }
      }
      if (done.test(text)) return resolve({ literals, bytes, tail: text });
      const ahead = bytes / READ_RATE - (Date.now() - started) / 1000;
      if (ahead > 0.05) {
        socket.pause();
        setTimeout(() => socket.resume(), ahead * 1000);
      }
    });
  });
}

describe('IMAP streaming of many bodies', () => {
  let server: RunningTestServer;
  const messages = Array.from({ length: VARIANTS }, (_, i) => variant(i));
  before(async () => {
    const { dataDir } = tempDirs();
    await fillInbox(dataDir, messages);
    server = await startServer({ dataDir });
  });
  after(async () => {
    await server?.stop();
  });

  test(`UID FETCH 1:* BODY.PEEK[] of ${COUNT} messages: every literal exact, server RSS bounded`, { timeout: 240_000 }, async () => {
    const socket = net.connect(server.ports.imap!, '127.0.0.1');
    socket.setNoDelay(true);
    let greeting = '';
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      const onData = (d: Buffer) => {
        greeting += d.toString('latin1');
        if (/\r\nb OK [^\r\n]*\r\n$/.test(greeting)) {
          socket.off('data', onData);
          socket.off('error', reject);
          resolve();
        }
      };
      socket.on('data', onData);
      socket.write(`a LOGIN ${USER} ${PASS}\r\nb SELECT INBOX\r\n`);
    });
    assert.match(greeting, new RegExp(`\\* ${COUNT} EXISTS\\r\\n`));

    // idle baseline: the largest of a few samples with the mailbox selected
    let baseline = 0;
    for (let i = 0; i < 5; i++) {
      baseline = Math.max(baseline, rssBytes(server.pid));
      await new Promise((r) => setTimeout(r, 100));
    }
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(server.pid))), 100);
    const started = Date.now();
    const reading = readFetch(socket, /(?:^|\n)c (OK|NO|BAD)[^\r\n]*\r\n$/);
    socket.write('c UID FETCH 1:* BODY.PEEK[]\r\n');
    let result;
    try {
      result = await reading;
    } finally {
      clearInterval(sampler);
      socket.destroy();
    }
    const seconds = (Date.now() - started) / 1000;
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    console.log(`# ${result.literals.length} literals, ${mb(result.bytes)} MB in ${seconds.toFixed(1)} s; server RSS baseline ${mb(baseline)} MB, peak ${mb(peak)} MB (+${mb(peak - baseline)} MB)`);

    assert.match(result.tail, /^c OK /);
    assert.equal(result.literals.length, COUNT);
    const hashes = messages.map(sha);
    for (const [i, lit] of result.literals.entries()) {
      assert.equal(lit.seq, i + 1);
      assert.equal(lit.uid, i + 1);
      const want = messages[i % VARIANTS];
      assert.equal(lit.size, want.length, `size of UID ${lit.uid}`);
      assert.equal(lit.hash, hashes[i % VARIANTS], `content of UID ${lit.uid}`);
    }
    const total = result.literals.reduce((n, l) => n + l.size, 0);
    assert.ok(total > 200 * 1024 * 1024, `streamed ${mb(total)} MB: too little to tell streaming from buffering`);
    assert.ok(peak - baseline < MAX_GROWTH, `server RSS grew by ${mb(peak - baseline)} MB (baseline ${mb(baseline)}, peak ${mb(peak)})`);
  });
});
