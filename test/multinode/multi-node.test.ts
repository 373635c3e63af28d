// Two real `mailroom serve` processes on one fresh PostgreSQL database behave as one
// server: UIDs and MODSEQs stay unique and increasing under concurrent APPEND and
// delivery on both nodes, IDLE on node A sees node B's delivery, flag change and
// expunge within one second (node A's own polling is switched off, so only the
// LISTEN/NOTIFY bus can tell it), and the POP3 maildrop lock holds across nodes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Imap, PASS, USER, message } from '../imap/client.js';
import { Pop3Client } from '../pop3/helpers.js';
import { createHash } from 'node:crypto';
import { minimalIndex } from '../../src/store/conformance.js';
import { PgThrottle } from '../../src/store/postgres/throttle.js';
import { adminQuery, freshDatabase, pgSkip, type FreshDatabase } from '../harness/pg.js';
import { LocalChangeBus } from '../../src/store/bus.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { Sink } from '../harness/smtp-sink.js';
import { runCli, startServer, type RunningTestServer } from '../harness/server.js';
import { Readable } from 'node:stream';

describe('several nodes on one PostgreSQL database', { skip: pgSkip, timeout: 300_000 }, () => {
  let db: FreshDatabase;
  let a: RunningTestServer;
  let b: RunningTestServer;
  const sink = new Sink();
  const env = (): Record<string, string> => ({
    MAILROOM_DATABASE_URL: db.url,
    MAILROOM_IMAP_IDLE_POLL_MS: '600000',
    MAILROOM_QUEUE_ROUTES: `remote.test=127.0.0.1:${sink.port}`,
    MAILROOM_QUEUE_POLL_MS: '100',
  });

  async function cli(args: string[]): Promise<string> {
    const r = await runCli(args, { dataDir: a.dataDir, env: { MAILROOM_DATABASE_URL: db.url }, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `mailroom ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  before(async () => {
    db = await freshDatabase();
    await sink.start();
    [a, b] = await Promise.all([startServer({ env: env() }), startServer({ env: env() })]);
    await cli(['user', 'add', USER, '--password', PASS]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
    await sink.stop();
  });

  it('concurrent APPEND on both nodes and deliveries from the CLI get unique, strictly increasing UIDs and MODSEQs', async () => {
    const perClient = 12;
    const clients = await Promise.all([a, a, b, b].map((s) => Imap.open(s.ports.imap!)));
    await clients[0].ok('CREATE Race');
    const appendUids: number[] = [];
    const deliveries = Array.from({ length: 3 }, async (_, i) => {
      const file = join(a.dataDir, '..', `race-${i}.eml`);
      writeFileSync(file, message(`cli-${i}`));
      await cli(['deliver', '--to', USER, file]);
    });
    await Promise.all([
      ...clients.map(async (c, ci) => {
        for (let i = 0; i < perClient; i++) {
          const raw = message(`race-${ci}-${i}`);
          const text = await c.ok(`APPEND Race {${Buffer.byteLength(raw)}+}\r\n${raw}`);
          const m = /\[APPENDUID (\d+) (\d+)\]/.exec(text);
          assert.ok(m, text);
          appendUids.push(Number(m[2]));
        }
      }),
      ...deliveries,
    ]);
    const total = clients.length * perClient;
    assert.equal(new Set(appendUids).size, total, 'no UID handed out twice');
    const sel = await clients[0].ok('SELECT Race');
    assert.match(sel, new RegExp(`\\* ${total} EXISTS`));
    assert.match(sel, new RegExp(`UIDNEXT ${total + 1}\\]`));
    // MODSEQ straight from the store (the IMAP server does not offer CONDSTORE yet).
    const store = new PostgresStore({ url: db.url, bus: new LocalChangeBus() });
    try {
      const user = (await store.getUser(USER))!;
      const box = (await store.getMailbox(user.id, 'Race'))!;
      const rows = await store.listMessages(box.id, user.id);
      assert.deepEqual(rows.map((r) => r.uid), Array.from({ length: total }, (_, i) => i + 1));
      const byUid = rows.map((r) => r.modSeq);
      assert.equal(new Set(byUid).size, total, 'one MODSEQ per APPEND, never shared');
      assert.ok(byUid.every((m, i) => i === 0 || m > byUid[i - 1]), `MODSEQ increases with UID: ${byUid.join(',')}`);
      assert.equal(box.highestModSeq, Math.max(...byUid));
    } finally {
      await store.close();
    }
    const inbox = await clients[0].ok('STATUS INBOX (MESSAGES UIDNEXT)');
    assert.match(inbox, /MESSAGES 3 UIDNEXT 4/);
    for (const c of clients) await c.ok('LOGOUT').catch(() => undefined);
  });

  /** Starts IDLE on `c`, runs `act`, and returns the untagged lines seen and how long the first took. */
  async function idleSees(c: Imap, act: () => Promise<void>, expect: RegExp): Promise<{ ms: number; text: string }> {
    c.t.send('i1 IDLE\r\n');
    await c.t.readUntil(/\+ [^\r\n]*\r\n/);
    const started = Date.now();
    const seen = c.t.readUntil(expect);
    await act();
    const acted = Date.now();
    const text = await seen;
    const ms = Date.now() - acted;
    c.t.send('DONE\r\n');
    await c.readTagged('i1');
    void started;
    return { ms, text };
  }

  it('IDLE on node A sees a delivery, a flag change and an expunge made on node B within one second', async () => {
    const watcher = await Imap.open(a.ports.imap!);
    const actor = await Imap.open(b.ports.imap!);
    await watcher.ok('SELECT INBOX');
    await actor.ok('SELECT INBOX');
    const count = Number(/\* (\d+) EXISTS/.exec(await watcher.ok('NOOP')) ?.[1] ?? /\* (\d+) EXISTS/.exec(await watcher.ok('SELECT INBOX'))![1]);
    const raw = message('cross-node');
    const appended = await idleSees(watcher, async () => {
      await actor.ok(`APPEND INBOX {${Buffer.byteLength(raw)}+}\r\n${raw}`);
    }, new RegExp(`\\* ${count + 1} EXISTS\\r\\n`));
    const flagged = await idleSees(watcher, async () => {
      await actor.ok(`STORE ${count + 1} +FLAGS.SILENT (\\Flagged)`);
    }, /\* \d+ FETCH \([^\r\n]*\\Flagged[^\r\n]*\)\r\n/);
    const expunged = await idleSees(watcher, async () => {
      await actor.ok(`STORE ${count + 1} +FLAGS.SILENT (\\Deleted)`);
      await actor.ok('EXPUNGE');
    }, new RegExp(`\\* ${count + 1} EXPUNGE\\r\\n`));
    const times = { append: appended.ms, flags: flagged.ms, expunge: expunged.ms };
    for (const [what, ms] of Object.entries(times)) assert.ok(ms < 1000, `${what} reached node A after ${ms} ms: ${JSON.stringify(times)}`);
    await watcher.ok('LOGOUT');
    await actor.ok('LOGOUT');
  });

  it('NOTIFY on node A hears a SUBSCRIBE and an UNSUBSCRIBE made on node B (SubscriptionChange crosses nodes)', async () => {
    const watcher = await Imap.open(a.ports.imap!);
    const actor = await Imap.open(b.ports.imap!);
    try {
      await watcher.ok('NOTIFY SET (PERSONAL (SubscriptionChange))');
      await actor.ok('SUBSCRIBE "Cross Node"');
      assert.match(await watcher.t.readUntil('\r\n', 10_000), /^\* LIST \(\\Subscribed\) "\/" "Cross Node"\r\n$/);
      await actor.ok('UNSUBSCRIBE "Cross Node"');
      assert.match(await watcher.t.readUntil('\r\n', 10_000), /^\* LIST \(\) "\/" "Cross Node"\r\n$/);
    } finally {
      watcher.close();
      actor.close();
    }
  });

  it('the POP3 maildrop lock holds across nodes and is free again after QUIT', async () => {
    const one = await Pop3Client.open(a.ports.pop3!);
    assert.match(await one.login(USER, PASS), /^\+OK/);
    const two = await Pop3Client.open(b.ports.pop3!);
    assert.match(await two.login(USER, PASS), /^-ERR \[IN-USE\]/);
    assert.match(await one.cmd('QUIT'), /^\+OK/);
    const three = await Pop3Client.open(b.ports.pop3!);
    assert.match(await three.login(USER, PASS), /^\+OK/);
    assert.match(await three.cmd('QUIT'), /^\+OK/);
  });

  it('auth failures counted on one node slow logins on the other (shared throttle)', async () => {
    const one = new PostgresStore({ url: db.url, bus: new LocalChangeBus() });
    const two = new PostgresStore({ url: db.url, bus: new LocalChangeBus() });
    try {
      const t1 = new PgThrottle(one.pool);
      const t2 = new PgThrottle(two.pool);
      const r = () => Math.floor(Math.random() * 250) + 1;
      const ip = `10.${r()}.${r()}.${r()}`; // a fresh /24 too: rows of earlier runs may still be in the window
      assert.deepEqual(await t2.before(ip, 'x@y'), { delayMs: 0, blocked: false });
      for (let i = 0; i < 6; i++) await t1.failed(ip, `victim${i}@example.test`);
      assert.ok((await t2.before(ip, 'x@y')).delayMs > 0, 'node two sees node one\'s failures');
      for (let i = 0; i < 30; i++) await t2.failed(ip, 'victim@example.test');
      assert.equal((await t1.before(ip, 'other@example.test')).blocked, true);
      await t1.succeeded(ip, 'ok@example.test');
      assert.deepEqual(await t2.before(ip, 'ok@example.test'), { delayMs: 0, blocked: false }, 'a success on one node makes the address known-good for that account on both');
      assert.equal((await t2.before(ip, 'other@example.test')).blocked, true, 'the others from that address stay blocked');
    } finally {
      await one.close();
      await two.close();
    }
  });

  /** Content for a queued message, written to the blob store. */
  async function queuedContent(store: PostgresStore, raw: Buffer) {
    const hash = createHash('sha256').update(raw).digest('hex');
    await store.blobs.put(hash, Readable.from([raw]));
    return { id: hash, size: raw.length, segments: [{ hash, size: raw.length }], index: minimalIndex(raw), searchText: '' };
  }

  it('with queue workers on both nodes, each queued message is delivered exactly once', async () => {
    const store = new PostgresStore({ url: db.url, bus: new LocalChangeBus() });
    try {
      const total = 30;
      for (let i = 0; i < total; i++) {
        await store.enqueueMessage({ content: await queuedContent(store, Buffer.from(message(`outbound-${i}`))), from: USER, recipients: [{ address: `r${i}@remote.test` }] });
      }
      const deadline = Date.now() + 60_000;
      while ((await store.listQueueEntries()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await store.listQueueEntries(), [], 'queue drained');
      await new Promise((r) => setTimeout(r, 1000)); // a double delivery would show up meanwhile
      const subjects = sink.messages.map((m) => /Subject: (outbound-\d+)/.exec(m.data.toString())?.[1]).filter((x) => x !== undefined);
      assert.equal(subjects.length, total, `sink got ${subjects.length} messages`);
      assert.equal(new Set(subjects).size, total, 'no message delivered twice');
    } finally {
      await store.close();
    }
  });

  it('queue workers on two nodes claim each due entry exactly once (SKIP LOCKED)', async () => {
    const one = new PostgresStore({ url: db.url, bus: new LocalChangeBus() });
    const two = new PostgresStore({ url: db.url, bus: new LocalChangeBus() });
    try {
      const ids = new Set<string>();
      const later = new Date('2100-01-01T00:00:00Z'); // not due for the nodes' own workers
      for (let i = 0; i < 40; i++) {
        const entry = await one.enqueueMessage({
          content: await queuedContent(one, Buffer.from(message(`queued-${i}`))), from: '', recipients: [{ address: `r${i}@remote.test` }], nextAttemptAt: later,
        });
        ids.add(entry.id);
      }
      const claimed: string[] = [];
      const now = new Date(later.getTime() + 1000);
      await Promise.all([one, two, one, two].map(async (s, w) => {
        for (;;) {
          const got = await s.claimQueueEntries(`worker-${w}`, now, 60_000, 3);
          if (got.length === 0) return;
          claimed.push(...got.map((e) => e.id));
        }
      }));
      assert.equal(claimed.length, ids.size, 'every entry claimed once');
      assert.deepEqual(new Set(claimed), ids);
      for (const id of ids) await one.deleteQueueEntry(id);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('killing every database connection: the nodes answer again without a restart', async () => {
    const c = await Imap.open(a.ports.imap!);
    await c.ok('SELECT INBOX');
    await adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
    // The first command after the cut may meet a dead pooled connection: a temporary NO, never BAD or BYE.
    const first = await c.cmd('STATUS INBOX (MESSAGES)');
    assert.ok(first.status === 'OK' || /NO \[UNAVAILABLE\]/.test(first.text), first.text);
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      ok = (await c.cmd('STATUS INBOX (MESSAGES)')).status === 'OK';
      if (!ok) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(ok, 'node A answers again');
    const raw = message('after-outage');
    await c.ok(`APPEND INBOX {${Buffer.byteLength(raw)}+}\r\n${raw}`);
    const other = await Imap.open(b.ports.imap!);
    assert.match(await other.ok('STATUS INBOX (MESSAGES)'), /MESSAGES \d+/);
    // Node A's LISTEN connection was killed too: once it is back, IDLE hears node B again.
    const deadline = Date.now() + 20_000;
    while (a.stdout.filter((l) => l.msg === 'change bus: listening').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(a.stdout.some((l) => l.msg === 'change bus: lost PostgreSQL, reconnecting'), 'the bus noticed the cut');
    const exists = Number(/\* (\d+) EXISTS/.exec(await c.ok('SELECT INBOX'))![1]);
    await other.ok('SELECT INBOX');
    const raw2 = message('after-reconnect');
    const seen = await idleSees(c, async () => {
      await other.ok(`APPEND INBOX {${Buffer.byteLength(raw2)}+}\r\n${raw2}`);
    }, new RegExp(`\\* ${exists + 1} EXISTS\\r\\n`));
    assert.ok(seen.ms < 1000, `after reconnecting, node B's delivery reached node A in ${seen.ms} ms`);
    await other.ok('LOGOUT');
    await c.ok('LOGOUT');
  });
});
