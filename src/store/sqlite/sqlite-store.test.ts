import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { LocalChangeBus } from '../bus.js';
import { storeConformanceSuite, makeContent, rawMessage, readAll, type StoreHarness } from '../conformance.js';
import { isStoreError } from '../errors.js';
import { openStore } from '../open.js';
import type { Store, Uid } from '../types.js';
import { latestVersion, migrate, migrations } from './migrations.js';
import { SqliteStore } from './sqlite-store.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-sqlite-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let counter = 0;
const newDir = (): string => fs.mkdtempSync(path.join(tmpRoot, `t${counter++}-`));

async function harnessAt(dir: string): Promise<StoreHarness> {
  const bus = new LocalChangeBus();
  const store = await openStore({ dataDir: dir, bus });
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

storeConformanceSuite('sqlite', () => harnessAt(newDir()));

async function setup(store: Store) {
  await store.addDomain('example.test');
  const user = await store.addUser('alice@example.test', 'h', []);
  const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
  return { user, inbox };
}

describe('sqlite specifics', () => {
  it('reads back WAL, synchronous=FULL, foreign keys and a busy timeout', async () => {
    const store = (await openStore({ dataDir: newDir(), bus: new LocalChangeBus() })) as SqliteStore;
    const db = store.database;
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.ok((db.pragma('busy_timeout', { simple: true }) as number) >= 1000);
    await store.close();
  });

  it('creates <dataDir>/mailroom.db and <dataDir>/blobs/ab/cd/<hash>', async () => {
    const dir = path.join(newDir(), 'nested', 'data');
    const store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    const { inbox } = await setup(store);
    const content = await makeContent(store, [rawMessage(1)]);
    await store.appendMessage({ mailboxId: inbox.id, content });
    assert.ok(fs.existsSync(path.join(dir, 'mailroom.db')));
    const h = content.segments[0].hash;
    assert.ok(fs.existsSync(path.join(dir, 'blobs', h.slice(0, 2), h.slice(2, 4), h)));
    await store.close();
  });

  it('reopen keeps users, mailboxes, rows, flags, counters and bytes', async () => {
    const dir = newDir();
    let store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    const { user, inbox } = await setup(store);
    const content = await makeContent(store, [rawMessage(1)]);
    const { row } = await store.appendMessage({ mailboxId: inbox.id, content, flags: ['\\Seen', '$Work'] });
    await store.setQuota(user.id, { bytes: 10_000, messages: 10 });
    const before = { box: await store.getMailboxById(inbox.id), rows: await store.listMessages(inbox.id, user.id), q: await store.getQuota(user.id) };
    await store.close();
    store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    assert.deepEqual(await store.getMailboxById(inbox.id), before.box);
    assert.deepEqual(await store.listMessages(inbox.id, user.id), before.rows);
    assert.deepEqual(await store.getQuota(user.id), before.q);
    assert.deepEqual(await readAll(await store.openContent(row.contentId)), rawMessage(1));
    await store.close();
  });

  it('two Store instances on one file append concurrently without UID or MODSEQ clashes', async () => {
    const dir = newDir();
    const a = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    const b = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    const { user, inbox } = await setup(a);
    const one = async (s: Store, tag: string, i: number) =>
      s.appendMessage({ mailboxId: inbox.id, content: await makeContent(s, [rawMessage(`${tag}${i}`)]) });
    await Promise.all(Array.from({ length: 60 }, (_, i) => one(i % 2 ? a : b, 'x', i)));
    const rows = await b.listMessages(inbox.id, user.id);
    assert.deepEqual(rows.map((r) => r.uid), Array.from({ length: 60 }, (_, i) => i + 1));
    assert.equal(new Set(rows.map((r) => r.modSeq)).size, 60);
    assert.equal((await a.getQuota(user.id)).usedMessages, 60);
    await a.close();
    await b.close();
  });

  it('a second thread appending to the same file at the same time gets distinct UIDs', async () => {
    const dir = newDir();
    const store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    const { user, inbox } = await setup(store);
    const modules = {
      open: new URL('../open.js', import.meta.url).href,
      bus: new URL('../bus.js', import.meta.url).href,
      conf: new URL('../conformance.js', import.meta.url).href,
    };
    // The worker runs the same compiled modules on its own connection: real parallelism, one file.
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const { openStore } = await import(workerData.modules.open);
        const { LocalChangeBus } = await import(workerData.modules.bus);
        const { makeContent, rawMessage } = await import(workerData.modules.conf);
        const store = await openStore({ dataDir: workerData.dir, bus: new LocalChangeBus() });
        for (let i = 0; i < workerData.n; i++) {
          await store.appendMessage({ mailboxId: workerData.mailboxId, content: await makeContent(store, [rawMessage('w' + i)]) });
        }
        await store.close();
        parentPort.postMessage('done');
      })().catch((e) => parentPort.postMessage('error: ' + (e && e.stack || e)));`;
    const worker = new Worker(code, { eval: true, workerData: { modules, dir, n: 40, mailboxId: inbox.id } });
    const done = new Promise<string>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    for (let i = 0; i < 40; i++) await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage(`m${i}`)]) });
    assert.equal(await done, 'done');
    await worker.terminate();
    const rows = await store.listMessages(inbox.id, user.id);
    assert.deepEqual(rows.map((r) => r.uid), Array.from({ length: 80 }, (_, i) => i + 1));
    const byUid = [...rows].sort((x, y) => x.uid - y.uid);
    for (let i = 1; i < byUid.length; i++) assert.ok(byUid[i].modSeq > byUid[i - 1].modSeq);
    const box = (await store.getMailboxById(inbox.id))!;
    assert.deepEqual([box.messageCount, box.uidNext], [80, 81]);
    assert.equal((await store.getQuota(user.id)).usedMessages, 80);
    await store.close();
  });

  it('expunged UIDs stay retired across reopen', async () => {
    const dir = newDir();
    let store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    const { user, inbox } = await setup(store);
    for (let i = 0; i < 3; i++) await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage(i)]) });
    await store.expunge(inbox.id, [1, 2, 3] as Uid[]);
    await store.close();
    store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    const r = await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage('again')]) });
    assert.equal(r.row.uid, 4);
    assert.deepEqual((await store.changesSince(inbox.id, 0, user.id)).expunged, [1, 2, 3]);
    await store.close();
  });
});

describe('sqlite migrations', () => {
  it('migrate from an empty database creates every table; re-run is a no-op', () => {
    const db = new Database(':memory:');
    migrate(db);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((t) => t.name);
    for (const t of ['aliases', 'blobs', 'contents', 'domains', 'expunged', 'mailboxes', 'messages', 'meta', 'private_flags', 'schema_migrations', 'subscriptions', 'thread_refs', 'users']) {
      assert.ok(tables.includes(t), t);
    }
    migrate(db);
    const applied = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
    assert.deepEqual(applied.map((r) => r.version), migrations.map((m) => m.version));
    assert.equal(latestVersion, migrations.at(-1)!.version);
    db.close();
  });

  it('applies only pending migrations, in order, atomically', () => {
    const db = new Database(':memory:');
    const log: number[] = [];
    const list = [
      { version: 1, description: 'a', up: () => log.push(1) },
      { version: 2, description: 'b', up: () => log.push(2) },
    ];
    migrate(db, list.slice(0, 1));
    migrate(db, list);
    assert.deepEqual(log, [1, 2]);
    const failing = [...list, { version: 3, description: 'c', up: (d: Database.Database) => { d.exec('CREATE TABLE half (x)'); throw new Error('boom'); } }];
    assert.throws(() => migrate(db, failing), /boom/);
    assert.equal((db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v, 2);
    assert.equal(db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'half'`).get(), undefined, 'rolled back');
    db.close();
  });

  it('migration 5 seeds the mailbox id counter, so the highest id deleted after an upgrade is not handed out again', async () => {
    const dir = newDir();
    let store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    await store.addDomain('example.test');
    const user = await store.addUser('alice@example.test', 'h', []);
    const top = await store.createMailbox(user.id, 'Top');
    await store.close();
    // the database as version 4 left it: no counter yet
    const db = new Database(path.join(dir, 'mailroom.db'));
    db.exec(`DELETE FROM meta WHERE key = 'mailbox_id'; DELETE FROM schema_migrations WHERE version = 5`); // migrate runs every unrecorded version
    db.close();
    store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    await store.deleteMailbox(user.id, 'Top');
    const next = await store.createMailbox(user.id, 'Next');
    assert.ok(next.id > top.id, `got id ${next.id} after deleting ${top.id}`);
    await store.close();
  });

  it("a row without SORT/THREAD keys is answered from its content's index and text, as if keyed", async () => {
    const dir = newDir();
    let store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    const { inbox } = await setup(store);
    for (const n of [1, 2, 3]) {
      const content = await makeContent(store, [rawMessage(`k${n}`)], `Subject: s${n}\nReferences: <k${n - 1}@example.test>\n\nbody`);
      content.index.envelope = { ...content.index.envelope, subject: `s${n}`, messageId: `<k${n}@example.test>` };
      content.index.sentDate = n === 2 ? null : n * 1000;
      await store.appendMessage({ mailboxId: inbox.id, content });
    }
    const keyed = await store.sortKeys(inbox.id, 1 as Uid, true);
    assert.deepEqual(keyed.thread?.map((t) => t.parents), [['k0@example.test'], ['k1@example.test'], ['k2@example.test']]);
    await store.close();
    const db = new Database(path.join(dir, 'mailroom.db'));
    db.exec(`UPDATE messages SET sent_date = NULL, thread_keys = NULL WHERE uid IN (1, 3)`);
    db.close();
    store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    try {
      assert.deepEqual(await store.sortKeys(inbox.id, 1 as Uid, true), keyed);
      const dates = await store.sortKeys(inbox.id, 2 as Uid, false);
      assert.deepEqual([Array.from(dates.uids), Array.from(dates.sentDates)], [[2, 3], [NaN, 3000]]);
    } finally {
      await store.close();
    }
  });

  it('migrations 6 and 23 index the contents stored before them, so SEARCH finds old mail', async () => {
    const dir = newDir();
    let store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    const { inbox } = await setup(store);
    for (const [n, text] of [[1, 'Subject: old\n\nAn Ancient Word'], [2, 'Subject: older\n\nnothing']] as const) {
      await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage(n)], text) });
    }
    await store.close();
    // the database as version 5 left it: no text index yet (6 makes the FTS5 index, 23 the row filters from the contents)
    const db = new Database(path.join(dir, 'mailroom.db'));
    db.exec('ALTER TABLE messages DROP COLUMN text_filter; DELETE FROM schema_migrations WHERE version IN (6, 23)');
    db.close();
    store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    assert.equal(await store.schemaVersion(), latestVersion);
    assert.deepEqual(await store.searchText(inbox.id, 'text', 'ANCIENT'), [1]);
    assert.deepEqual(await store.searchText(inbox.id, 'body', 'old'), []);
    await store.close();
    const after = new Database(path.join(dir, 'mailroom.db'));
    try {
      assert.deepEqual(after.prepare('SELECT count(*) AS n FROM messages WHERE text_filter IS NULL').get(), { n: 0 }, 'every row filtered');
      assert.deepEqual(after.prepare(`SELECT name FROM sqlite_master WHERE name GLOB 'content_*'`).all(), [], 'the FTS5 tables are gone');
    } finally {
      after.close();
    }
  });

  it('a row without a text filter (before a backfill) is still found, and the filter drops rows without the term', async () => {
    const dir = newDir();
    const store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    try {
      const { inbox } = await setup(store);
      for (const [n, text] of [[1, 'Subject: a\n\nzygomorphic flowers'], [2, 'Subject: b\n\nnothing here'], [3, 'Subject: c\n\nzygomorphic too']] as const) {
        await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage(n)], text) });
      }
      (store as SqliteStore).database.prepare('UPDATE messages SET text_filter = NULL WHERE uid = 3').run();
      assert.deepEqual(await store.searchText(inbox.id, 'text', 'Zygomorphic'), [1, 3]);
      // 'candidates' is the filter's answer alone: the row that cannot hold the word is not in it
      assert.deepEqual(await store.searchText(inbox.id, 'candidates', 'zygomorphic'), [1, 3]);
      assert.deepEqual(await store.searchText(inbox.id, 'candidates', 'nothing here'), [2, 3]);
    } finally {
      await store.close();
    }
  });

  it('migration 11 counts the \\Seen and \\Deleted rows stored before it', async () => {
    const dir = newDir();
    let store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    const { user, inbox } = await setup(store);
    const flagSets = [['\\Seen'], ['\\Seen', '\\Deleted'], ['Seen', '$Deleted'], [], ['\\Deleted']];
    for (const [n, flags] of flagSets.entries()) await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage(n)]), flags });
    await store.close();
    // the database as version 10 left it: no counters
    const db = new Database(path.join(dir, 'mailroom.db'));
    db.exec('ALTER TABLE mailboxes DROP COLUMN seen_count; ALTER TABLE mailboxes DROP COLUMN deleted_count; DELETE FROM schema_migrations WHERE version = 11');
    db.close();
    store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    const counts = await store.mailboxCounts(inbox.id, user.id);
    assert.deepEqual([counts.messages, counts.unseen, counts.deleted], [5, 3, 2]);
    await store.close();
  });

  it('a database newer than the code is refused with a clear invalid error', async () => {
    const dir = newDir();
    const store = await openStore({ dataDir: dir, bus: new LocalChangeBus() });
    await store.close();
    const db = new Database(path.join(dir, 'mailroom.db'));
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(latestVersion + 1, Date.now());
    db.close();
    await assert.rejects(openStore({ dataDir: dir, bus: new LocalChangeBus() }), (e) => isStoreError(e, 'invalid') && /newer/.test(e.message));
  });
});

