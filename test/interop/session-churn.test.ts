// 10,000 connect + LOGOUT/QUIT sessions each on IMAP, POP3 and SMTP, over plain TCP,
// a few at a time: the server's resident memory after the run stays within 20 MB of
// what it was after a warm-up (and its live JS heap within 5 MB: RSS alone also counts
// allocator and JIT pages), and the server never warns MaxListenersExceededWarning
// (issue 9: IMAP and SMTP sessions each left an abort listener on a shared signal, so
// every connection ever made stayed reachable).
//
// Memory is sampled from /proc/<pid>/status (VmRSS) after a settle pause and a full
// garbage collection (test/harness/gc-on-signal.ts, SIGUSR2), with V8's young
// generation capped at 1 MB a semi-space: without the collection, garbage looked like a
// 27 MB POP3 leak; without the cap, RSS jumped by ±30 MB whenever V8 shrank its young
// generation. Measured so, POP3 stays flat and main's IMAP grows ~3 MB per 1,000
// sessions. The live JS heap after the collection is checked too: it is exact where
// RSS also counts allocator and JIT pages.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type RunningTestServer } from '../harness/server.js';
import { gcPreloadEnv, lastGcStats } from '../harness/gc-on-signal.js';

const SESSIONS = 10_000;
const WARMUP = 500;
const PARALLEL = 4;
// Longer than the 5 s a closing IMAP session gives the client before it destroys the
// socket (ImapSession.close): sessions closed just before a sample may be held that long.
const SETTLE_MS = 6_000;
const MAX_GROWTH_MB = 20;
/** Live JS objects after a full gc: 10,000 sessions leaving 500 bytes each would pass this. */
const MAX_HEAP_GROWTH_MB = 5;
const SESSION_DEADLINE_MS = 30_000;

interface Protocol {
  name: 'imap' | 'pop3' | 'smtp';
  /** The greeting is complete. */
  greeting: RegExp;
  bye: string;
  /** The reply to `bye` is complete. */
  done: RegExp;
}

const PROTOCOLS: Protocol[] = [
  { name: 'imap', greeting: /^\* OK[^\r\n]*\r\n/, bye: 'a LOGOUT\r\n', done: /\r\na OK[^\r\n]*\r\n$/ },
  { name: 'pop3', greeting: /^\+OK[^\r\n]*\r\n/, bye: 'QUIT\r\n', done: /\r\n\+OK[^\r\n]*\r\n$/ },
  { name: 'smtp', greeting: /^220 [^\r\n]*\r\n/, bye: 'QUIT\r\n', done: /\r\n221 [^\r\n]*\r\n$/ },
];

/** One session: greeting, LOGOUT/QUIT, its reply, and the server closes the connection. */
function session(port: number, p: Protocol, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    let said = false;
    const s = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`${p.name} session ${n}: HUNG; received ${JSON.stringify(text)}`))), SESSION_DEADLINE_MS);
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      text += d;
      if (!said && p.greeting.test(text)) {
        said = true;
        s.write(p.bye);
      }
    });
    s.on('error', (err) => (clearTimeout(timer), reject(new Error(`${p.name} session ${n}: ${err.message}; received ${JSON.stringify(text)}`))));
    s.on('close', () => {
      clearTimeout(timer);
      if (p.done.test(text)) resolve();
      else reject(new Error(`${p.name} session ${n}: closed before the reply to ${p.bye.trim()}; received ${JSON.stringify(text)}`));
    });
  });
}

async function sessions(port: number, p: Protocol, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await session(port, p, next++);
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

/** VmRSS and the JS heap in use, in MB, after a settle pause and then a full collection in the server. */
async function settled(server: RunningTestServer): Promise<{ rss: number; heap: number }> {
  await sleep(SETTLE_MS);
  const collections = gcCount(server.stderr());
  process.kill(server.pid, 'SIGUSR2');
  for (let i = 0; i < 100 && gcCount(server.stderr()) === collections; i++) await sleep(100);
  const gc = lastGcStats(server.stderr());
  assert.ok(gc && gcCount(server.stderr()) > collections, 'the server collected garbage on SIGUSR2 (test/harness/gc-on-signal.ts)');
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'));
  assert.ok(kb, 'VmRSS readable');
  return { rss: Number(kb[1]) / 1024, heap: gc.heapUsed / MB };
}

const gcCount = (stderr: string) => stderr.split('gc-on-signal ').length - 1;
const MB = 1024 * 1024;
const mb = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(1)} MB`;

describe(`session churn: ${SESSIONS} connect+logout sessions per protocol`, () => {
  for (const p of PROTOCOLS) {
    describe(p.name, () => {
      let server: RunningTestServer;
      before(async () => {
        server = await startServer({ env: { MAILROOM_HOSTNAME: 'mx.example.test', NODE_OPTIONS: `${gcPreloadEnv().NODE_OPTIONS} --max-semi-space-size=1` } });
      });
      after(() => server?.stop());

      it(`RSS grows by at most ${MAX_GROWTH_MB} MB, live heap by at most ${MAX_HEAP_GROWTH_MB} MB, no MaxListenersExceededWarning`, { timeout: 600_000 }, async (t) => {
        const port = server.ports[p.name]!;
        await sessions(port, p, WARMUP);
        const before = await settled(server);
        const started = Date.now();
        await sessions(port, p, SESSIONS);
        const seconds = (Date.now() - started) / 1000;
        const afterRun = await settled(server);
        const growth = afterRun.rss - before.rss;
        const figures =
          `${p.name}: RSS ${before.rss.toFixed(1)} MB after ${WARMUP} warm-up sessions, ${afterRun.rss.toFixed(1)} MB after ${SESSIONS} more (${mb(growth)}; ` +
          `JS heap in use ${before.heap.toFixed(1)} → ${afterRun.heap.toFixed(1)} MB, ${mb(afterRun.heap - before.heap)}) in ${seconds.toFixed(1)} s`;
        t.diagnostic(figures);
        const logs = server.stderr() + server.stdout.map((l) => JSON.stringify(l)).join('\n');
        // assert.ok, not doesNotMatch: a failure must not print every log line of 10,000 sessions.
        assert.ok(!/MaxListenersExceededWarning/.test(logs), `${figures}; the server warned: ${logs.split('\n').filter((l) => l.includes('MaxListeners')).slice(0, 2).join(' | ')}`);
        assert.ok(growth <= MAX_GROWTH_MB, `${figures}: RSS grew by more than ${MAX_GROWTH_MB} MB`);
        assert.ok(afterRun.heap - before.heap <= MAX_HEAP_GROWTH_MB, `${figures}: live JS heap grew by more than ${MAX_HEAP_GROWTH_MB} MB (objects kept per session)`);
      });
    });
  }
});
