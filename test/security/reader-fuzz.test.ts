/**
 * Issue 14, fuzz: a fixed-seed, bounded byte-level fuzz of the IMAP, POP3, SMTP, PROXY
 * and HTTP readers (test/security/reader-fuzz.ts); `npm run bench -- fuzz` runs longer.
 */
import { after, before, describe, it } from 'node:test';
import type { RunningTestServer } from '../harness/server.js';
import { fuzzReaders, fuzzServer } from './reader-fuzz.js';

const RUNS = 200;

describe('reader fuzz (fixed seed)', () => {
  let server: RunningTestServer;
  before(async () => (server = await fuzzServer()));
  after(() => server?.stop());

  it(`${RUNS} random inputs per reader: each connection is answered or waits, and closes once the input ended; the server serves on`, { timeout: 300_000 }, async (t) => {
    const done = await fuzzReaders(server, RUNS, 20261129);
    t.diagnostic(JSON.stringify(done));
  });
});
