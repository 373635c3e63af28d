// The PostgreSQL store under connection loss: every connection of the test database is
// killed (pg_terminate_backend) again and again while appends run. Each append either
// resolves (acknowledged) or fails with StoreError 'unavailable'; afterwards every
// acknowledged message is there, nothing else is, counters are exact, and the same
// store object works again without being reopened.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalChangeBus } from '../bus.js';
import { makeContent, rawMessage } from '../conformance.js';
import { isStoreError } from '../errors.js';
import { adminQuery, freshDatabase, pgSkip, type FreshDatabase } from '../../../test/harness/pg.js';
import { PostgresStore } from './postgres-store.js';

describe('postgres store survives killed connections', { skip: pgSkip, timeout: 180_000 }, () => {
  let db: FreshDatabase;
  before(async () => {
    db = await freshDatabase();
  });
  after(async () => {
    await db?.drop();
  });

  async function killAll(): Promise<number> {
    const r = await adminQuery('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
    return r.rows[0].n as number;
  }

  it('no acknowledged append is lost; failures are unavailable; the store recovers by itself', async () => {
    const store = new PostgresStore({ url: db.url, bus: new LocalChangeBus(), poolSize: 6, connectTimeoutMs: 2000 });
    await store.migrate();
    await store.addDomain('r.test');
    const user = await store.addUser('r@r.test', 'h', []);
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    const acked = new Map<number, string>(); // uid → content id
    const failures: unknown[] = [];
    let killed = 0;
    let stop = false;
    const killer = (async () => {
      while (!stop) {
        await new Promise((r) => setTimeout(r, 150));
        killed += await killAll();
      }
    })();
    await Promise.all(Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 40; i++) {
        try {
          const content = await makeContent(store, [rawMessage(`w${w}-${i}`)]);
          const r = await store.appendMessage({ mailboxId: inbox.id, content });
          acked.set(r.row.uid, r.row.contentId);
        } catch (err) {
          failures.push(err);
        }
      }
    }));
    stop = true;
    await killer;
    assert.ok(killed > 0, 'connections were killed');
    for (const err of failures) assert.ok(isStoreError(err, 'unavailable'), `failure is 'unavailable': ${String(err)}`);
    // Recovered: the same object answers again.
    const rows = await store.listMessages(inbox.id, user.id);
    for (const [uid, contentId] of acked) {
      const row = rows.find((r) => r.uid === uid);
      assert.ok(row, `acknowledged UID ${uid} is stored`);
      assert.equal(row.contentId, contentId);
    }
    const box = (await store.getMailboxById(inbox.id))!;
    assert.equal(box.messageCount, rows.length);
    assert.equal((await store.getQuota(user.id)).usedMessages, rows.length);
    const again = await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage('after')]) });
    assert.equal(again.row.uid, box.uidNext);
    await store.close();
    console.log(`# killed ${killed} connections; ${acked.size} appends acknowledged, ${failures.length} refused as unavailable, ${rows.length} stored`);
  });
});