describe('openStore database URLs', () => {
  const rows: [string, RegExp][] = [
    ['mysql://localhost/mail', /"mysql"/],
    ['not a url', /unsupported database URL/],
  ];
  for (const [url, message] of rows) {
    it(`${url} → invalid`, async () => {
      await assert.rejects(openStore({ dataDir: newDir(), databaseUrl: url, bus: new LocalChangeBus() }), (e) => isStoreError(e, 'invalid') && message.test(e.message));
    });
  }

  it('postgres:// and postgresql:// select PostgreSQL (here: nothing listens, so unavailable)', async () => {
    for (const url of ['postgres://u@127.0.0.1:1/mail', 'postgresql://127.0.0.1:1/mail']) {
      await assert.rejects(
        openStore({ dataDir: newDir(), databaseUrl: url, bus: new LocalChangeBus(), database: { connect_timeout_ms: 1000 } }),
        (e) => isStoreError(e, 'unavailable') && /PostgreSQL/.test(e.message),
      );
    }
  });

  it('an empty URL selects SQLite', async () => {
    const store = await openStore({ dataDir: newDir(), databaseUrl: '', bus: new LocalChangeBus() });
    assert.ok(store instanceof SqliteStore);
    await store.close();
  });
});

describe('sqlite private flags', () => {
  it('listMessages, getMessages and changesSince merge the viewer’s private flags', async () => {
    const store = (await openStore({ dataDir: newDir(), bus: new LocalChangeBus() })) as SqliteStore;
    const { user, inbox } = await setup(store);
    const bob = await store.addUser('bob@example.test', 'h', []);
    const { row } = await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage(1)]), flags: ['\\Answered'] });
    const mark = (await store.getMailboxById(inbox.id))!.highestModSeq;
    // Written directly: the sharing layer that sets per-person flags comes later; the schema is ready.
    store.database
      .prepare('INSERT INTO private_flags (message_id, user_id, flags, modseq) SELECT id, ?, ?, ? FROM messages WHERE mailbox_id = ? AND uid = ?')
      .run(bob.id, '\\Seen', mark + 1, inbox.id, row.uid);
    store.database.prepare('UPDATE mailboxes SET highest_modseq = ? WHERE id = ?').run(mark + 1, inbox.id);
    assert.deepEqual((await store.listMessages(inbox.id, bob.id))[0].flags, ['\\Answered', '\\Seen']);
    assert.deepEqual((await store.listMessages(inbox.id, user.id))[0].flags, ['\\Answered']);
    assert.deepEqual((await store.getMessages(inbox.id, [row.uid], bob.id))[0].flags, ['\\Answered', '\\Seen']);
    assert.deepEqual((await store.changesSince(inbox.id, mark, bob.id)).changed.map((r) => [r.uid, r.modSeq]), [[row.uid, mark + 1]]);
    assert.deepEqual((await store.changesSince(inbox.id, mark, user.id)).changed, []);
    // STATUS counts merge them the same way: seen for bob only; a flag both shared and private counts once
    assert.deepEqual(await store.mailboxCounts(inbox.id, bob.id), { messages: 1, unseen: 0, deleted: 0, size: row.size });
    assert.deepEqual(await store.mailboxCounts(inbox.id, user.id), { messages: 1, unseen: 1, deleted: 0, size: row.size });
    const second = (await store.appendMessage({ mailboxId: inbox.id, content: { id: row.contentId, existing: true }, flags: ['\\Seen'] })).row;
    store.database
      .prepare('INSERT INTO private_flags (message_id, user_id, flags, modseq) SELECT id, ?, ?, ? FROM messages WHERE mailbox_id = ? AND uid = ?')
      .run(bob.id, '\\Deleted \\Seen', mark + 1, inbox.id, second.uid);
    assert.deepEqual(await store.mailboxCounts(inbox.id, bob.id), { messages: 2, unseen: 0, deleted: 1, size: row.size * 2 });
    assert.deepEqual(await store.mailboxCounts(inbox.id, user.id), { messages: 2, unseen: 1, deleted: 0, size: row.size * 2 });
    await store.expunge(inbox.id, [row.uid, second.uid]);
    assert.equal((store.database.prepare('SELECT count(*) AS n FROM private_flags').get() as { n: number }).n, 0, 'cascade on expunge');
    await store.close();
  });
});
