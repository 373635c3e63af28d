// The purge job: the retention period with a clock given to it (no sleeping), one node at a
// time through the store lease, and the settings taken from the config.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalChangeBus } from '../store/bus.js';
import { makeContent, rawMessage } from '../store/conformance.js';
import { openStore } from '../store/open.js';
import type { Store, Uid } from '../store/types.js';
import { loadConfig } from '../config/load.js';
import { actorOf, purgeDeletedOnce, retentionSettings, startDeletedPurge } from './recently-deleted.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-purge-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
const DAY = 24 * 60 * 60 * 1000;

async function storeWithDeleted(): Promise<{ store: Store; deletedAt: Date; userId: number }> {
  const store = await openStore({
    dataDir: fs.mkdtempSync(path.join(tmpRoot, 's-')),
    bus: new LocalChangeBus(),
    retention: { keepDeleted: true, countQuota: false, mailboxName: 'Recently Deleted' },
  });
  await store.addDomain('example.test');
  const user = await store.addUser('alice@example.test', 'h', []);
  const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
  const { row } = await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage(1)]) });
  await store.expunge(inbox.id, [row.uid as Uid], { protocol: 'imap', actor: 'alice@example.test' });
  const [d] = await store.listDeleted(user.id);
  return { store, deletedAt: d.deletedAt, userId: user.id };
}

describe('purge of Recently Deleted', () => {
  it('keeps mail until the period is over, then purges it', async () => {
    const { store, deletedAt, userId } = await storeWithDeleted();
    try {
      assert.equal(await purgeDeletedOnce(store, 30, new Date(deletedAt.getTime() + 29 * DAY), 'node-a'), 0);
      assert.equal((await store.listDeleted(userId)).length, 1);
      assert.equal(await purgeDeletedOnce(store, 30, new Date(deletedAt.getTime() + 30 * DAY + 1), 'node-a'), 1);
      assert.equal((await store.listDeleted(userId)).length, 0);
    } finally {
      await store.close();
    }
  });

  it('skips the run while another node holds the purge lease', async () => {
    const { store, deletedAt } = await storeWithDeleted();
    try {
      assert.ok(await store.acquireLease('retention:purge-deleted', 'node-b', 60_000));
      assert.equal(await purgeDeletedOnce(store, 30, new Date(deletedAt.getTime() + 31 * DAY), 'node-a'), null);
      await store.releaseLease('retention:purge-deleted', 'node-b');
      assert.equal(await purgeDeletedOnce(store, 30, new Date(deletedAt.getTime() + 31 * DAY), 'node-a'), 1);
    } finally {
      await store.close();
    }
  });

  it('the job runs at start with its clock, and stop() waits for the run', async () => {
    const { store, deletedAt, userId } = await storeWithDeleted();
    try {
      const runs: (number | null)[] = [];
      const job = startDeletedPurge({ store, days: 7, intervalMs: 3_600_000, now: () => new Date(deletedAt.getTime() + 8 * DAY), onRun: (n) => runs.push(n) });
      await job.stop();
      assert.deepEqual(runs, [1]);
      assert.equal((await store.listDeleted(userId)).length, 0);
    } finally {
      await store.close();
    }
  });

  it('settings come from retention.*: 0 days keeps nothing new', () => {
    const on = loadConfig({ env: {} });
    assert.deepEqual(retentionSettings(on), { keepDeleted: true, countQuota: false, mailboxName: 'Recently Deleted' });
    const off = loadConfig({ env: { MAILROOM_RETENTION_DELETED_DAYS: '0', MAILROOM_RETENTION_DELETED_COUNTS_QUOTA: 'true' } });
    assert.deepEqual(retentionSettings(off), { keepDeleted: false, countQuota: true, mailboxName: 'Recently Deleted' });
  });
});

describe('actorOf: who deleted, as `deleted list` shows it', () => {
  it('device and person, a person on the account password, else the account', () => {
    const table: [Parameters<typeof actorOf>[1], string][] = [
      [{ member: 'alice', device: { name: "Alice's phone" } }, "Alice's phone (alice)"],
      [{ member: 'owner', device: { name: 'Laptop' } }, 'Laptop (owner)'],
      [{ member: 'bob', device: null }, 'bob'],
      [{ member: 'owner', device: null }, 'family@example.test'],
      [undefined, 'family@example.test'],
    ];
    assert.deepEqual(table.map(([login]) => actorOf('family@example.test', login)), table.map(([, want]) => want));
  });
});
