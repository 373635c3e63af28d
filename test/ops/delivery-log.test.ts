/**
 * The queue's per-recipient `delivery` lines (Postfix-style: queue id, from, to, size,
 * relay, result, status) and `mailroom_messages_total{result}` for delivered, deferred and
 * bounced recipients, against a real SMTP sink that accepts `bob`, defers `later…` (451)
 * and refuses `bad…` (550).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { createUser } from '../../src/mail/accounts.js';
import { deliveryContext } from '../../src/mail/delivery-context.js';
import { enqueue } from '../../src/mail/outbound.js';
import { MessageSource } from '../../src/mail/message-source.js';
import { registry } from '../../src/metrics/registry.js';
import { LocalChangeBus } from '../../src/store/bus.js';
import { openStore } from '../../src/store/open.js';
import { QueueWorker } from '../../src/smtp/queue/worker.js';
import { Sink, fakeResolver } from '../harness/smtp-sink.js';

async function messagesTotal(result: string): Promise<number> {
  const metric = await registry.getSingleMetric('mailroom_messages_total')!.get();
  return metric.values.find((v) => v.labels.result === result)?.value ?? 0;
}

describe('queue delivery lines and message counters', () => {
  const sink = new Sink();
  before(() => sink.start());
  after(() => sink.stop());

  it('one line per recipient: delivered, deferred, bounced; counters move by as many', async () => {
    const data = mkdtempSync(join(tmpdir(), 'delivery-log-'));
    const config = loadConfig({ env: { MAILROOM_DATA: data, MAILROOM_HOSTNAME: 'mx.example.test', MAILROOM_QUEUE_REMOTE_PORT: String(sink.port) } });
    const store = await openStore({ dataDir: data, bus: new LocalChangeBus() });
    try {
      await createUser(store, 'alice@example.test', 'secret');
      const lines: Record<string, unknown>[] = [];
      const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), cb()) }));
      const before = { delivered: await messagesTotal('delivered'), deferred: await messagesTotal('deferred'), bounced: await messagesTotal('bounced') };
      const message = Buffer.from('From: alice@example.test\r\nTo: bob@remote.test\r\nSubject: log\r\n\r\nhello\r\n');
      const { id } = await enqueue({ store, config }, MessageSource.fromBuffer(message), {
        from: 'alice@example.test',
        recipients: [{ address: 'bob@remote.test' }, { address: 'later@remote.test' }, { address: 'bad@remote.test' }],
      });
      const worker = new QueueWorker({ store, config, delivery: deliveryContext(store, config), log }, { resolver: fakeResolver({ 'remote.test': 'mx.remote.test' }), now: () => new Date(Date.now() + 10_000) });
      await worker.runOnce();

      const deliveries = lines.filter((l) => l.msg === 'delivery' && l.queueId === id);
      const byTo = Object.fromEntries(deliveries.map((l) => [l.to, l]));
      assert.equal(deliveries.length, 3, JSON.stringify(deliveries));
      for (const l of deliveries) {
        assert.equal(l.from, 'alice@example.test');
        assert.equal(l.size, message.length);
      }
      assert.equal(byTo['bob@remote.test'].result, 'delivered');
      assert.equal(byTo['bob@remote.test'].level, 30);
      assert.match(String(byTo['bob@remote.test'].relay), /mx\.remote\.test/);
      assert.equal(byTo['later@remote.test'].result, 'deferred');
      assert.equal(byTo['later@remote.test'].level, 40);
      assert.match(String(byTo['later@remote.test'].detail), /451/);
      assert.equal(byTo['bad@remote.test'].result, 'bounced');
      assert.match(String(byTo['bad@remote.test'].status), /^5\./);
      assert.match(String(byTo['bad@remote.test'].detail), /550/);

      assert.equal(await messagesTotal('delivered'), before.delivered + 1);
      assert.equal(await messagesTotal('deferred'), before.deferred + 1);
      assert.equal(await messagesTotal('bounced'), before.bounced + 1);
    } finally {
      await store.close();
    }
  });
});
