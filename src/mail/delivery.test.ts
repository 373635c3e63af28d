import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalChangeBus } from '../store/bus.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { createUser } from './accounts.js';
import { deliver, type DeliveryContext, type RecipientOutcome } from './delivery.js';
import { MessageSource } from './message-source.js';

const message = (subject: string, body = 'Hello there.\r\n') =>
  Buffer.from(`From: a@remote.test\r\nTo: x@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@remote.test>\r\n\r\n${body}`);

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('deliver', () => {
  let dir: string;
  let store: Store;
  let ctx: DeliveryContext;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-deliver-'));
    store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    ctx = { store, ingest: { spoolDir: join(dir, 'tmp'), largePartThreshold: 64 * 1024 } };
    await createUser(store, 'alice@example.test', 'pw');
    await createUser(store, 'bob@example.test', 'pw');
    await createUser(store, 'carol@other.test', 'pw');
    await store.addAlias('sales@example.test', 'alice@example.test');
    await store.addAlias('sales@example.test', 'bob@example.test');
    await store.addAlias('team@example.test', 'sales@example.test');
    await store.addAlias('team@example.test', 'partner@elsewhere.test');
    await store.addAlias('loop1@example.test', 'loop2@example.test');
    await store.addAlias('loop2@example.test', 'loop1@example.test');
    await store.addAlias('@other.test', 'carol@other.test');
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const inboxUids = async (address: string) => {
    const user = (await store.getUser(address))!;
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    return (await store.listMessages(inbox.id, user.id)).map((r) => r.uid as number);
  };

  const table: [string, string[], (o: RecipientOutcome) => void, Record<string, number>][] = [
    ['user', ['alice@example.test'], (o) => assert.equal(o.status, 'delivered'), { 'alice@example.test': 1 }],
    ['user, domain in upper case', ['alice@EXAMPLE.test'], (o) => assert.equal(o.status, 'delivered'), { 'alice@example.test': 1 }],
    ['sub-address', ['bob+lists@example.test'], (o) => assert.equal(o.status, 'delivered'), { 'bob@example.test': 1 }],
    ['alias to two users', ['sales@example.test'], (o) => assert.equal(o.status, 'delivered'), { 'alice@example.test': 1, 'bob@example.test': 1 }],
    ['nested alias with a remote target', ['team@example.test'], (o) => {
      assert.equal(o.status, 'delivered');
      if (o.status === 'delivered') assert.deepEqual(o.remote, ['partner@elsewhere.test']);
    }, { 'alice@example.test': 1, 'bob@example.test': 1 }],
    ['catch-all', ['nobody@other.test'], (o) => assert.equal(o.status, 'delivered'), { 'carol@other.test': 1 }],
    ['unknown', ['nobody@example.test'], (o) => assert.equal(o.status, 'unknown'), {}],
    ['unknown domain', ['x@nowhere.test'], (o) => assert.equal(o.status, 'unknown'), {}],
    ['malformed', ['not an address'], (o) => assert.equal(o.status, 'invalid'), {}],
    ['alias loop ends', ['loop1@example.test'], (o) => assert.equal(o.status, 'unknown'), {}],
  ];
  for (const [name, rcpts, check, expectNew] of table) {
    it(name, async () => {
      const users = ['alice@example.test', 'bob@example.test', 'carol@other.test'];
      const before = Object.fromEntries(await Promise.all(users.map(async (u) => [u, (await inboxUids(u)).length])));
      const [outcome] = await deliver(ctx, MessageSource.fromBuffer(message(name)), rcpts);
      check(outcome);
      for (const u of users) assert.equal((await inboxUids(u)).length - before[u], expectNew[u] ?? 0, u);
    });
  }

  it('one copy per user even when reached through several recipients', async () => {
    const before = (await inboxUids('alice@example.test')).length;
    const outcomes = await deliver(ctx, MessageSource.fromBuffer(message('twice')), ['alice@example.test', 'sales@example.test', 'alice+x@example.test']);
    assert.deepEqual(outcomes.map((o) => o.status), ['delivered', 'delivered', 'delivered']);
    assert.equal((await inboxUids('alice@example.test')).length - before, 1);
  });

  it('stores the exact bytes, also from a stream with bare LF and 8-bit bytes', async () => {
    const raw = Buffer.concat([Buffer.from('Subject: bytes\nX-Latin: '), Buffer.from([0xe9, 0xff]), Buffer.from('\n\nbody\nline\n')]);
    const [o] = await deliver(ctx, await MessageSource.fromStream(Readable.from([raw.subarray(0, 7), raw.subarray(7)]), ctx.ingest.spoolDir, { memoryLimit: 0 }), ['bob@example.test']);
    assert.equal(o.status, 'delivered');
    const user = (await store.getUser('bob@example.test'))!;
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    const rows = await store.listMessages(inbox.id, user.id);
    const last = rows[rows.length - 1];
    assert.deepEqual(await readAll(await store.openContent(last.contentId)), raw);
  });

  it('refuses over quota and stores nothing for that user', async () => {
    const bob = (await store.getUser('bob@example.test'))!;
    const usage = await store.getQuota(bob.id);
    await store.setQuota(bob.id, { bytes: usage.usedBytes + 10, messages: null });
    const before = (await inboxUids('bob@example.test')).length;
    const outcomes = await deliver(ctx, MessageSource.fromBuffer(message('too big', 'x'.repeat(100))), ['bob@example.test', 'alice@example.test']);
    assert.equal(outcomes[0].status, 'overquota');
    assert.equal(outcomes[1].status, 'delivered');
    assert.equal((await inboxUids('bob@example.test')).length, before);
    assert.equal((await store.getQuota(bob.id)).usedBytes, usage.usedBytes);
    await store.setQuota(bob.id, { bytes: null, messages: null });
  });

  it('a user whose INBOX was renamed away gets "failed: no INBOX", others still get their copy, nothing is charged', async () => {
    await createUser(store, 'dora@example.test', 'pw');
    const dora = (await store.getUser('dora@example.test'))!;
    await store.renameMailbox(dora.id, 'INBOX', 'Elsewhere');
    const outcomes = await deliver(ctx, MessageSource.fromBuffer(message('no inbox')), ['dora@example.test', 'alice@example.test']);
    assert.deepEqual(outcomes.map((o) => o.status), ['failed', 'delivered']);
    assert.match((outcomes[0] as { reason: string }).reason, /has no INBOX/);
    assert.equal((await store.getQuota(dora.id)).usedMessages, 0);
    assert.equal((await store.getMailbox(dora.id, 'Elsewhere'))!.messageCount, 0);
  });

  it('the same small message delivered again in another transaction is stored once, referenced twice', async () => {
    const bytes = message('twice', 'the same bytes, sent twice\r\n');
    const s0 = await store.stats();
    await deliver(ctx, MessageSource.fromBuffer(bytes), ['alice@example.test']);
    await deliver(ctx, MessageSource.fromBuffer(bytes), ['alice@example.test']);
    const s1 = await store.stats();
    assert.deepEqual([s1.messages - s0.messages, s1.contents - s0.contents, s1.blobs - s0.blobs], [2, 1, 1]);
  });

  it('stores an attachment shared by two different messages once', async () => {
    const attachment = Buffer.alloc(200 * 1024, 'QUJD').toString('ascii').replace(/.{76}/g, '$&\r\n');
    const mk = (n: number) =>
      Buffer.from(`Subject: shared ${n}\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nnote ${n}\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${attachment}\r\n--b--\r\n`);
    const s0 = await store.stats();
    await deliver(ctx, MessageSource.fromBuffer(mk(1)), ['alice@example.test']);
    await deliver(ctx, MessageSource.fromBuffer(mk(2)), ['alice@example.test']);
    const s1 = await store.stats();
    const logical = s1.logicalBytes - s0.logicalBytes;
    const stored = s1.blobBytes - s0.blobBytes;
    assert.ok(logical > 2 * attachment.length, `logical ${logical}`);
    assert.ok(stored < logical - attachment.length / 2, `stored ${stored} of ${logical}`);
  });

  it('a 50 MB message to three users does not cost 50 MB of heap per copy', async () => {
    const chunk = Buffer.from('x'.repeat(999) + '\n');
    const total = 50 * 1024 * 1024;
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent === 0) this.push(Buffer.from('Subject: big\r\nContent-Type: text/plain\r\n\r\n'));
        if (sent >= total) return void this.push(null);
        sent += chunk.length;
        this.push(chunk);
      },
    });
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = heapBefore;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
    const spooled = await MessageSource.fromStream(source, ctx.ingest.spoolDir);
    const outcomes = await deliver(ctx, spooled, ['alice@example.test', 'bob@example.test', 'carol@other.test']);
    await spooled.dispose();
    clearInterval(timer);
    assert.deepEqual(outcomes.map((o) => o.status), ['delivered', 'delivered', 'delivered']);
    assert.ok(peak - heapBefore < 50 * 1024 * 1024, `heap grew by ${Math.round((peak - heapBefore) / 1048576)} MB`);
  });
});
