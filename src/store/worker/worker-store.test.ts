import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { LocalChangeBus, type ChangeEvent } from '../bus.js';
import { storeConformanceSuite, makeContent, rawMessage, readAll, type StoreHarness } from '../conformance.js';
import { isStoreError, StoreError } from '../errors.js';
import { openBackend } from '../open.js';
import { SqliteStore } from '../sqlite/sqlite-store.js';
import type { Store } from '../types.js';
import { WorkerStore } from './proxy.js';
import { adminQuery, freshDatabase, pgSkip } from '../../../test/harness/pg.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-worker-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let counter = 0;
const newDir = (): string => fs.mkdtempSync(path.join(tmpRoot, `t${counter++}-`));

async function openAt(dir: string, bus = new LocalChangeBus(), changePollMs?: number): Promise<WorkerStore> {
  const store = await WorkerStore.open({ file: path.join(dir, 'mailroom.db'), blobDir: path.join(dir, 'blobs'), bus, changePollMs });
  await store.migrate();
  return store;
}

async function harnessAt(dir: string): Promise<StoreHarness> {
  const bus = new LocalChangeBus();
  const store = await openAt(dir, bus);
  return {
    store,
    bus,
    close: () => store.close(),
    reopen: async () => {
      await store.close();
      return harnessAt(dir);
    },
  };
}

storeConformanceSuite('sqlite in a worker thread', () => harnessAt(newDir()));

async function setup(store: Store) {
  await store.addDomain('example.test');
  const user = await store.addUser('alice@example.test', 'h', []);
  const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
  return { user, inbox };
}

/** Resolves with the first event `pred` accepts (keeping the process alive meanwhile: the poller's timer does not). */
function nextEvent(bus: LocalChangeBus, userId: number, pred: (e: ChangeEvent) => boolean): Promise<ChangeEvent> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 1000);
    const off = bus.subscribe(userId, (e) => {
      if (!pred(e)) return;
      off();
      clearInterval(keepAlive);
      resolve(e);
    });
  });
}

describe('store in a worker thread', () => {
  it('runs SQLite on another thread; errors keep their StoreError code, Dates stay Dates', async () => {
    const store = await openAt(newDir());
    assert.ok(store.threadId !== null && store.threadId !== threadId, 'a worker thread, not this one');
    const { user } = await setup(store);
    assert.ok(user.createdAt instanceof Date);
    await assert.rejects(store.addDomain('example.test'), (e) => e instanceof StoreError && e.code === 'exists' && /example\.test|UNIQUE/i.test(e.message));
    await assert.rejects(store.renameMailbox(user.id, 'Nope', 'X'), (e) => isStoreError(e, 'notfound'));
    const login = await store.recordLogin(user.id, 'pop3', new Date(1_700_000_000_000), 0);
    assert.deepEqual(login, { ok: true, previous: null });
    assert.deepEqual((await store.recordLogin(user.id, 'pop3', new Date(1_700_000_001_000), 0)).previous, new Date(1_700_000_000_000));
    await store.close();
    await assert.rejects(store.listDomains(), (e) => isStoreError(e, 'unavailable'));
  });

  it('publishes a call’s change events on the main bus before the call resolves', async () => {
    const bus = new LocalChangeBus();
    const store = await openAt(newDir(), bus);
    const { user, inbox } = await setup(store);
    const events: ChangeEvent[] = [];
    bus.subscribe(user.id, (e) => events.push(e));
    const content = await makeContent(store, [rawMessage(1)]);
    const { row } = await store.appendMessage({ mailboxId: inbox.id, content });
    assert.deepEqual(events, [{ kind: 'append', userId: user.id, mailboxId: inbox.id, modSeq: row.modSeq }], 'already there when the append resolved');
    await store.updateFlags({ mailboxId: inbox.id, uids: [row.uid], op: 'add', flags: ['\\Seen'], viewerId: user.id });
    assert.deepEqual(events.map((e) => e.kind), ['append', 'flags']);
    await store.close();
  });

  it('serves message bytes on the main thread from the blob files, across segments and ranges', async () => {
    const store = await openAt(newDir());
    const { inbox } = await setup(store);
    const raw = rawMessage('big', 'x'.repeat(300_000));
    const content = await makeContent(store, [raw.subarray(0, 40), raw.subarray(40, 200_000), raw.subarray(200_000)]);
    await store.appendMessage({ mailboxId: inbox.id, content });
    assert.deepEqual(await readAll(await store.openContent(content.id)), raw);
    assert.deepEqual(await readAll(await store.openContent(content.id, 30, 250_000)), raw.subarray(30, 250_000));
    await assert.rejects(store.openContent('a'.repeat(64)), (e) => isStoreError(e, 'notfound'));
    await store.close();
  });

  it('a commit by another connection (the CLI) rings RECHECK on the bus once per change, from the one poller', async () => {
    const dir = newDir();
    const bus = new LocalChangeBus();
    const store = await openAt(dir, bus, 20);
    const { user, inbox } = await setup(store);
    const cli = new SqliteStore({ file: path.join(dir, 'mailroom.db'), blobDir: path.join(dir, 'blobs'), bus: new LocalChangeBus() });
    const rechecks: ChangeEvent[] = [];
    bus.subscribe(user.id, (e) => void (e.kind === 'recheck' && rechecks.push(e)));
    // A subscriber of another user hears it too: the poller does not know whose mailbox moved.
    const other = nextEvent(bus, 999, (e) => e.kind === 'recheck');
    const heard = nextEvent(bus, user.id, (e) => e.kind === 'recheck');
    await cli.appendMessage({ mailboxId: inbox.id, content: await makeContent(cli, [rawMessage('cli')]) });
    assert.deepEqual(await heard, { kind: 'recheck', userId: 0, mailboxId: 0, modSeq: 0 });
    await other;
    assert.equal((await store.getMailboxById(inbox.id))!.messageCount, 1, 'the worker reads what the CLI committed');
    // Our own commits do not move data_version of our connection: no recheck for them.
    const before = rechecks.length;
    const own = nextEvent(bus, user.id, (e) => e.kind === 'append');
    await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage('own')]) });
    await own;
    await cli.setPassword(user.id, 'h2'); // a later CLI commit: proves the poller ran past our own commit
    await nextEvent(bus, user.id, (e) => e.kind === 'recheck');
    assert.equal(rechecks.length, before + 1, 'one recheck: for the CLI commit, none for our own append');
    await cli.close();
    await store.close();
  });

  it('keeps the event loop turning while the worker commits 200 appends', async () => {
    const store = await openAt(newDir());
    const { user, inbox } = await setup(store);
    const contents = [];
    for (let i = 0; i < 200; i++) contents.push(await makeContent(store, [rawMessage(`r${i}`)]));
    let ticks = 0;
    let spinning = true;
    const spin = () => {
      ticks++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const start = ticks;
    // All 200 in flight at once: in process they would run back to back on this thread.
    await Promise.all(contents.map((content) => store.appendMessage({ mailboxId: inbox.id, content })));
    const during = ticks - start;
    spinning = false;
    assert.ok(during > 0, `the loop turned ${during} times while 200 commits ran`);
    assert.equal((await store.listMessages(inbox.id, user.id)).length, 200);
    await store.close();
  });

  it('a dead worker fails calls in flight with unavailable; a new one serves, and its poller runs without a call', async () => {
    const dir = newDir();
    const bus = new LocalChangeBus();
    const store = await openAt(dir, bus, 20);
    const { user, inbox } = await setup(store);
    const first = store.threadId;
    // Simulate a crash of the thread (an OOM, a native fault) by terminating it behind the proxy's back.
    const inFlight = store.listMailboxes(user.id).then(
      () => 'answered',
      (e: unknown) => (isStoreError(e, 'unavailable') ? 'unavailable' : String(e)),
    );
    await (store as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    assert.ok(['answered', 'unavailable'].includes(await inFlight));
    // No call made: the replacement starts by itself and its poller hears the CLI.
    const cli = new SqliteStore({ file: path.join(dir, 'mailroom.db'), blobDir: path.join(dir, 'blobs'), bus: new LocalChangeBus() });
    const heard = nextEvent(bus, user.id, (e) => e.kind === 'recheck');
    const keepAlive = setInterval(() => {}, 1000);
    while (store.threadId === null || store.threadId === first || store.threadId < 0) await new Promise((r) => setTimeout(r, 50));
    clearInterval(keepAlive);
    // Replaced without a call. A reply now means its poller took its first reading (else the CLI commit would be its baseline).
    assert.equal((await store.getUserById(user.id))?.address, 'alice@example.test');
    await cli.appendMessage({ mailboxId: inbox.id, content: await makeContent(cli, [rawMessage('after crash')]) });
    await heard;
    await cli.close();
    await store.close();
  });

  it('a store that cannot open rejects open() with its StoreError', async () => {
    const dir = newDir();
    fs.writeFileSync(path.join(dir, 'mailroom.db'), 'this is not a database, just forty-odd bytes of text');
    await assert.rejects(openAt(dir), (e) => e instanceof StoreError);
  });
});

