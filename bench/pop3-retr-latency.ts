/**
 * RETR latency, one command at a time (a measurement script, not a test and not part
 * of `npm run bench`): one account with BENCH_RETR_MESSAGES (default 100) messages of
 * BENCH_RETR_KB (default 10) KB, BENCH_RETR_SESSIONS (default 5) sessions of USER/PASS,
 * RETR 1..n (each waits for the previous answer's terminator), QUIT. Prints the mean
 * and median ms per RETR over all sessions.
 *
 * Why: a RETR written as "+OK" line, body and "." in separate writes without
 * TCP_NODELAY costs a Nagle + delayed-ACK wait (~40 ms on Linux) per message; this
 * shows whether it does. Run: `npm run build && node dist/bench/pop3-retr-latency.js`.
 *
 * Measured 2026-11-28, back to back on the shared 2-core machine (load 10-16), 500 RETRs:
 * before the connection layer (c814e7e) 45.82 / 46.84 ms mean, 44.0 ms median;
 * after (one batched write per answer, TCP_NODELAY) 1.48 / 1.43 ms mean, 0.6 ms median.
 */
import { join } from 'node:path';
import { LocalChangeBus } from '../src/store/bus.js';
import { openStore } from '../src/store/open.js';
import { createUser } from '../src/mail/accounts.js';
import { deliver } from '../src/mail/delivery.js';
import { startServer, tempDirs } from '../test/harness/server.js';
import { RawPop3Client } from './pop3-raw-client.js';
import { MessageSource } from '../src/mail/message-source.js';

const USER = 'latency@bench.test';
const PASSWORD = 'bench-password';

/** A message of about `kb` KB: short CRLF text lines, no leading dots. */
function message(n: number, kb: number): Buffer {
  const head = `From: a@bench.test\r\nTo: ${USER}\r\nSubject: latency ${n}\r\nMessage-ID: <${n}.latency@bench.test>\r\n\r\n`;
  const line = `line of message ${n} with some words to fill it up to seventy-odd chars\r\n`;
  return Buffer.from(head + line.repeat(Math.ceil((kb * 1024 - head.length) / line.length)));
}

async function main(): Promise<void> {
  const count = Number(process.env.BENCH_RETR_MESSAGES ?? 100);
  const kb = Number(process.env.BENCH_RETR_KB ?? 10);
  const sessions = Number(process.env.BENCH_RETR_SESSIONS ?? 5);
  const { dataDir } = tempDirs();
  const store = await openStore({ dataDir, bus: new LocalChangeBus() });
  try {
    await createUser(store, USER, PASSWORD);
    const ctx = { store, ingest: { spoolDir: join(dataDir, 'tmp'), largePartThreshold: 64 * 1024 } };
    for (let n = 0; n < count; n++) {
      const [outcome] = await deliver(ctx, MessageSource.fromBuffer(message(n, kb)), [USER]);
      if (outcome.status !== 'delivered') throw new Error(`prefill: ${outcome.status}`);
    }
  } finally {
    await store.close();
  }
  const server = await startServer({ dataDir });
  const perRetr: number[] = [];
  try {
    for (let s = 0; s < sessions; s++) {
      const c = await RawPop3Client.connect(server.ports.pop3!);
      if (!(await c.command(`USER ${USER}`)).ok || !(await c.command(`PASS ${PASSWORD}`)).ok) throw new Error('login failed');
      for (let n = 1; n <= count; n++) {
        const t0 = performance.now();
        const r = await c.command(`RETR ${n}`, { multiline: true });
        perRetr.push(performance.now() - t0);
        if (!r.ok) throw new Error(`RETR ${n}: ${r.status}`);
      }
      await c.command('QUIT');
      c.close();
    }
  } finally {
    await server.stop();
  }
  const sorted = [...perRetr].sort((a, b) => a - b);
  const mean = perRetr.reduce((a, b) => a + b, 0) / perRetr.length;
  const round = (x: number) => Math.round(x * 100) / 100;
  console.log(JSON.stringify({ messages: count, kb, sessions, retrs: perRetr.length, meanMs: round(mean), medianMs: round(sorted[sorted.length >> 1]), p90Ms: round(sorted[Math.floor(sorted.length * 0.9)]) }));
}

main().catch((err: Error) => {
  console.error(`pop3-retr-latency: ${err.message}`);
  process.exit(1);
});
