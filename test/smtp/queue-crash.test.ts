/**
 * The outbound queue end to end, against the BUILT server: `mailroom serve` routes
 * remote.test to a test sink on a loopback port (queue.routes). Proves what the queue
 * promises across processes: a `kill -9` while the remote is slow loses nothing and
 * repeats only the transaction in flight (never one whose 250 was recorded), and two
 * servers on one store never send one message twice.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalChangeBus } from '../../src/store/bus.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { createUser } from '../../src/mail/accounts.js';
import { enqueue } from '../../src/mail/outbound.js';
import { startServer, tempDirs, type LogLine, type RunningTestServer } from '../harness/server.js';
import { Sink } from '../harness/smtp-sink.js';
import { MessageSource } from '../../src/mail/message-source.js';

const msg = (to: string) => Buffer.from(`From: Alice <alice@example.test>\r\nTo: ${to}\r\nSubject: crash test ${to}\r\nMessage-ID: <${to}.crash@example.test>\r\n\r\nbody for ${to}\r\n`);

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const deliveredIn = (lines: LogLine[]) => new Set(lines.filter((l) => l.msg === 'delivery' && l.result === 'delivered').map((l) => String(l.to)));

describe('outbound queue across crashes and processes (mailroom serve)', { timeout: 300_000 }, () => {
  const sink = new Sink();
  let dataDir: string;
  let store: Store;
  let config: Config;
  const servers: RunningTestServer[] = [];
  let env: Record<string, string>;

  before(async () => {
    await sink.start();
    dataDir = tempDirs().dataDir;
    env = {
      MAILROOM_HOSTNAME: 'mx.example.test',
      MAILROOM_QUEUE_ROUTES: `remote.test=127.0.0.1:${sink.port}`,
      MAILROOM_QUEUE_POLL_MS: '200',
      MAILROOM_QUEUE_LEASE_S: '10', // the shortest allowed: a crashed worker's entries come back after 10 s
      MAILROOM_QUEUE_RETRY_INITIAL_S: '1',
      MAILROOM_QUEUE_CONNECT_TIMEOUT_MS: '120000', // the slow sink must not time out before the kill
    };
    config = loadConfig({ env: { MAILROOM_DATA: dataDir, ...env } });
    store = await openStore({ dataDir, bus: new LocalChangeBus() });
    await createUser(store, 'alice@example.test', 'secret');
  });
  after(async () => {
    for (const s of servers) await s.stop('SIGKILL').catch(() => {});
    await store.close();
    sink.dataDelayMs = 0;
    await sink.stop();
  });

  const count = (to: string) => sink.messages.filter((m) => m.to.includes(to)).length;
  const queueEmpty = async () => (await store.listQueueEntries()).length === 0;

  it('kill -9 while the remote holds its DATA reply: after restart every message arrives, none whose 250 was recorded twice', async () => {
    sink.messages = [];
    const first = await startServer({ dataDir, env });
    servers.push(first);
    const fast = ['f0@remote.test', 'f1@remote.test', 'f2@remote.test'];
    for (const to of fast) await enqueue({ store, config }, MessageSource.fromBuffer(msg(to)), { from: 'alice@example.test', recipients: [{ address: to }] });
    await until('the fast messages recorded as delivered', () => fast.every((to) => deliveredIn(first.stdout).has(to)));

    sink.dataDelayMs = 10 * 60_000; // the remote now takes the bytes but does not answer
    const slow = ['s0@remote.test', 's1@remote.test', 's2@remote.test', 's3@remote.test'];
    for (const to of slow) await enqueue({ store, config }, MessageSource.fromBuffer(msg(to)), { from: 'alice@example.test', recipients: [{ address: to }] });
    const inFlight = await until('a slow message in DATA at the sink', () => sink.messages.find((m) => slow.includes(m.to[0]))?.to[0]);
    const recorded = deliveredIn(first.stdout);
    const killed = await first.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(!recorded.has(inFlight), 'the message in flight had no recorded success');
    assert.equal((await store.listQueueEntries()).length, slow.length, 'every unfinished message is still queued');

    sink.dataDelayMs = 0;
    const second = await startServer({ dataDir, env });
    servers.push(second);
    await until('the queue to drain after the restart (leases expire after 10 s)', queueEmpty, 120_000);

    for (const to of [...fast, ...slow]) assert.ok(count(to) >= 1, `${to} arrived`);
    for (const to of recorded) assert.equal(count(to), 1, `${to} was recorded delivered before the crash: sent once`);
    assert.equal(count(inFlight), 2, 'the transaction in flight is repeated (at-least-once), once');
    for (const to of slow.filter((t) => t !== inFlight)) assert.equal(count(to), 1, `${to} was never started before the crash`);
    const again = sink.messages.filter((m) => m.to.includes(inFlight));
    assert.deepEqual(again[0].data, again[1].data, 'the same bytes both times');
    await second.stop();
  });

  it('two servers on one store: each message is sent exactly once', async () => {
    sink.messages = [];
    const a = await startServer({ dataDir, env: { ...env, MAILROOM_QUEUE_POLL_MS: '50' } });
    servers.push(a);
    const b = await startServer({ dataDir, env: { ...env, MAILROOM_QUEUE_POLL_MS: '50' } });
    servers.push(b);
    // Queued one by one while both poll every 50 ms, so both claim some (each claim takes what is due).
    const rcpts = Array.from({ length: 24 }, (_, i) => `m${i}@remote.test`);
    for (const to of rcpts) {
      await enqueue({ store, config }, MessageSource.fromBuffer(msg(to)), { from: 'alice@example.test', recipients: [{ address: to }] });
      await new Promise((r) => setTimeout(r, 30));
    }
    await until('the queue to drain', queueEmpty, 120_000);
    for (const to of rcpts) assert.equal(count(to), 1, `${to} exactly once`);
    const byA = deliveredIn(a.stdout).size;
    const byB = deliveredIn(b.stdout).size;
    assert.equal(byA + byB, rcpts.length, `a sent ${byA}, b sent ${byB}: the two claims never overlap`);
    console.log(`# two servers: a sent ${byA}, b sent ${byB}`);
    await Promise.all([a.stop(), b.stop()]);
  });
});
