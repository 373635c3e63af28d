import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalChangeBus, type ChangeEvent } from '../../src/store/bus.js';
import { makeContent, rawMessage } from '../../src/store/conformance.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Uid } from '../../src/store/types.js';
import { Maildrop } from '../../src/mail/maildrop.js';
import { POP3_HIDDEN_KEYWORD, type Pop3Policy } from '../../src/mail/pop3-policy.js';

const policy = (p: Partial<Pop3Policy> = {}): Pop3Policy => ({ deleteMode: 'expunge', markSeen: true, keepDays: null, loginDelay: 0, ...p });

async function setup(n = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'maildrop-'));
  const bus = new LocalChangeBus();
  const store = new SqliteStore({ file: join(dir, 'db.sqlite'), blobDir: join(dir, 'blobs'), bus });
  await store.migrate();
  await store.addDomain('example.test');
  const user = await store.addUser('a@example.test', 'h', []);
  const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
  for (let i = 0; i < n; i++) await store.appendMessage({ mailboxId: inbox.id, content: await makeContent(store, [rawMessage(i)]) });
  const open = async (p = policy(), id = 's1') => {
    const r = await Maildrop.open(store, user, p, id);
    if (!r.ok) throw new Error(r.reason);
    return r.maildrop;
  };
  return { store, bus, user, inbox, open };
}

describe('Maildrop (store level)', () => {
  it('expunge mode: DELE changes nothing until commit, which publishes the expunge (what IMAP IDLE sees)', async () => {
    const { store, bus, user, inbox, open } = await setup();
    const events: ChangeEvent[] = [];
    bus.subscribe(user.id, (e) => events.push(e));
    const drop = await open();
    const mark = (await store.getMailboxById(inbox.id))!.highestModSeq;
    drop.messages[0].deleted = true;
    assert.equal(events.length, 0);
    assert.equal(await drop.commit(), 1);
    assert.deepEqual(events.map((e) => e.kind), ['expunge']);
    assert.deepEqual((await store.changesSince(inbox.id, mark, user.id)).expunged, [1]);
    await store.close();
  });

  it('hide mode keeps the message for IMAP and leaves it out of later snapshots', async () => {
    const { store, user, inbox, open } = await setup();
    const drop = await open(policy({ deleteMode: 'hide' }));
    drop.messages[1].deleted = true;
    await drop.commit();
    const rows = await store.listMessages(inbox.id, user.id);
    assert.equal(rows.length, 3);
    assert.ok(rows[1].flags.includes(POP3_HIDDEN_KEYWORD));
    const next = await open(policy({ deleteMode: 'hide' }), 's2');
    assert.deepEqual(next.messages.map((m) => m.uid), [1, 3]);
    await next.release();
    await store.close();
  });

  it('one maildrop per user: a second open is in-use until release; login delay refuses early logins', async () => {
    const { store, user, open } = await setup(1);
    const first = await open();
    assert.deepEqual(await Maildrop.open(store, user, policy(), 's2'), { ok: false, reason: 'in-use' });
    await first.release();
    const second = await open(policy(), 's3');
    await second.release();
    assert.deepEqual(await Maildrop.open(store, user, policy({ loginDelay: 3600 }), 's4'), { ok: false, reason: 'login-delay' });
    assert.ok((await Maildrop.open(store, user, policy(), 's5')).ok, 'the refused login kept no lock');
    await store.close();
  });

  it('markSeen and EXPIRE: RETR sets \\Seen; keepDays removes old mail at commit', async () => {
    const { store, user, inbox, open } = await setup(2);
    const drop = await open(policy({ keepDays: 10 }));
    await drop.retrieved(drop.messages[0]);
    assert.ok((await store.getMessages(inbox.id, [drop.messages[0].uid], user.id))[0].flags.includes('\\Seen'));
    assert.equal(drop.doomed(new Date(Date.now() + 9 * 86_400_000)).length, 0);
    assert.equal(drop.doomed(new Date(Date.now() + 11 * 86_400_000)).length, 2);
    assert.equal(await drop.commit(new Date(Date.now() + 11 * 86_400_000)), 2);
    assert.equal((await store.listMessages(inbox.id, user.id)).length, 0);
    const noSeen = await setup(1);
    const d2 = await noSeen.open(policy({ markSeen: false }));
    await d2.retrieved(d2.messages[0]);
    assert.deepEqual((await noSeen.store.listMessages(noSeen.inbox.id, noSeen.user.id))[0].flags, []);
    await d2.release();
    await store.close();
    await noSeen.store.close();
  });

  it('RETR writes \\Seen once per message: not for mail \\Seen at login, not again on a second RETR', async () => {
    const { store, user, inbox, open } = await setup(2);
    await store.updateFlags({ mailboxId: inbox.id, uids: [1 as Uid], op: 'add', flags: ['\\Seen'], viewerId: user.id });
    const writes: number[][] = [];
    const real = store.updateFlags.bind(store);
    store.updateFlags = (u) => {
      writes.push([...u.uids]);
      return real(u);
    };
    const drop = await open();
    await drop.retrieved(drop.messages[0]);
    await drop.retrieved(drop.messages[1]);
    await drop.retrieved(drop.messages[1]);
    assert.deepEqual(writes, [[2]]);
    const rows = await store.listMessages(inbox.id, user.id);
    assert.deepEqual(rows.map((r) => r.flags.includes('\\Seen')), [true, true]);
    await drop.release();
    await store.close();
  });
  it('commit renews (checks) the lock only when it removes something; a lost lock never removes', async () => {
    const { store, user, inbox, open } = await setup(2);
    const renewals: string[] = [];
    const real = store.renewLease.bind(store);
    store.renewLease = (key, owner, ttl) => {
      renewals.push(key);
      return real(key, owner, ttl);
    };
    const keep = await open();
    assert.equal(await keep.commit(), 0);
    assert.deepEqual(renewals, [], 'leave-on-server QUIT: no write');
    const drop = await open(policy(), 's2');
    drop.messages[0].deleted = true;
    assert.equal(await drop.commit(), 1);
    assert.equal(renewals.length, 1);
    const stale = await open(policy(), 's3');
    stale.messages[0].deleted = true;
    store.renewLease = async () => false; // the lease expired and another session took it
    await assert.rejects(stale.commit(), /lock lost/);
    assert.equal((await store.listMessages(inbox.id, user.id)).length, 1, 'nothing removed on a stale view');
    await store.close();
  });
});