describe('openBackend on SQLite', () => {
  for (const [name, sqliteWorker] of [['worker thread (default)', undefined], ['in process', false]] as const) {
    it(`${name}: serves the contract and rings RECHECK for another process’s commits`, async () => {
      const dir = newDir();
      const backend = await openBackend({ dataDir: dir, database: { sqlite_worker: sqliteWorker, change_poll_ms: 20 } });
      assert.equal(backend.store instanceof WorkerStore, sqliteWorker !== false);
      const { user, inbox } = await setup(backend.store);
      const cli = new SqliteStore({ file: path.join(dir, 'mailroom.db'), blobDir: path.join(dir, 'blobs'), bus: new LocalChangeBus() });
      const heard = nextEvent(backend.bus as LocalChangeBus, user.id, (e) => e.kind === 'recheck');
      await cli.appendMessage({ mailboxId: inbox.id, content: await makeContent(cli, [rawMessage('cli')]) });
      await heard;
      assert.equal((await backend.store.listMessages(inbox.id, user.id)).length, 1);
      await cli.close();
      await backend.close();
    });
  }
});

describe('openBackend on PostgreSQL', { skip: pgSkip, timeout: 60_000 }, () => {
  it('rings RECHECK when the LISTEN connection is back after a loss (NOTIFYs meanwhile are gone)', async () => {
    const db = await freshDatabase();
    const states: string[] = [];
    const backend = await openBackend({ dataDir: newDir(), databaseUrl: db.url, onBusState: (state) => states.push(state) });
    try {
      const heard = nextEvent(backend.bus as unknown as LocalChangeBus, 42, (e) => e.kind === 'recheck');
      // Kill the LISTEN connection (and the pool's): the bus reconnects by itself.
      await adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
      assert.deepEqual(await heard, { kind: 'recheck', userId: 0, mailboxId: 0, modSeq: 0 });
      assert.deepEqual(states.slice(-2), ['lost', 'listening']);
    } finally {
      await backend.close();
      await db.drop();
    }
  });
});
