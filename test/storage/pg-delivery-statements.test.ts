/**
 * Round trips per delivery on PostgreSQL (each is a wake-up of the backend and of this node,
 * the cost of a delivery on a shared machine: docs/architecture.md, "PostgreSQL round
 * trips"). Counts every message `pg.Client.query` sends while LMTP's work for one message
 * runs: RCPT's recipient lookup, then `deliver()` with that lookup (as the LMTP session
 * does), for messages that start or join a thread. A bound that a change must not pass:
 * a regression that adds a statement per delivery fails here.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { LocalChangeBus } from '../../src/store/bus.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createUserWithHash } from '../../src/mail/accounts.js';
import { deliver } from '../../src/mail/delivery.js';
import { MessageSource } from '../../src/mail/message-source.js';
import { resolveRecipient } from '../../src/mail/recipients.js';
import { freshDatabase, pgSkip, type FreshDatabase } from '../harness/pg.js';

/**
 * Statements a delivery may send: RCPT's lookup, then the append transaction: BEGIN with the
 * mailbox (INBOX by name) and its user's lock, content, blob, charge with MODSEQ/UIDs and the
 * row with its thread and text filter, COMMIT. A connection's first delivery may send one more
 * (its BEGIN goes alone while the statement after it is not prepared yet). Not counted: the
 * doorbell to other nodes (DOORBELL), sent after the commit on a connection of its own and not
 * waited for; at most one per delivery, one per batch of deliveries under load.
 */
const MAX_PER_DELIVERY = 6;
const DOORBELL = /^SELECT pg_notify\(/;

function message(n: number): Buffer {
  const refs = n % 2 === 1 ? `In-Reply-To: <${n - 1}.stmt@example.test>\r\nReferences: <${n - 1}.stmt@example.test>\r\n` : '';
  const line = `line ${n} of a message that is about ten kilobytes long, like the bench's\r\n`;
  return Buffer.from(`From: a@example.test\r\nTo: rcpt@example.test\r\nSubject: statements ${n}\r\nMessage-ID: <${n}.stmt@example.test>\r\n${refs}\r\n${line.repeat(130)}`);
}

describe('PostgreSQL statements per delivery', { skip: pgSkip }, () => {
  let db: FreshDatabase;
  let store: PostgresStore;
  let spool: string;
  const sent: string[] = [];
  const original = pg.Client.prototype.query;

  before(async () => {
    db = await freshDatabase();
    spool = mkdtempSync(path.join(os.tmpdir(), 'pg-stmts-'));
    store = new PostgresStore({ url: db.url, bus: new LocalChangeBus() });
    await store.migrate();
    await store.addDomain('example.test');
    await createUserWithHash(store, 'rcpt@example.test', 'x');
    // Every query a pooled client sends, named or not, is one round trip.
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const q = args[0];
      sent.push(typeof q === 'string' ? q : String((q as { text?: string }).text ?? ''));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
  });

  after(async () => {
    pg.Client.prototype.query = original;
    await store?.close();
    await db?.drop();
    if (spool) rmSync(spool, { recursive: true, force: true });
  });

  it(`sends at most ${MAX_PER_DELIVERY} statements for a delivery, new thread or reply`, async () => {
    const ctx = { store, ingest: { spoolDir: spool, largePartThreshold: 64 * 1024 } };
    const per: number[] = [];
    let doorbells = 0;
    for (let n = 0; n < 10; n++) {
      const before = sent.length;
      const rcpt = 'rcpt@example.test';
      const resolution = await resolveRecipient(store, rcpt);
      const [outcome] = await deliver(ctx, MessageSource.fromBuffer(message(n)), [rcpt], new Map([[rcpt, resolution!]]));
      assert.equal(outcome.status, 'delivered');
      const mine = sent.slice(before);
      per.push(mine.filter((q) => !DOORBELL.test(q)).length);
      doorbells += mine.length - per[per.length - 1];
      if (n === 1 && process.env.PG_STATEMENTS_SHOW === '1') console.log(sent.slice(before).join('\n---\n'));
    }
    assert.ok(per[0] <= MAX_PER_DELIVERY + 1 && Math.max(...per.slice(1)) <= MAX_PER_DELIVERY, `statements per delivery: ${per.join(', ')} (bound ${MAX_PER_DELIVERY}, the first ${MAX_PER_DELIVERY + 1})`);
    assert.ok(doorbells <= 10, `${doorbells} doorbells for 10 deliveries`);
    // The thread links held: each reply joined its parent's thread.
    const inbox = (await store.getMailbox((await store.getUser('rcpt@example.test'))!.id, 'INBOX'))!;
    const rows = await store.listMessages(inbox.id, inbox.userId);
    for (let i = 1; i < rows.length; i += 2) assert.equal(rows[i].threadId, rows[i - 1].threadId, `message ${i} in its parent's thread`);
    assert.notEqual(rows[0].threadId, rows[2].threadId);
  });
});
