// `mailroom store copy` SQLite → PostgreSQL → SQLite, through the built binary: every
// domain, user (hash, quota, settings), alias, mailbox (UIDVALIDITY, UIDNEXT,
// HIGHESTMODSEQ, subscriptions), message row (UID, MODSEQ, flags, dates, EMAILID,
// THREADID, UIDL), expunge log, content byte and queue entry must come out unchanged.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalChangeBus } from './bus.js';
import Database from 'better-sqlite3';
import pg from 'pg';
import { COPIED_TABLES, NOT_COPIED_TABLES } from './copy.js';
import { makeContent, minimalIndex, rawMessage, readAll } from './conformance.js';
import { sha } from './conformance/kit.js';
import { openStore } from './open.js';
import type { NewContent, Store, Uid } from './types.js';
import { freshDatabase, pgSkip, type FreshDatabase } from '../../test/harness/pg.js';
import { runCli } from '../../test/harness/server.js';

/** A one-segment content whose bytes go into the database with it. */
function inlineContent(raw: Buffer, searchText: string): NewContent {
  return { id: sha(raw), size: raw.length, segments: [{ hash: sha(raw), size: raw.length, bytes: raw }], index: minimalIndex(raw), searchText };
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-copy-'));

/** Fills a store through the contract with a bit of everything. */
async function populate(store: Store): Promise<void> {
  await store.addDomain('example.test');
  await store.addDomain('other.test');
  const alice = await store.addUser('Alice@example.test', 'scrypt$alice', [{ name: 'Sent', specialUse: '\\Sent' }, { name: 'Archive', specialUse: '\\Archive' }]);
  const bob = await store.addUser('bob@other.test', 'scrypt$bob', []);
  await store.setQuota(alice.id, { bytes: 10_000_000, messages: 500 });
  await store.setUserSetting(alice.id, 'pop3.deleteMode', 'hide');
  await store.addAlias('postmaster@example.test', 'Alice@example.test');
  await store.addAlias('@other.test', 'bob@other.test');
  await store.createMailbox(alice.id, 'Archive/2024');
  await store.setSubscribed(alice.id, 'Archive', true);
  await store.setSubscribed(alice.id, 'Gone', true);
  const inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
  const archive = (await store.getMailbox(alice.id, 'Archive'))!;
  const big = Buffer.alloc(200_000, 'x');
  for (let i = 1; i <= 12; i++) {
    const pieces = i % 4 === 0 ? [rawMessage(i), big] : [rawMessage(i)];
    // Odd ones kept inside the database (store/blob/inline.ts): their rows, packed search text included, travel as rows.
    const content = i % 2 === 1 ? inlineContent(rawMessage(i), `text ${i}`) : await makeContent(store, pieces, `text ${i}`);
    await store.appendMessage({ mailboxId: inbox.id, content, flags: i % 3 === 0 ? ['\\Seen', '$Label1'] : [], threadKeys: [`<t${i % 2}@x>`], internalDate: new Date(Date.UTC(2020, 0, i)) });
  }
  await store.updateFlags({ mailboxId: inbox.id, uids: [2, 3] as Uid[], op: 'add', flags: ['\\Flagged'], viewerId: alice.id });
  await store.expunge(inbox.id, [5, 6] as Uid[]);
  await store.copyMessages(inbox.id, [1, 4] as Uid[], archive.id);
  await store.moveMessages(inbox.id, [7] as Uid[], archive.id);
  await store.setUidl(inbox.id, 8 as Uid, 'legacy-uidl-8');
  // One message kept in Recently Deleted, with its record (a sixth mailbox)
  await store.setRetention({ keepDeleted: true, countQuota: false, mailboxName: 'Recently Deleted' });
  await store.expunge(inbox.id, [9] as Uid[], { protocol: 'imap', actor: 'Alice@example.test' });
  // Per-user state a client would miss after a move: annotations, vacation memory, URLAUTH keys, login history.
  await store.setMetadata({ userId: alice.id, viewerId: alice.id, mailboxId: inbox.id }, [{ name: '/private/comment', value: Buffer.from('mine') }, { name: '/shared/comment', value: Buffer.from('ours') }], { maxValueSize: 1024, maxEntries: 10 });
  await store.setMetadata({ userId: alice.id, viewerId: alice.id, mailboxId: null }, [{ name: '/private/vendor/x/colour', value: Buffer.from('red') }], { maxValueSize: 1024, maxEntries: 10 });
  await store.claimVacationReply(alice.id, 'friend@remote.test', new Date(Date.UTC(2024, 0, 1)), 86_400_000);
  await store.ensureUrlAuthKey(alice.id, inbox.id);
  await store.setAcl({ mailboxId: archive.id, identifier: 'bob@other.test', mode: 'set', rights: 'lrs' });
  await store.noteLoginOrigin(alice.id, 'address:192.0.2.7', new Date(Date.UTC(2024, 0, 2)));
  await store.recordFailedLogin({ at: new Date(Date.UTC(2024, 0, 3)), userId: alice.id, username: 'Alice@example.test', protocol: 'imap', address: '192.0.2.9', device: null, reason: 'invalid' });
  const bobInbox = (await store.getMailbox(bob.id, 'INBOX'))!;
  await store.appendMessage({ mailboxId: bobInbox.id, content: await makeContent(store, [rawMessage('bob')]) });
  await store.enqueueMessage({ content: await makeContent(store, [rawMessage('queued')]), from: 'alice@example.test', recipients: [{ address: 'x@remote.test', notify: ['FAILURE'] }], params: { envid: 'E1' } });
}

/** Everything a client or the server could observe, as plain data. */
async function snapshot(store: Store): Promise<unknown> {
  const users = [];
  for (const u of await store.listUsers()) {
    const boxes = [];
    for (const b of await store.listMailboxes(u.id)) {
      const rows = await store.listMessages(b.id, u.id);
      const contents = [];
      for (const r of rows) {
        const c = await store.getContent(r.contentId);
        contents.push({ meta: c, bytes: (await readAll(await store.openContent(r.contentId))).toString('base64').length });
      }
      boxes.push({ box: b, acl: await store.getAcl(b.id), rows, contents, changes: await store.changesSince(b.id, 0, u.id), search: await store.searchText(b.id, 'text', 'TEXT 1') });
    }
    const inbox = (await store.getMailbox(u.id, 'INBOX'))!;
    const notes = {
      mailbox: await store.getMetadata({ userId: u.id, viewerId: u.id, mailboxId: inbox.id }, ['/private', '/shared'], 'infinity'),
      server: await store.getMetadata({ userId: u.id, viewerId: u.id, mailboxId: null }, ['/private', '/shared'], 'infinity'),
      urlauthKey: (await store.getUrlAuthKey(u.id, inbox.id))?.toString('hex') ?? null,
      failedLogins: await store.listFailedLogins(u.id),
    };
    users.push({ user: u, quota: await store.getQuota(u.id), boxes, subs: await store.listSubscriptions(u.id), deleted: await store.listDeleted(u.id), notes });
  }
  const queue = (await store.listQueueEntries()).map((e) => ({ ...e, id: 'id' }));
  return { domains: await store.listDomains(), aliases: await store.listAliases(), users, queue, stats: await store.stats() };
}

describe('store copy: every table of the schema is copied or left behind for a stated reason', () => {
  const listed = (name: string) => (COPIED_TABLES as readonly string[]).includes(name) || name in NOT_COPIED_TABLES;

  it('SQLite', async () => {
    const dir = path.join(root, 'schema');
    await (await openStore({ dataDir: dir, bus: new LocalChangeBus() })).close();
    const db = new Database(path.join(dir, 'mailroom.db'), { readonly: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((t) => t.name);
      assert.ok(tables.includes('messages'));
      assert.deepEqual(tables.filter((t) => !listed(t)), []);
    } finally {
      db.close();
    }
  });

  it('PostgreSQL', { skip: pgSkip }, async () => {
    const fresh = await freshDatabase();
    try {
      await (await openStore({ dataDir: '', databaseUrl: fresh.url, bus: new LocalChangeBus() })).close();
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      try {
        const tables = (await client.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")).rows.map((t) => t.name);
        assert.ok(tables.includes('messages'));
        assert.deepEqual(tables.filter((t) => !listed(t)), []);
      } finally {
        await client.end();
      }
    } finally {
      await fresh.drop();
    }
  });
});

describe('store copy between SQLite and PostgreSQL', { skip: pgSkip, timeout: 240_000 }, () => {
  let db: FreshDatabase | undefined;
  after(async () => {
    await db?.drop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('SQLite → PostgreSQL → SQLite keeps everything; a non-empty target is refused without --force', async () => {
    db = await freshDatabase();
    const dirA = path.join(root, 'a');
    const dirB = path.join(root, 'b');
    const a = await openStore({ dataDir: dirA, bus: new LocalChangeBus() });
    await populate(a);
    const expected = await snapshot(a);
    await a.close();

    const cli = (args: string[]) => runCli(['store', 'copy', ...args], { dataDir: dirA, timeoutMs: 120_000 });
    const toPg = await cli(['--from', `sqlite:${dirA}`, '--to', db.url]);
    assert.equal(toPg.code, 0, toPg.stderr);
    assert.match(toPg.stdout, /copied 2 users, 6 mailboxes, \d+ messages, \d+ blobs/);
    assert.match(toPg.stderr, /messages\s+\[#+\] \d+\/\d+/, 'progress bar on stderr');

    const again = await cli(['--from', `sqlite:${dirA}`, '--to', db.url]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already holds data.*--force/);

    const back = await cli(['--from', db.url, '--to', `sqlite:${dirB}`]);
    assert.equal(back.code, 0, back.stderr);

    const pg = await openStore({ dataDir: '', databaseUrl: db.url, bus: new LocalChangeBus() });
    const b = await openStore({ dataDir: dirB, bus: new LocalChangeBus() });
    try {
      assert.deepEqual(await snapshot(pg), expected, 'PostgreSQL copy');
      assert.deepEqual(await snapshot(b), expected, 'SQLite copy of the PostgreSQL copy');
      for (const [side, store] of [['PostgreSQL', pg], ['SQLite', b]] as const) {
        const id = (await store.getUser('alice@example.test'))!.id;
        assert.equal(await store.claimVacationReply(id, 'friend@remote.test', new Date(Date.UTC(2024, 0, 1, 12)), 86_400_000), false, `${side}: the vacation reply already sent is remembered`);
        assert.equal((await store.noteLoginOrigin(id, 'address:192.0.2.7', new Date(Date.UTC(2024, 0, 4)))).isNew, false, `${side}: a known login origin stays known (no new-device notice)`);
      }
      // The copies keep working: the next UID continues where the source left off.
      const alice = (await b.getUser('alice@example.test'))!;
      const inbox = (await b.getMailbox(alice.id, 'INBOX'))!;
      const r = await b.appendMessage({ mailboxId: inbox.id, content: await makeContent(b, [rawMessage('after')]) });
      assert.equal(r.row.uid, inbox.uidNext);
      assert.equal(r.uidValidity, inbox.uidValidity);
      const pgAlice = (await pg.getUser('alice@example.test'))!;
      const box = await pg.createMailbox(pgAlice.id, 'New after copy');
      assert.ok(box.id > 0);
      await pg.addDomain('third.test');
    } finally {
      await pg.close();
      await b.close();
    }
    const forced = await cli(['--from', `sqlite:${dirA}`, '--to', db.url, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    const pg2 = await openStore({ dataDir: '', databaseUrl: db.url, bus: new LocalChangeBus() });
    try {
      assert.deepEqual(await snapshot(pg2), expected, '--force replaced the target');
    } finally {
      await pg2.close();
    }
  });
});
