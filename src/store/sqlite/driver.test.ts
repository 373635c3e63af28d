import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LocalChangeBus, type ChangeEvent } from '../bus.js';
import { makeContent, rawMessage } from '../conformance.js';
import { isStoreError, StoreError } from '../errors.js';
import { openStore } from '../open.js';
import { SqliteDriver } from './driver.js';
import type { SqliteStore } from './sqlite-store.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-sqlite-driver-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let counter = 0;
const newDir = (): string => fs.mkdtempSync(path.join(tmpRoot, `t${counter++}-`));

/** A write transaction that holds the writer until `release()` is called. */
function blocker(driver: SqliteDriver) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const done = driver.transaction('write', async (c) => {
    await c.exec('INSERT INTO t (v) VALUES (?)', ['blocker']);
    entered();
    await gate;
  });
  return { done, inside, release };
}

function freshDriver(): { driver: SqliteDriver; file: string } {
  const file = path.join(newDir(), 'd.sqlite');
  const driver = new SqliteDriver(file);
  driver.writer.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)');
  return { driver, file };
}

describe('sqlite driver: group commit', () => {
  it('write transactions queued behind a running one share one COMMIT; a failing one rolls back only itself', async () => {
    const { driver, file } = freshDriver();
    const b = blocker(driver);
    await b.inside;
    const before = driver.commits;
    const ok1 = driver.transaction('write', (c) => c.exec('INSERT INTO t (v) VALUES (?)', ['one']));
    const bad = driver.transaction('write', async (c) => {
      await c.exec('INSERT INTO t (v) VALUES (?)', ['doomed']);
      throw new StoreError('invalid', 'this one fails');
    });
    const dup = driver.transaction('write', (c) => c.exec('INSERT INTO t (v) VALUES (?)', ['one'])); // UNIQUE: 'exists'
    const ok2 = driver.transaction('write', (c) => c.exec('INSERT INTO t (v) VALUES (?)', ['two']));
    b.release();
    await b.done;
    await ok1;
    await ok2;
    await assert.rejects(bad, (e) => isStoreError(e, 'invalid'));
    await assert.rejects(dup, (e) => isStoreError(e, 'exists'));
    assert.equal(driver.commits - before, 2, 'the blocker, then one COMMIT for the four queued behind it');
    const other = new Database(file, { readonly: true });
    assert.deepEqual((other.prepare('SELECT v FROM t ORDER BY id').all() as { v: string }[]).map((r) => r.v), ['blocker', 'one', 'two']);
    other.close();
    await driver.close();
  });

  it("a batch of only 'ephemeral' writes commits without its own fsync (synchronous=NORMAL); one with a durable write keeps FULL", async () => {
    const { driver, file } = freshDriver();
    const level = (c: Parameters<Parameters<SqliteDriver['transaction']>[1]>[0]) => c.query<{ synchronous: number }>('PRAGMA synchronous').then((r) => r[0].synchronous);
    const alone = await driver.transaction('ephemeral', async (c) => {
      await c.exec('INSERT INTO t (v) VALUES (?)', ['lease']);
      return level(c);
    });
    assert.equal(alone, 1, 'NORMAL while the ephemeral batch commits');
    assert.equal(driver.writer.pragma('synchronous', { simple: true }), 2, 'FULL again afterwards');
    const b = blocker(driver);
    await b.inside;
    const mixedEphemeral = driver.transaction('ephemeral', (c) => level(c));
    const durable = driver.transaction('write', async (c) => {
      await c.exec('INSERT INTO t (v) VALUES (?)', ['mail']);
      return level(c);
    });
    b.release();
    await b.done;
    assert.equal(await mixedEphemeral, 2, 'batched with a durable write: FULL');
    assert.equal(await durable, 2);
    const other = new Database(file, { readonly: true });
    assert.deepEqual((other.prepare('SELECT v FROM t ORDER BY id').all() as { v: string }[]).map((r) => r.v), ['lease', 'blocker', 'mail']);
    other.close();
    await driver.close();
  });

  it('a read runs on its own connection while a write transaction waits, and sees only committed rows', { timeout: 30_000 }, async () => {
    const { driver } = freshDriver();
    const b = blocker(driver);
    await b.inside;
    const seen = await driver.transaction('read', (c) => c.query<{ v: string }>('SELECT v FROM t'));
    assert.deepEqual(seen, [], 'the uncommitted blocker row is invisible, and the read did not wait for it');
    b.release();
    await b.done;
    assert.deepEqual(await driver.transaction('read', (c) => c.query<{ v: string }>('SELECT v FROM t')), [{ v: 'blocker' }]);
    await driver.close();
  });

  it('N concurrent appends: fewer COMMITs than N, each on disk when its promise resolves, distinct UIDs', async () => {
    const dir = newDir();
    const bus = new LocalChangeBus();
    const events: ChangeEvent[] = [];
    const store = (await openStore({ dataDir: dir, bus })) as SqliteStore;
    await store.addDomain('example.test');
    const user = await store.addUser('a@example.test', 'h', []);
    bus.subscribe(user.id, (e) => events.push(e));
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    const contents = [];
    for (let i = 0; i < 40; i++) contents.push(await makeContent(store, [rawMessage(`g${i}`)]));
    const witness = new Database(path.join(dir, 'mailroom.db'), { readonly: true });
    const visible = witness.prepare('SELECT 1 FROM messages WHERE mailbox_id = ? AND uid = ?');
    const before = store.driver.commits;
    events.length = 0;
    const results = await Promise.all(contents.map(async (content) => {
      const r = await store.appendMessage({ mailboxId: inbox.id, content });
      // Another connection sees the row the moment the promise resolves: it was committed.
      assert.ok(visible.get(inbox.id, r.row.uid), `uid ${r.row.uid} committed before its promise resolved`);
      return r;
    }));
    const commits = store.driver.commits - before;
    assert.ok(commits < 40 && commits >= 1, `40 appends took ${commits} COMMITs`);
    assert.deepEqual(results.map((r) => r.row.uid).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1));
    assert.equal(new Set(results.map((r) => r.row.modSeq)).size, 40, 'one MODSEQ per append, also within one COMMIT');
    assert.equal(events.filter((e) => e.kind === 'append').length, 40, 'one event per transaction, after the shared commit');
    witness.close();
    await store.close();
  });

  it('a failing append in a group leaves the others, their quota and their events intact', async () => {
    const dir = newDir();
    const bus = new LocalChangeBus();
    const events: ChangeEvent[] = [];
    const store = (await openStore({ dataDir: dir, bus })) as SqliteStore;
    await store.addDomain('example.test');
    const user = await store.addUser('a@example.test', 'h', []);
    bus.subscribe(user.id, (e) => events.push(e));
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    const good = [await makeContent(store, [rawMessage('x1')]), await makeContent(store, [rawMessage('x2')])];
    const big = await makeContent(store, [rawMessage('big', 'y'.repeat(5000))]);
    await store.setQuota(user.id, { bytes: 2000, messages: null });
    events.length = 0;
    store.driver.writer.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)');
    const b = blocker(store.driver);
    await b.inside;
    const before = store.driver.commits;
    const first = store.appendMessage({ mailboxId: inbox.id, content: good[0] });
    const over = store.appendMessage({ mailboxId: inbox.id, content: big });
    const second = store.appendMessage({ mailboxId: inbox.id, content: good[1] });
    b.release();
    await b.done;
    const [r1, r2] = [await first, await second];
    await assert.rejects(over, (e) => isStoreError(e, 'overquota'));
    assert.ok(store.driver.commits - before <= 2);
    assert.deepEqual([r1.row.uid, r2.row.uid], [1, 2], 'the failed append took no UID');
    const q = await store.getQuota(user.id);
    assert.deepEqual([q.usedMessages, q.usedBytes], [2, r1.row.size + r2.row.size]);
    assert.equal(await store.hasContent(big.id), false, 'the failed append left no content row');
    assert.deepEqual(events.map((e) => [e.kind, e.modSeq]), [['append', r1.row.modSeq], ['append', r2.row.modSeq]]);
    await store.close();
  });
});
