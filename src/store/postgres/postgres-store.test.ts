import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { LocalChangeBus } from '../bus.js';
import { storeConformanceSuite, makeContent, rawMessage, readAll, type StoreHarness } from '../conformance.js';
import { isStoreError } from '../errors.js';
import type { Uid } from '../types.js';
import { freshDatabase, pgSkip, type FreshDatabase } from '../../../test/harness/pg.js';
import { pgLatestVersion, pgMigrations } from './migrations.js';
import { PgDriver } from './db.js';
import { CHANGE_CHANNEL, parseChangePayload } from './change-bus.js';
import { PostgresStore } from './postgres-store.js';
import { indexMessage } from '../../mime/index-message.js';
import { searchText } from '../../mime/search-text.js';
import { filterProbe, mayContain } from '../core/text-filter.js';
import { indexForm } from '../core/text-search.js';

let db: FreshDatabase | undefined;
let counter = 0;

/**
 * Each harness works in a schema of the run's database. A suite's schema is created and
 * migrated once and emptied (TRUNCATE … RESTART IDENTITY) for every test: an empty,
 * migrated store in milliseconds instead of a migration per test.
 */
async function harness(schema = `s${counter++}`, blobDir?: string, empty = false): Promise<StoreHarness> {
  if (!db) db = await freshDatabase();
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    if (empty) {
      const tables = await admin.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'`, [schema]);
      if (tables.rows.length > 0) {
        await admin.query(`TRUNCATE ${tables.rows.map((t: { tablename: string }) => `${schema}.${t.tablename}`).join(', ')} RESTART IDENTITY CASCADE`);
        await admin.query(`INSERT INTO ${schema}.meta (key, value) VALUES ('uidvalidity', '0')`);
      }
    }
  } finally {
    await admin.end();
  }
  const url = `${db.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const bus = new LocalChangeBus();
  const store = new PostgresStore({ url, bus, poolSize: 12, blobDir, connectTimeoutMs: 30_000 });
  await store.migrate();
  return {
    store,
    bus,
    close: () => store.close(),
    reopen: async () => {
      await store.close();
      return harness(schema, blobDir);
    },
  };
}

describe('postgres store', { skip: pgSkip }, () => {
  after(async () => {
    await db?.drop();
  });

  storeConformanceSuite('postgres', () => harness('conformance_db', undefined, true));
  storeConformanceSuite('postgres with a shared blob directory', () =>
    harness('conformance_dir', fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-pgblobs-')), true));

  describe('postgres specifics', () => {
    let h: StoreHarness;
    before(async () => {
      h = await harness();
    });
    after(async () => {
      await h.close();
    });

    it('has the same schema versions as SQLite and migrates to the latest', async () => {
      const { migrations } = await import('../sqlite/migrations.js');
      assert.deepEqual(pgMigrations.map((m) => [m.version, m.description]), migrations.map((m) => [m.version, m.description]));
      assert.equal(await h.store.schemaVersion(), pgLatestVersion);
    });

    it('two stores (two nodes) appending to one mailbox concurrently get distinct increasing UIDs', async () => {
      const other = await h.reopen!();
      h = other;
      const second = await harness(`s${counter - 1}`);
      try {
        const a = h.store;
        const b = second.store;
        await a.addDomain('nodes.test');
        const u = await a.addUser('n@nodes.test', 'h', []);
        const inbox = (await a.getMailbox(u.id, 'INBOX'))!;
        const results = await Promise.all(Array.from({ length: 60 }, async (_, i) => {
          const s = i % 2 === 0 ? a : b;
          const content = await makeContent(s, [rawMessage(`node-${i}`)]);
          return s.appendMessage({ mailboxId: inbox.id, content });
        }));
        const uids = results.map((r) => r.row.uid).sort((x, y) => x - y);
        assert.deepEqual(uids, Array.from({ length: 60 }, (_, i) => i + 1));
        const modSeqs = new Set(results.map((r) => r.row.modSeq));
        assert.equal(modSeqs.size, 60, 'one MODSEQ per append');
        const rows = await b.listMessages(inbox.id, u.id);
        assert.equal(rows.length, 60);
        const q = await a.getQuota(u.id);
        assert.equal(q.usedBytes, rows.reduce((s, r) => s + r.size, 0));
        const body = await readAll(await b.openContent(rows[7].contentId, 3, 20));
        assert.equal(body.length, 17);
      } finally {
        await second.close();
      }
    });

    it('a range read of a large blob returns exactly the asked bytes', async () => {
      await h.store.addDomain('big.test');
      const u = await h.store.addUser('big@big.test', 'h', []);
      const inbox = (await h.store.getMailbox(u.id, 'INBOX'))!;
      const big = Buffer.alloc(3 * 1024 * 1024 + 17);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 9)) & 0xff;
      const raw = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), big]);
      const content = await makeContent(h.store, [raw.subarray(0, 100), raw.subarray(100)]);
      await h.store.appendMessage({ mailboxId: inbox.id, content });
      for (const [s, e] of [[0, raw.length], [99, 101], [262_000, 1_300_001], [raw.length - 5, raw.length + 50]]) {
        assert.ok((await readAll(await h.store.openContent(content.id, s, e))).equals(raw.subarray(s, e)), `range ${s}-${e}`);
      }
    });

    it('migrations 6 and 24 index the contents stored before them (24: a filter per row, no pg_trgm), so SEARCH finds old mail', async () => {
      const schema = `s${counter++}`;
      let t = await harness(schema);
      await t.store.addDomain('old.test');
      const u = await t.store.addUser('old@old.test', 'h', []);
      const inbox = (await t.store.getMailbox(u.id, 'INBOX'))!;
      for (const [n, text] of [[1, 'Subject: old\n\nAn Ancient Word'], [2, 'Subject: older\n\nnothing']] as const) {
        await t.store.appendMessage({ mailboxId: inbox.id, content: await makeContent(t.store, [rawMessage(`pg-old-${n}`)], text) });
      }
      await t.close();
      // the schema as version 5 left it: no text index yet (6 makes content_search, 24 the row filters)
      const admin = new pg.Client({ connectionString: db!.url });
      await admin.connect();
      try {
        await admin.query(`ALTER TABLE ${schema}.messages DROP COLUMN text_filter; DELETE FROM ${schema}.schema_migrations WHERE version IN (6, 24)`);
        t = await harness(schema);
        assert.equal((await admin.query(`SELECT to_regclass('${schema}.content_search') AS t`)).rows[0].t, null, 'content_search is gone');
        assert.equal((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.messages WHERE text_filter IS NULL`)).rows[0].n, 0, 'every row filtered');
        const lz4 = (await admin.query(`SELECT 'lz4' = ANY(enumvals) AS y FROM pg_settings WHERE name = 'default_toast_compression'`)).rows[0]?.y === true;
        const compression = await admin.query(`SELECT attname, attcompression FROM pg_attribute WHERE attrelid = '${schema}.contents'::regclass AND attname IN ('idx', 'search_text') ORDER BY attname`);
        assert.deepEqual(compression.rows.map((r: { attcompression: string }) => r.attcompression), lz4 ? ['l', 'l'] : ['', '']);
      } finally {
        await admin.end();
      }
      try {
        assert.equal(await t.store.schemaVersion(), pgLatestVersion);
        assert.deepEqual(await t.store.searchText(inbox.id, 'text', 'ANCIENT'), [1]);
        assert.deepEqual(await t.store.searchText(inbox.id, 'body', 'old'), []);
      } finally {
        await t.close();
      }
    });

    it("the database's filter test passes exactly the rows mayContain passes, and rows without a filter", async () => {
      await h.store.addDomain('filter.test');
      const u = await h.store.addUser('f@filter.test', 'h', []);
      const inbox = (await h.store.getMailbox(u.id, 'INBOX'))!;
      const words = ['zygomorphic', 'flowers', 'quarterly', 'report', 'été', 'naïve', 'Straße', '東京都', 'x', 'invoice', 'meeting', 'budget'];
      const texts = Array.from({ length: 40 }, (_, i) => `Subject: m${i}\n\n${words.filter((_, w) => (i * 7 + w * 3) % 5 < 2).join(' ')} ${i}`);
      for (const [i, text] of texts.entries()) await h.store.appendMessage({ mailboxId: inbox.id, content: await makeContent(h.store, [rawMessage(`filter-${i}`)], text) });
      const unfiltered = 7; // a row stored before its filter (a backfill pending) may hold anything
      await (h.store as PostgresStore).pool.query('UPDATE messages SET text_filter = NULL WHERE mailbox_id = $1 AND uid = $2', [inbox.id, unfiltered]);
      const rows = (await (h.store as PostgresStore).pool.query('SELECT uid, text_filter FROM messages WHERE mailbox_id = $1 ORDER BY uid', [inbox.id])).rows as { uid: number; text_filter: Buffer | null }[];
      let narrowed = 0;
      for (const term of [...words, 'zygo', 'morph', 'ort 1', 'ete', 'tok', 'nothing', 'quarterly report', '東京']) {
        const indexTerm = indexForm(term);
        if ([...indexTerm].length < 3) continue;
        const probe = filterProbe(indexTerm);
        const expected = rows.filter((r) => mayContain(r.text_filter, probe)).map((r) => Number(r.uid));
        assert.deepEqual(await h.store.searchText(inbox.id, 'candidates', term), expected, term);
        assert.ok(expected.includes(unfiltered), term);
        if (expected.length < rows.length) narrowed++;
        // and the exact rule on what the filter passed
        const exact = texts.flatMap((text, i) => (indexForm(text).includes(indexTerm) ? [i + 1] : []));
        assert.deepEqual(await h.store.searchText(inbox.id, 'text', term), exact, term);
      }
      assert.ok(narrowed >= 10, `the filter narrowed ${narrowed} terms`);
    });

    it('migration 22 keys the rows stored before it for SORT/THREAD as delivery does', async () => {
      const schema = `s${counter++}`;
      let t = await harness(schema);
      await t.store.addDomain('old.test');
      const u = await t.store.addUser('keys@old.test', 'h', []);
      const inbox = (await t.store.getMailbox(u.id, 'INBOX'))!;
      const raws = [
        'Subject: =?utf-8?q?caf=C3=A9?=\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\nMessage-ID: <a@x>\r\n\r\none\r\n',
        'Subject: Re: cafe\r\nMessage-ID: <b@x>\r\nReferences: <a@x>\r\n <gone@x>\r\nIn-Reply-To: <a@x>\r\n\r\ntwo\r\n',
        'Subject: other\r\nDate: junk\r\nIn-Reply-To: <b@x> <a@x>\r\n\r\nthree\r\n',
      ];
      for (const text of raws) {
        const raw = Buffer.from(text);
        const content = await makeContent(t.store, [raw]);
        content.index = indexMessage(raw);
        content.searchText = searchText(raw, content.index);
        await t.store.appendMessage({ mailboxId: inbox.id, content });
      }
      const delivered = await t.store.sortKeys(inbox.id, 1 as Uid, true);
      assert.deepEqual(delivered.thread?.map((k) => [k.subject, k.messageId, k.parents]), [['=?utf-8?q?caf=C3=A9?=', 'a@x', []], ['Re: cafe', 'b@x', ['a@x', 'gone@x']], ['other', null, ['b@x']]]);
      await t.close();
      // the schema as version 21 left it: no key columns
      const admin = new pg.Client({ connectionString: db!.url });
      await admin.connect();
      try {
        await admin.query(`ALTER TABLE ${schema}.messages DROP COLUMN sent_date, DROP COLUMN thread_keys; DELETE FROM ${schema}.schema_migrations WHERE version = 22`);
        t = await harness(schema);
        const unkeyed = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.messages WHERE thread_keys IS NULL`);
        assert.equal(unkeyed.rows[0].n, 0);
      } finally {
        await admin.end();
      }
      try {
        assert.deepEqual(await t.store.sortKeys(inbox.id, 1 as Uid, true), delivered);
      } finally {
        await t.close();
      }
    });

    it("driver modes: 'one' runs a single statement and refuses a second; 'ephemeral' commits with synchronous_commit off; NOTIFY goes with COMMIT", async () => {
      const store = h.store as PostgresStore;
      const driver = new PgDriver(store.pool);
      assert.deepEqual(await driver.transaction('one', (c) => c.query<{ n: number }>('SELECT ?::int AS n', [7])), [{ n: 7 }]);
      await assert.rejects(
        driver.transaction('one', async (c) => {
          await c.query('SELECT 1 AS n');
          await c.query('SELECT 2 AS n');
        }),
        (e) => isStoreError(e, 'invalid'),
      );
      const setting = (c: Parameters<Parameters<PgDriver['transaction']>[1]>[0]) => c.get<{ synchronous_commit: string }>('SHOW synchronous_commit').then((r) => r!.synchronous_commit);
      assert.equal(await driver.transaction('ephemeral', setting), 'off');
      assert.equal(await driver.transaction('write', setting), 'on');
    });

    it('other nodes hear committed changes in commit order from a connection of their own, never from the write transaction, and nothing of a rolled-back write', async () => {
      const store = h.store as PostgresStore;
      await store.addDomain('notify.test');
      const u = await store.addUser('n@notify.test', 'h', []);
      await store.setQuota(u.id, { bytes: null, messages: 2 });
      const inbox = (await store.getMailbox(u.id, 'INBOX'))!;
      const listener = new pg.Client({ connectionString: db!.url });
      await listener.connect();
      try {
        const heard: { payload: string; pid: number }[] = [];
        listener.on('notification', (n) => heard.push({ payload: n.payload ?? '', pid: n.processId }));
        await listener.query(`LISTEN ${CHANGE_CHANNEL}`);
        for (let i = 0; i < 3; i++) {
          await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage(`notify-${i}`)]) }).catch((e: unknown) => {
            if (!isStoreError(e, 'overquota') || i !== 2) throw e; // the third passes the quota: rolled back
          });
        }
        // the write connections: every idle client of the store's pool (the appends just used them)
        const clients = await Promise.all(Array.from({ length: store.pool.idleCount }, () => store.pool.connect()));
        const writers = new Set<number>();
        for (const c of clients) {
          writers.add((await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number);
          c.release();
        }
        await store.close(); // sends what is pending
        await listener.query('SELECT 1'); // notifications are read before this answer
        const appends = heard.map((n) => ({ ...parseChangePayload(n.payload)!, pid: n.pid })).filter((e) => e.mailboxId === inbox.id);
        assert.deepEqual(appends.map((e) => [e.kind, e.origin]), [['append', store.origin], ['append', store.origin]], 'two committed appends, the rolled-back one unheard');
        assert.ok(appends[0].modSeq < appends[1].modSeq, 'in commit order');
        assert.ok(writers.size > 0);
        for (const e of appends) assert.ok(!writers.has(e.pid), `NOTIFY from backend ${e.pid}, a write connection (${[...writers].join(', ')})`);
      } finally {
        await listener.end();
        h = await h.reopen!();
      }
    });

    it('an unreachable server is StoreError unavailable', async () => {
      const bus = new LocalChangeBus();
      const store = new PostgresStore({ url: 'postgres://postgres@127.0.0.1:1/none', bus, connectTimeoutMs: 1000 });
      await assert.rejects(store.listDomains(), (e) => isStoreError(e, 'unavailable'));
      await assert.rejects(store.getMessages(1, [1 as Uid], 1), (e) => isStoreError(e, 'unavailable'));
      await store.close();
    });
  });
});
