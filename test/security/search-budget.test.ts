/**
 * Issue 14, SEARCH never freezes the server: on a 2,000-message mailbox, `SEARCH` with
 * 100 × `NOT BODY <2 letters>` (too short for the trigram index: every message's text is
 * read per key) used to freeze the whole server for 38 s. Now the keys' store lookups
 * interleave with other sessions' work, and past `imap.search_timeout_ms` the command
 * ends with `NO [LIMIT]`. Meanwhile `/healthz` and another IMAP session answer within a
 * generous bound.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startServer, tempDirs, type RunningTestServer } from '../harness/server.js';
import { connect } from '../harness/transcript.js';
import { legitimateImap, PASSWORD, USER } from './helpers.js';

const MESSAGES = 2000;
/** Served within this while the search runs: far above normal (a few ms), far below a freeze. */
const RESPONSIVE_MS = 3000;

function mbox(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    out += `From sender@example.net Mon Jan  1 00:00:00 2024\nFrom: sender${i}@example.net\nTo: ${USER}\nSubject: message ${i}\nMessage-ID: <m${i}@example.net>\n\n`;
    out += `Body of message ${i}: ${'lorem ipsum dolor sit amet '.repeat(40)}\n\n`;
  }
  return out;
}

function healthz(port: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/healthz', timeout: 30_000 }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(Date.now() - started) : reject(new Error(`healthz ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

describe('SEARCH has a time budget and never freezes the server', () => {
  let server: RunningTestServer;
  before(async () => {
    const { dir, dataDir } = tempDirs();
    const file = join(dir, 'big.mbox');
    writeFileSync(file, mbox(MESSAGES));
    for (const args of [['user', 'add', USER, '--password', PASSWORD], ['import', '--user', USER, '--format', 'mbox', '--mailbox', 'INBOX', file]]) {
      const r = await runCli(args, { dataDir, timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
    }
    server = await startServer({ dataDir, env: { MAILROOM_IMAP_SEARCH_TIMEOUT_MS: '2000' } });
  });
  after(() => server?.stop());

  it(`100 × NOT BODY on ${MESSAGES} messages: NO [LIMIT] or an answer, /healthz and another session served meanwhile`, { timeout: 180_000 }, async (t) => {
    const a = await connect(server.ports.imap!, { timeoutMs: 120_000 });
    await a.readLine();
    a.send(`s1 LOGIN ${USER} "${PASSWORD}"\r\ns2 SELECT INBOX\r\n`);
    assert.match(await a.readUntil(/s2 [^\r\n]*\r\n/), new RegExp(`\\* ${MESSAGES} EXISTS[\\s\\S]*s2 OK`));
    // different two-letter terms, so no lookup can be shared
    const letters = 'zqxjkvwyfg';
    const keys = Array.from({ length: 100 }, (_, i) => `NOT BODY ${letters[i % 10]}${letters[Math.floor(i / 10)]}`);
    const started = Date.now();
    a.send(`s3 SEARCH ${keys.join(' ')}\r\n`);
    const done = a.readUntil(/s3 [^\r\n]*\r\n/);
    const health: number[] = [];
    const sessions: number[] = [];
    let finished = false;
    void done.then(() => (finished = true), () => (finished = true));
    await new Promise((r) => setTimeout(r, 200));
    while (!finished) {
      health.push(await healthz(server.ports.http!));
      sessions.push(await legitimateImap(server.ports.imap!));
    }
    const answer = await done;
    const ms = Date.now() - started;
    t.diagnostic(`SEARCH answered in ${ms} ms: ${answer.trim().split('\r\n').pop()}; /healthz max ${Math.max(0, ...health)} ms, IMAP login+SELECT max ${Math.max(0, ...sessions)} ms (${sessions.length} sessions)`);
    assert.match(answer, /s3 (OK|NO \[LIMIT\])/);
    assert.ok(ms < 2000 + 10_000, `the budget ends the search (took ${ms} ms)`);
    assert.ok(Math.max(0, ...health) < RESPONSIVE_MS, `/healthz: ${health.join(', ')} ms`);
    assert.ok(Math.max(0, ...sessions) < RESPONSIVE_MS, `IMAP sessions: ${sessions.join(', ')} ms`);
    a.send('s4 NOOP\r\n');
    assert.match(await a.readUntil(/s4 [^\r\n]*\r\n/), /s4 OK/, 'the session goes on');
    a.close();
  });
});
