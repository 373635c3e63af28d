/**
 * Issue 14, pre-login bounds: before authentication an IMAP command, text and literals
 * together, is at most 64 KiB (PREAUTH_COMMAND_MAX). The attack that buffered 62 MB
 * per connection (`a LOGIN` then literal after literal, never ending the command) now
 * costs the server at most that per connection, and a legitimate client logs in
 * meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningTestServer } from '../harness/server.js';
import { connect, type Transcript } from '../harness/transcript.js';
import { cli, legitimateImap, PASSWORD, rssMb, USER } from './helpers.js';

const ATTACKERS = 40;
const LITERALS = 250; // 8,000 bytes each (under the 8 KiB per-literal limit): 2 MB per command
const LITERAL = 'x'.repeat(8000);
/** Unbounded, these 40 connections grew the server by ~160 MB; bounded, by ~35 MB (most of it garbage not yet collected). */
const MAX_GROWTH_MB = 60;

describe('IMAP before login: the whole command is bounded', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await startServer();
    await cli(server, 'user', 'add', USER, '--password', PASSWORD);
  });
  after(() => server.stop());

  it(`${ATTACKERS} connections each sending ${LITERALS} literals of 8,000 bytes in one LOGIN: memory bounded, BAD [TOOBIG], others served`, { timeout: 120_000 }, async (t) => {
    const port = server.ports.imap!;
    await legitimateImap(port); // warm up
    const base = rssMb(server);
    const attackers: Transcript[] = [];
    for (let i = 0; i < ATTACKERS; i++) {
      const a = await connect(port, { timeoutMs: 30_000 });
      await a.readLine();
      a.send(`a${i} LOGIN`);
      for (let j = 0; j < LITERALS; j++) a.send(` {8000+}\r\n${LITERAL}`);
      attackers.push(a);
    }
    // all sent, none finished: whatever the server kept of them, it holds now
    await Promise.all(attackers.map((a) => new Promise<void>((resolve) => (a.socket.writableLength === 0 ? resolve() : a.socket.once('drain', resolve)))));
    await new Promise((r) => setTimeout(r, 500));
    const during = rssMb(server);
    const ms = await legitimateImap(port);
    t.diagnostic(`RSS ${base.toFixed(1)} MB before, ${during.toFixed(1)} MB with ${ATTACKERS} attackers holding ${((ATTACKERS * LITERALS * 8000) / 1e6).toFixed(0)} MB of literals; a login took ${ms} ms meanwhile`);
    assert.ok(during - base < MAX_GROWTH_MB, `RSS grew by ${(during - base).toFixed(1)} MB (limit ${MAX_GROWTH_MB})`);
    for (const [i, a] of attackers.entries()) {
      a.send('\r\n');
      assert.match(await a.readLine(), new RegExp(`^a${i} BAD \\[TOOBIG\\] Command too large \\(limit 65536 bytes, literals included\\)`));
      a.send(`b${i} NOOP\r\n`);
      assert.match(await a.readLine(), new RegExp(`^b${i} OK`), 'the session goes on, in step');
      a.close();
    }
  });

  it('a LOGIN with literals within the bound still works', async () => {
    const a = await connect(server.ports.imap!);
    await a.readLine();
    a.send(`c1 LOGIN {${USER.length}+}\r\n${USER} {${PASSWORD.length}+}\r\n${PASSWORD}\r\n`);
    assert.match(await a.readUntil(/c1 [^\r\n]*\r\n/), /c1 OK/);
    a.close();
  });
});
