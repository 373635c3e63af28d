import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, type Config } from '../../config/load.js';
import { createUser } from '../../mail/accounts.js';
import { deliveryContext } from '../../mail/delivery-context.js';
import { enqueue } from '../../mail/outbound.js';
import { indexMessage } from '../../mime/index-message.js';
import type { MimePart } from '../../mime/types.js';
import { LocalChangeBus } from '../../store/bus.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { QueueWorker } from './worker.js';
import { Sink, fakeResolver } from '../../../test/harness/smtp-sink.js';
import { MessageSource } from '../../mail/message-source.js';

const msg = (n: number | string, from = 'alice@example.test') =>
  Buffer.from(`From: Alice <${from}>\r\nTo: bob@remote.test\r\nSubject: test ${n}\r\nMessage-ID: <${n}.q@example.test>\r\n\r\nbody ${n}\r\n`);

function findPart(p: MimePart, type: string): MimePart | undefined {
  if (`${p.type}/${p.subtype}`.toLowerCase() === type) return p;
  for (const c of p.parts ?? []) {
    const f = findPart(c, type);
    if (f) return f;
  }
  return undefined;
}

describe('outbound queue against a test sink', () => {
  const sink = new Sink();
  let store: Store;
  let config: Config;
  let clock: number;
  const log = pino({ level: 'silent' });

  before(async () => {
    await sink.start();
  });
  after(async () => {
    await sink.stop();
  });
  beforeEach(async () => {
    const data = mkdtempSync(join(tmpdir(), 'queue-'));
    config = loadConfig({ env: { MAILROOM_DATA: data, MAILROOM_HOSTNAME: 'mx.example.test', MAILROOM_QUEUE_REMOTE_PORT: String(sink.port), MAILROOM_QUEUE_RETRY_INITIAL_S: '60', MAILROOM_QUEUE_DELAY_NOTIFY_AFTER_S: '3600', MAILROOM_QUEUE_MAX_AGE_S: '7200' } });
    store = await openStore({ dataDir: data, bus: new LocalChangeBus() });
    await createUser(store, 'alice@example.test', 'secret');
    sink.messages = [];
    sink.connections = 0;
    clock = Date.now() + 10_000; // ahead of the real time the entries get at enqueue, so they are due
  });

  const worker = (extra: Partial<Config['queue']> = {}) =>
    new QueueWorker(
      { store, config: { ...config, queue: { ...config.queue, ...extra } }, delivery: deliveryContext(store, config), log },
      { resolver: fakeResolver({ 'remote.test': 'mx.remote.test', 'other.test': 'mx.other.test' }), now: () => new Date(clock) },
    );
  const inbox = async () => {
    const user = (await store.getUser('alice@example.test'))!;
    const box = (await store.getMailbox(user.id, 'INBOX'))!;
    const rows = await store.listMessages(box.id, user.id);
    return Promise.all(rows.map(async (r) => {
      const chunks: Buffer[] = [];
      for await (const c of await store.openContent(r.contentId)) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    }));
  };

  it('delivers several messages to one domain over one connection, then empties the queue', async () => {
    for (let i = 0; i < 3; i++) await enqueue({ store, config }, MessageSource.fromBuffer(msg(i)), { from: 'alice@example.test', recipients: [{ address: `bob${i}@remote.test` }] });
    assert.equal((await store.listQueueEntries()).length, 3);
    await worker().runOnce();
    assert.equal(sink.messages.length, 3);
    assert.equal(sink.connections, 1, 'one connection for three messages');
    assert.deepEqual(sink.messages.map((m) => m.to[0]).sort(), ['bob0@remote.test', 'bob1@remote.test', 'bob2@remote.test']);
    assert.ok(sink.messages.every((m) => m.from === 'alice@example.test'));
    assert.ok(sink.messages[0].data.toString().includes('Subject: test'), 'bytes as queued');
    assert.deepEqual(await store.listQueueEntries(), []);
  });

  it('the queued content survives expunging every other copy', async () => {
    const { id } = await enqueue({ store, config }, MessageSource.fromBuffer(msg('keep')), { from: 'alice@example.test', recipients: [{ address: 'bob@remote.test' }] });
    const user = (await store.getUser('alice@example.test'))!;
    const sent = (await store.getMailbox(user.id, 'INBOX'))!;
    const entry = (await store.getQueueEntry(id))!;
    const row = await store.appendMessage({ mailboxId: sent.id, content: { id: entry.contentId, existing: true } });
    await store.expunge(sent.id, [row.row.uid]);
    await worker().runOnce();
    assert.equal(sink.messages.length, 1);
    assert.equal(sink.messages[0].data.toString(), msg('keep').toString());
  });

  it('retries with backoff while the destination is down, then delivers when it is up', async () => {
    const down = new Sink();
    await down.start();
    const port = down.port;
    await down.stop();
    const w = () => worker({ remote_port: port });
    const { id } = await enqueue({ store, config }, MessageSource.fromBuffer(msg('retry')), { from: 'alice@example.test', recipients: [{ address: 'bob@remote.test' }] });
    await w().runOnce();
    let e = (await store.getQueueEntry(id))!;
    assert.equal(e.recipients[0].state, 'pending');
    assert.equal(e.attempts, 1);
    assert.equal(e.nextAttemptAt.getTime(), clock + 60_000, 'first retry after retry_initial_s');
    assert.match(e.lastError ?? '', /mx\.remote\.test/);
    clock += 60_000;
    await w().runOnce();
    e = (await store.getQueueEntry(id))!;
    assert.equal(e.nextAttemptAt.getTime(), clock + 120_000, 'doubles');
    const up = new Sink();
    await up.start(port);
    try {
      clock += 30_000;
      assert.equal(await w().runOnce(), 0, 'not due yet');
      clock += 90_000;
      await w().runOnce();
      assert.equal(up.messages.length, 1);
      assert.equal(await store.getQueueEntry(id), null);
    } finally {
      await up.stop();
    }
  });

  it('bounces a 5xx with an RFC 3464 DSN into the local sender\'s INBOX; good recipients are delivered', async () => {
    await enqueue({ store, config }, MessageSource.fromBuffer(msg('bounce')), { from: 'alice@example.test', envid: 'ENV-1', recipients: [{ address: 'bad@remote.test', orcpt: 'rfc822;bad@remote.test' }, { address: 'bob@remote.test' }] });
    await worker().runOnce();
    assert.deepEqual(sink.messages.map((m) => m.to), [['bob@remote.test']]);
    const [dsn] = await inbox();
    assert.ok(dsn, 'a DSN arrived');
    const idx = indexMessage(dsn, { largeBodyThreshold: 1 << 30 });
    assert.equal(`${idx.body.type}/${idx.body.subtype}`.toLowerCase(), 'multipart/report');
    assert.ok(idx.body.params.some(([k, v]) => k.toLowerCase() === 'report-type' && v === 'delivery-status'));
    assert.equal(idx.body.parts?.[0].type.toLowerCase(), 'text');
    const status = findPart(idx.body, 'message/delivery-status')!;
    assert.ok(status, 'has a message/delivery-status part');
    assert.ok(findPart(idx.body, 'message/rfc822'), 'returns the original');
    const text = dsn.toString();
    assert.match(text, /Reporting-MTA: dns; mx\.example\.test\r\n/);
    assert.match(text, /Original-Envelope-Id: ENV-1\r\n/);
    assert.match(text, /Arrival-Date: \w{3}, \d{2} \w{3} \d{4}/);
    assert.match(text, /Original-Recipient: rfc822;bad@remote\.test\r\nFinal-Recipient: rfc822; bad@remote\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.remote\.test\r\nDiagnostic-Code: smtp; 550 5\.1\.1/);
    assert.doesNotMatch(text, /Final-Recipient: rfc822; bob@/, 'delivered recipients are not reported');
    assert.match(text, /Subject: test bounce/);
    assert.deepEqual(await store.listQueueEntries(), []);
  });

  it('a remote sender gets the DSN through the queue with the null sender; a bounce is never bounced', async () => {
    await enqueue({ store, config }, MessageSource.fromBuffer(msg('remote', 'carol@other.test')), { from: 'carol@other.test', ret: 'HDRS', recipients: [{ address: 'bad@remote.test' }] });
    await worker().runOnce();
    // The DSN went to other.test (same sink) with MAIL FROM:<> and only the header of the original.
    const dsn = sink.messages.find((m) => m.to[0] === 'carol@other.test');
    assert.ok(dsn, 'DSN sent to the remote sender');
    assert.equal(dsn.from, '');
    assert.match(dsn.data.toString(), /Content-Type: text\/rfc822-headers/);
    assert.doesNotMatch(dsn.data.toString(), /body remote/);
    // A null-sender message that fails produces nothing.
    await enqueue({ store, config }, MessageSource.fromBuffer(msg('nb')), { from: '', recipients: [{ address: 'bad2@remote.test' }] });
    const before = sink.messages.length;
    await worker().runOnce();
    assert.equal(sink.messages.length, before);
    assert.deepEqual(await store.listQueueEntries(), []);
    assert.equal((await inbox()).length, 0);
  });

  it('NOTIFY=NEVER suppresses the bounce; 4xx stays queued, sends one delay DSN, then expires with a 4.4.7 bounce', async () => {
    await enqueue({ store, config }, MessageSource.fromBuffer(msg('never')), { from: 'alice@example.test', recipients: [{ address: 'bad@remote.test', notify: ['NEVER'] }] });
    const { id } = await enqueue({ store, config }, MessageSource.fromBuffer(msg('slow')), { from: 'alice@example.test', recipients: [{ address: 'later@remote.test' }] });
    await worker().runOnce();
    assert.equal((await inbox()).length, 0, (await inbox()).map(String).join('\n'));
    assert.equal((await store.getQueueEntry(id))!.recipients[0].status, '4.2.0');
    clock += 3_600_000;
    await worker().runOnce();
    let mails = await inbox();
    assert.equal(mails.length, 1);
    assert.match(mails[0].toString(), /Action: delayed\r\nStatus: 4\.2\.0/);
    assert.match(mails[0].toString(), /Will-Retry-Until: /);
    clock += 3_600_000;
    await worker().runOnce();
    mails = await inbox();
    assert.equal(mails.length, 2, 'one delay notice only, then the expiry bounce');
    assert.match(mails[1].toString(), /Action: failed\r\nStatus: 4\.4\.7/);
    assert.equal(await store.getQueueEntry(id), null);
  });

  it('REQUIRETLS mail is not sent over plain text: it bounces with 5.7.10', async () => {
    await enqueue({ store, config }, MessageSource.fromBuffer(msg('rt')), { from: 'alice@example.test', requireTls: true, recipients: [{ address: 'bob@remote.test' }] });
    await worker().runOnce();
    assert.equal(sink.messages.length, 0);
    assert.match((await inbox())[0].toString(), /Status: 5\.7\.10/);
  });

  it('a domain with neither MX nor address bounces (5.1.2); the implicit MX is used when there is an address', async () => {
    await enqueue({ store, config }, MessageSource.fromBuffer(msg('nx')), { from: 'alice@example.test', recipients: [{ address: 'x@nowhere.test' }] });
    await enqueue({ store, config }, MessageSource.fromBuffer(msg('implicit')), { from: 'alice@example.test', recipients: [{ address: 'y@mx.remote.test' }] });
    await worker().runOnce();
    assert.match((await inbox())[0].toString(), /Status: 5\.1\.2/);
    assert.deepEqual(sink.messages.map((m) => m.to[0]), ['y@mx.remote.test']);
  });

  it('relays everything through a smarthost with AUTH', async () => {
    const smart = new Sink({ auth: { user: 'home', pass: 's3cret' } });
    await smart.start();
    try {
      for (const to of ['a@remote.test', 'b@far.test']) await enqueue({ store, config }, MessageSource.fromBuffer(msg(to)), { from: 'alice@example.test', recipients: [{ address: to }] });
      await worker({ smarthost: `127.0.0.1:${smart.port}`, smarthost_tls: 'none', smarthost_user: 'home', smarthost_password: 's3cret' }).runOnce();
      assert.deepEqual(smart.messages.map((m) => [m.to[0], m.user]).sort(), [['a@remote.test', 'home'], ['b@far.test', 'home']]);
      assert.equal(smart.connections, 1);
      assert.equal(sink.messages.length, 0, 'nothing went direct');
      // Wrong password: nothing is lost, the message stays queued.
      await enqueue({ store, config }, MessageSource.fromBuffer(msg('pw')), { from: 'alice@example.test', recipients: [{ address: 'c@far.test' }] });
      await worker({ smarthost: `127.0.0.1:${smart.port}`, smarthost_tls: 'none', smarthost_user: 'home', smarthost_password: 'wrong' }).runOnce();
      const [left] = await store.listQueueEntries();
      assert.equal(left.recipients[0].state, 'pending');
      assert.match(left.lastError ?? '', /535|credentials|auth/i);
    } finally {
      await smart.stop();
    }
  });

  /** The store, but once `armed` every getQueueEntry throws: the worker "dies" right after recording results. */
  function crashingStore(crashOn: keyof Store) {
    const state = { armed: false };
    const proxy = new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (state.armed && prop === crashOn) throw new Error('simulated crash');
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return { proxy, state };
  }
  const workerOn = (s: Store) =>
    new QueueWorker(
      { store: s, config, delivery: deliveryContext(s, config), log },
      { resolver: fakeResolver({ 'remote.test': 'mx.remote.test' }), now: () => new Date(clock) },
    );

  it('a crash between recording a 5xx and sending its DSN loses no DSN: the next worker sends it once', async () => {
    const { proxy, state } = crashingStore('getQueueEntry');
    await enqueue({ store, config }, MessageSource.fromBuffer(msg('crash-bounce')), { from: 'alice@example.test', recipients: [{ address: 'bad@remote.test' }] });
    state.armed = true; // results are recorded during delivery; the crash comes when the worker turns to the DSN
    await assert.rejects(workerOn(proxy).runOnce(), /simulated crash/);
    const [left] = await store.listQueueEntries();
    assert.equal(left.recipients[0].state, 'failed', 'the 5xx was recorded');
    assert.equal(left.recipients[0].dsnPending, true, 'with the DSN owed');
    assert.equal((await inbox()).length, 0, 'no DSN yet');
    assert.ok(left.lease, 'the dead worker still holds the lease');
    await workerOn(store).runOnce();
    assert.equal((await inbox()).length, 0, 'nothing while the dead worker\'s lease runs');
    clock += config.queue.lease_s * 1000 + 1;
    await workerOn(store).runOnce();
    const mails = await inbox();
    assert.equal(mails.length, 1, 'the DSN arrived once');
    assert.match(mails[0].toString(), /Action: failed\r\nStatus: 5\.1\.1/);
    assert.deepEqual(await store.listQueueEntries(), []);
    assert.equal(sink.messages.length, 0, 'the failed message was not sent again');
  });

  it('two workers draining one store at once send every message exactly once', async () => {
    const rcpts = Array.from({ length: 16 }, (_, i) => `w${i}@${i % 2 ? 'remote.test' : 'other.test'}`);
    for (const to of rcpts) await enqueue({ store, config }, MessageSource.fromBuffer(msg(to)), { from: 'alice@example.test', recipients: [{ address: to }] });
    const [a, b] = [worker({ concurrency: 1 }), worker({ concurrency: 1 })];
    // Small claims, so the two interleave instead of one taking everything.
    const worked = await Promise.all([a.runOnce(), b.runOnce()]);
    assert.equal(worked[0] + worked[1], rcpts.length, `claims: ${worked.join(' + ')}`);
    assert.ok(worked[0] > 0 && worked[1] > 0, `both worked: ${worked.join(' + ')}`);
    for (const to of rcpts) assert.equal(sink.messages.filter((m) => m.to.includes(to)).length, 1, `${to} once`);
    assert.deepEqual(await store.listQueueEntries(), []);
  });

  it('a crash after the DSN but before clearing it repeats the same report (same Message-ID), never loses it', async () => {
    const { proxy, state } = crashingStore('clearQueueDsn');
    state.armed = true;
    await enqueue({ store, config }, MessageSource.fromBuffer(msg('crash-clear')), { from: 'alice@example.test', recipients: [{ address: 'bad@remote.test' }] });
    await assert.rejects(workerOn(proxy).runOnce(), /simulated crash/);
    clock += config.queue.lease_s * 1000 + 1;
    await workerOn(store).runOnce();
    const ids = (await inbox()).map((m) => /^Message-ID: (.*)$/im.exec(m.toString())?.[1]);
    assert.equal(ids.length, 2);
    assert.ok(ids[0] && ids[0] === ids[1], `one report id: ${ids.join(' ')}`);
    assert.deepEqual(await store.listQueueEntries(), []);
  });

  it('NOTIFY=SUCCESS past a server without DSN: the sender gets a "relayed" DSN (RFC 3461 5.2.2); with DSN the remote reports', async () => {
    const plain = new Sink({ hideDSN: true });
    await plain.start();
    try {
      const viaPlain = new QueueWorker(
        { store, config: { ...config, queue: { ...config.queue, remote_port: plain.port } }, delivery: deliveryContext(store, config), log },
        { resolver: fakeResolver({ 'remote.test': 'mx.remote.test' }), now: () => new Date(clock) },
      );
      await enqueue({ store, config }, MessageSource.fromBuffer(msg('relay')), { from: 'alice@example.test', envid: 'R-1', recipients: [{ address: 'bob@remote.test', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;bob@remote.test' }, { address: 'carol@remote.test' }] });
      await viaPlain.runOnce();
      assert.deepEqual(plain.messages.flatMap((m) => m.to).sort(), ['bob@remote.test', 'carol@remote.test']);
      const mails = await inbox();
      assert.equal(mails.length, 1, 'one relayed report');
      const text = mails[0].toString();
      assert.match(text, /Content-Type: multipart\/report; report-type=delivery-status/);
      assert.match(text, /Original-Envelope-Id: R-1\r\n/);
      assert.match(text, /Original-Recipient: rfc822;bob@remote\.test\r\nFinal-Recipient: rfc822; bob@remote\.test\r\nAction: relayed\r\nStatus: 2\.0\.0\r\nRemote-MTA: dns; mx\.remote\.test/);
      assert.doesNotMatch(text, /carol@remote\.test>?: relayed|Final-Recipient: rfc822; carol/, 'carol did not ask for success reports');
      assert.deepEqual(await store.listQueueEntries(), []);
      // The default sink offers DSN: NOTIFY goes on with RCPT and the remote reports, not us.
      await enqueue({ store, config }, MessageSource.fromBuffer(msg('dsn-ok')), { from: 'alice@example.test', recipients: [{ address: 'dave@remote.test', notify: ['SUCCESS'] }] });
      await worker().runOnce();
      assert.deepEqual(sink.messages.map((m) => m.to), [['dave@remote.test']]);
      assert.equal((await inbox()).length, 1, 'no second report');
    } finally {
      await plain.stop();
    }
  });
});
