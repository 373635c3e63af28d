// Two imapflow clients on one mailbox: B expunges while A fetches and stores by
// sequence number. A keeps its own model of the mailbox (uids in order, updated only
// by the EXPUNGE responses it receives); every FETCH must match that model exactly,
// and every STORE by sequence number must hit the message A meant. A server that sends
// EXPUNGE during FETCH/STORE (RFC9051 7.5.1) or renumbers early breaks this.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { freshUser, message, startTarget, type ImapTarget } from './target.js';

let target: ImapTarget;
before(async () => {
  target = await startTarget();
});
after(async () => {
  await target?.stop();
});

/** A tagged NO [EXPUNGEISSUED] (RFC2180 4.1.2, RFC5530): the message was expunged elsewhere. */
function expungeIssued(err: unknown): boolean {
  const e = err as { responseText?: string; serverResponseCode?: string; message?: string };
  return /EXPUNGEISSUED/i.test(`${e.serverResponseCode ?? ''} ${e.responseText ?? ''} ${e.message ?? ''}`);
}

function client(user: string, pass: string): ImapFlow {
  return new ImapFlow({
    host: target.host,
    port: target.imapsPort,
    secure: true,
    auth: { user, pass },
    tls: { rejectUnauthorized: false },
    logger: false,
    disableAutoIdle: true,
  });
}

test('one client expunges while the other fetches and stores: sequence numbers never go wrong', { timeout: 180_000 }, async () => {
  const { user, pass } = freshUser('concurrent');
  await target.addUser(user, pass);
  const total = 24;
  for (let i = 0; i < total; i++) await target.deliver(user, message({ subject: `msg-${i}` }));
  const a = client(user, pass);
  const b = client(user, pass);
  await a.connect();
  await b.connect();
  let bRun: Promise<void> = Promise.resolve();
  try {
    await a.mailboxOpen('INBOX');
    await b.mailboxOpen('INBOX');
    const subjectOf = new Map<number, string>();
    const model: number[] = [];
    for await (const m of a.fetch('1:*', { uid: true, envelope: true })) {
      subjectOf.set(m.uid, m.envelope?.subject ?? '');
      model[m.seq - 1] = m.uid;
    }
    assert.equal(model.length, total);
    let expungeEvents = 0;
    a.on('expunge', (e: { seq?: number; uid?: number; vanished?: boolean }) => {
      expungeEvents++;
      if (e.vanished) model.splice(model.indexOf(e.uid!), 1);
      else model.splice(e.seq! - 1, 1);
    });

    const toDelete = [...subjectOf.keys()].filter((_, i) => i % 2 === 1);
    let bDone = false;
    bRun = (async () => {
      for (const uid of toDelete) {
        await b.messageDelete(String(uid), { uid: true });
        await new Promise((r) => setTimeout(r, 20));
      }
      bDone = true;
    })();

    const intended = new Set<number>();
    let rounds = 0;
    while (!bDone || rounds < 3) {
      rounds++;
      await a.noop();
      const before = expungeEvents;
      // imapflow also yields unsolicited FETCH (FLAGS) responses for B's \\Deleted, with or
      // without UID; each must still agree with the model, so collect by sequence number.
      const seen = new Map<number, number>();
      let refused = false;
      try {
        for await (const m of a.fetch('1:*', { uid: true })) {
          if (m.uid === undefined) continue;
          assert.equal(m.uid, model[m.seq - 1], `round ${rounds}: * ${m.seq} FETCH (UID ${m.uid}) agrees with the client's view`);
          seen.set(m.seq, m.uid);
        }
      } catch (err) {
        refused = expungeIssued(err);
        if (!refused) throw err;
      }
      assert.equal(expungeEvents, before, 'no EXPUNGE while responding to FETCH');
      // A message B expunged that A has not been told about yet may be answered with its data
      // (Dovecot, RFC2180 4.1.1) or refused with NO [EXPUNGEISSUED] (RFC2180 4.1.2); every other message must be there.
      const missing = refused ? [] : model.filter((uid, i) => seen.get(i + 1) !== uid);
      assert.deepEqual(missing.filter((uid) => !toDelete.includes(uid)), [], `round ${rounds}: FETCH 1:* covers the client's view`);
      const s: number = 1 + (rounds % model.length);
      const meant: number = model[s - 1];
      await a.messageFlagsAdd(String(s), ['$touched']);
      assert.equal(expungeEvents, before, 'no EXPUNGE while responding to STORE');
      intended.add(meant);
      let one: { uid: number; envelope?: { subject?: string } } | undefined;
      const got: string[] = [];
      try {
        for await (const m of a.fetch(String(s), { uid: true, envelope: true })) {
          got.push(JSON.stringify({ seq: m.seq, uid: m.uid, subject: m.envelope?.subject, flags: m.flags ? [...m.flags] : undefined }));
          if (m.envelope) one = m;
        }
      } catch (err) {
        if (!expungeIssued(err)) throw err;
        got.push('NO [EXPUNGEISSUED]');
      }
      if (one) {
        assert.equal(one.uid, meant, `FETCH ${s} is the message the client meant`);
        assert.equal(one.envelope?.subject, subjectOf.get(meant));
      } else {
        assert.ok(toDelete.includes(meant), `FETCH ${s} (UID ENVELOPE) of a live message answered with an envelope; got ${got.join(' ')}`);
      }
    }
    await bRun;
    await a.noop();
    const survivors = new Set([...subjectOf.keys()].filter((uid) => !toDelete.includes(uid)));
    assert.deepEqual([...model].sort((x, y) => x - y), [...survivors].sort((x, y) => x - y), 'every expunge reached A, in order');

    const check = client(user, pass);
    await check.connect();
    await check.mailboxOpen('INBOX', { readOnly: true });
    const touched: number[] = [];
    for await (const m of check.fetch('1:*', { uid: true, flags: true })) if (m.flags?.has('$touched')) touched.push(m.uid);
    await check.logout();
    assert.deepEqual(touched.sort((x, y) => x - y), [...intended].filter((u) => survivors.has(u)).sort((x, y) => x - y), 'STORE by sequence number hit exactly the intended messages');
    assert.ok(rounds >= 3);
  } finally {
    await bRun.catch(() => undefined);
    await a.logout().catch(() => a.close());
    await b.logout().catch(() => b.close());
  }
});
