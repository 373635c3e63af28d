/**
 * Outbound queue benchmark: N corpus messages (BENCH_QUEUE_MESSAGES, default 1000)
 * queued in a fresh SQLite store with `enqueue()` (what submission does), then drained
 * by the real QueueWorker to an SMTP sink on a loopback port, C destinations at a time
 * (BENCH_QUEUE_CONCURRENCY, default 4; the messages are spread over C domains routed
 * to the sink, since one destination shares one connection). Reports messages/s
 * queued and delivered; every message is checked to arrive exactly once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../src/config/load.js';
import { createUser } from '../src/mail/accounts.js';
import { deliveryContext } from '../src/mail/delivery-context.js';
import { enqueue } from '../src/mail/outbound.js';
import { QueueWorker } from '../src/smtp/queue/worker.js';
import { LocalChangeBus } from '../src/store/bus.js';
import { openStore } from '../src/store/open.js';
import { benchMessage, prng } from './corpus.js';
import { MessageSource } from '../src/mail/message-source.js';

export interface QueueBenchResult {
  messages: number;
  concurrency: number;
  megabytes: number;
  enqueueSeconds: number;
  enqueuedPerSecond: number;
  deliverSeconds: number;
  deliveredPerSecond: number;
  megabytesPerSecond: number;
  connections: number;
}

/** A sink that only counts: the benchmark measures the queue, not the receiver. */
async function countingSink(): Promise<{ port: number; received: Map<string, number>; connections: () => number; stop: () => Promise<void> }> {
  const received = new Map<string, number>();
  let connections = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onConnect: (_s, cb) => {
      connections++;
      cb();
    },
    onData: (stream, session, cb) => {
      stream.on('data', () => {});
      stream.on('end', () => {
        for (const r of session.envelope.rcptTo) received.set(r.address, (received.get(r.address) ?? 0) + 1);
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.server.address() as AddressInfo).port,
    received,
    connections: () => connections,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export async function benchQueue(count: number, concurrency: number): Promise<QueueBenchResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mailroom-bench-queue-'));
  const sink = await countingSink();
  const store = await openStore({ dataDir, bus: new LocalChangeBus() });
  try {
    const domains = Array.from({ length: concurrency }, (_, i) => `d${i}.bench.test`);
    const config = loadConfig({
      env: {
        MAILROOM_DATA: dataDir,
        MAILROOM_HOSTNAME: 'bench.test',
        MAILROOM_QUEUE_CONCURRENCY: String(concurrency),
        MAILROOM_QUEUE_ROUTES: domains.map((d) => `${d}=127.0.0.1:${sink.port}`).join(','),
      },
    });
    await createUser(store, 'sender@bench.test', 'bench-password');
    const rand = prng(7);
    let bytes = 0;
    const t0 = process.hrtime.bigint();
    for (let n = 0; n < count; n++) {
      const raw = benchMessage(n, rand);
      bytes += raw.length;
      await enqueue({ store, config }, MessageSource.fromBuffer(raw), { from: 'sender@bench.test', recipients: [{ address: `r${n}@${domains[n % domains.length]}` }] });
    }
    const t1 = process.hrtime.bigint();
    const worker = new QueueWorker(
      { store, config, delivery: deliveryContext(store, config), log: pino({ level: 'silent' }) },
      { resolver: { resolveMx: () => Promise.reject(new Error('routes only')), resolve4: async () => [], resolve6: async () => [] } },
    );
    while ((await store.listQueueEntries()).length > 0) await worker.runOnce();
    const t2 = process.hrtime.bigint();
    const once = Array.from({ length: count }, (_, n) => sink.received.get(`r${n}@${domains[n % domains.length]}`) ?? 0);
    if (once.some((c) => c !== 1)) throw new Error(`not every message arrived exactly once: ${once.filter((c) => c !== 1).length} wrong`);
    const enqueueSeconds = Number(t1 - t0) / 1e9;
    const deliverSeconds = Number(t2 - t1) / 1e9;
    return {
      messages: count,
      concurrency,
      megabytes: round(bytes / 1024 / 1024),
      enqueueSeconds: round(enqueueSeconds),
      enqueuedPerSecond: round(count / enqueueSeconds),
      deliverSeconds: round(deliverSeconds),
      deliveredPerSecond: round(count / deliverSeconds),
      megabytesPerSecond: round(bytes / 1024 / 1024 / deliverSeconds),
      connections: sink.connections(),
    };
  } finally {
    await store.close().catch(() => {});
    await sink.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
