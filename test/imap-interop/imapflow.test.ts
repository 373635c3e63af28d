// imapflow (npm, the client library behind many Node mail apps) against the real server:
// both TLS modes, listing with special-use, status, fetch of every item clients use,
// search, flags and keywords across connections, append, copy/move with UID maps,
// mailbox management, and IDLE push from a delivery and from another client.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { freshUser, message, multipartMessage, startTarget, type ImapTarget } from './target.js';

let target: ImapTarget;
before(async () => {
  target = await startTarget();
});
after(async () => {
  await target?.stop();
});

type Mode = 'starttls' | 'implicit' | 'plain';

function client(user: string, pass: string, mode: Mode = 'starttls', extra: Partial<ImapFlowOptions> = {}): ImapFlow {
  return new ImapFlow({
    host: target.host,
    port: mode === 'implicit' ? target.imapsPort : target.imapPort,
    secure: mode === 'implicit',
    doSTARTTLS: mode === 'starttls' ? true : mode === 'plain' ? false : undefined,
    auth: { user, pass },
    tls: { rejectUnauthorized: false },
    logger: false,
    connectionTimeout: 20_000,
    greetingTimeout: 20_000,
    ...extra,
  });
}

/** A new user with `count` delivered messages; returns a connected client. */
async function userWith(label: string, raws: string[] = []): Promise<{ user: string; pass: string; c: ImapFlow }> {
  const { user, pass } = freshUser(label);
  await target.addUser(user, pass);
  for (const raw of raws) await target.deliver(user, raw);
  const c = client(user, pass);
  await c.connect();
  return { user, pass, c };
}

const T = { timeout: 60_000 };

describe('imapflow', () => {
  test('login over STARTTLS and over implicit TLS; wrong password is refused', T, async () => {
    const { user, pass } = freshUser('login');
    await target.addUser(user, pass);
    for (const mode of ['starttls', 'implicit'] as const) {
      const c = client(user, pass, mode);
      await c.connect();
      assert.equal(c.secureConnection, true, `${mode}: connection is TLS`);
      assert.ok(c.authenticated, `${mode}: authenticated`);
      await c.logout();
    }
    const bad = client(user, 'wrong-password', 'implicit');
    await assert.rejects(bad.connect());
    bad.close();
  });

  test('list shows INBOX and the special-use mailboxes; status counts messages and unseen', T, async () => {
    const { c } = await userWith('list', [message({ subject: 'one' }), message({ subject: 'two' })]);
    try {
      const list = await c.list({ statusQuery: { messages: true, unseen: true, uidNext: true, uidValidity: true } });
      const byPath = new Map(list.map((m) => [m.path, m]));
      for (const [path, use] of [['Sent', '\\Sent'], ['Drafts', '\\Drafts'], ['Trash', '\\Trash'], ['Junk', '\\Junk'], ['Archive', '\\Archive']]) {
        assert.equal(byPath.get(path)?.specialUse, use, `${path} is ${use}`);
        assert.ok(byPath.get(path)?.flags.has(use), `${path} carries the ${use} flag from the server`);
      }
      assert.equal(byPath.get('INBOX')?.specialUse, '\\Inbox');
      assert.equal(byPath.get('INBOX')?.status?.messages, 2);
      const status = await c.status('INBOX', { messages: true, unseen: true, uidNext: true, uidValidity: true, recent: true });
      assert.equal(status.messages, 2);
      assert.equal(status.unseen, 2);
      assert.ok(Number(status.uidNext) >= 3);
      assert.ok(Number(status.uidValidity) > 0);
    } finally {
      await c.logout();
    }
  });

  test('select, then fetch envelope, bodyStructure, source, bodyParts, flags, internalDate, size', T, async () => {
    const raw = multipartMessage('Quarterly report');
    const { c } = await userWith('fetch', [raw]);
    try {
      const mb = await c.mailboxOpen('INBOX');
      assert.equal(mb.exists, 1);
      assert.ok(mb.permanentFlags?.has('\\*'), 'PERMANENTFLAGS includes \\*');
      const msg = await c.fetchOne('1', { uid: true, envelope: true, bodyStructure: true, source: true, flags: true, internalDate: true, size: true, bodyParts: ['1', '2', 'TEXT'] });
      assert.ok(msg, 'message 1 fetched');
      assert.equal(msg.envelope?.subject, 'Quarterly report');
      assert.equal(msg.envelope?.from?.[0]?.address, 'alice@example.net');
      assert.equal(msg.envelope?.from?.[0]?.name, 'Alice Example');
      assert.equal(msg.bodyStructure?.type, 'multipart/mixed');
      assert.equal(msg.bodyStructure?.childNodes?.length, 2);
      assert.equal(msg.bodyStructure?.childNodes?.[1]?.type, 'application/pdf');
      assert.equal(msg.bodyStructure?.childNodes?.[1]?.disposition, 'attachment');
      assert.equal(msg.source?.toString(), raw, 'source is the exact bytes delivered');
      assert.equal(msg.size, Buffer.byteLength(raw));
      assert.ok(msg.internalDate instanceof Date && !Number.isNaN(msg.internalDate.getTime()));
      assert.equal(msg.bodyParts?.get('1')?.toString(), 'The text part.');
      assert.equal(msg.bodyParts?.get('2')?.toString().trim(), Buffer.from('%PDF-1.4 fake pdf content').toString('base64'));
      assert.match(msg.bodyParts?.get('text')?.toString() ?? '', /^This is a multi-part message/);
      assert.deepEqual([...(msg.flags ?? [])].filter((f) => f !== '\\Recent'), [], 'BODY[] was fetched with PEEK by imapflow: still unseen');
    } finally {
      await c.logout();
    }
  });

  test('search with several criteria returns the right UIDs', T, async () => {
    const { c } = await userWith('search', [
      message({ subject: 'Invoice 17', from: 'Billing <billing@shop.example>', date: 'Mon, 02 Feb 2026 09:00:00 +0000' }),
      message({ subject: 'Lunch?', from: 'Carol <carol@example.net>', date: 'Tue, 03 Mar 2026 12:00:00 +0000' }),
      message({ subject: 'Invoice 18', from: 'Billing <billing@shop.example>', date: 'Wed, 04 Mar 2026 09:00:00 +0000', body: 'x'.repeat(5000) + '\r\n' }),
    ]);
    try {
      await c.mailboxOpen('INBOX');
      const uids = (await c.search({ all: true }, { uid: true })) as number[];
      assert.equal(uids.length, 3);
      const [u1, u2, u3] = uids;
      assert.deepEqual(await c.search({ subject: 'invoice' }, { uid: true }), [u1, u3]);
      assert.deepEqual(await c.search({ from: 'carol' }, { uid: true }), [u2]);
      assert.deepEqual(await c.search({ from: 'billing', larger: 4000 }, { uid: true }), [u3]);
      assert.deepEqual(await c.search({ sentBefore: new Date('2026-03-01') }, { uid: true }), [u1]);
      assert.deepEqual(await c.search({ or: [{ from: 'carol' }, { subject: '18' }] }, { uid: true }), [u2, u3]);
      assert.deepEqual(await c.search({ not: { subject: 'invoice' } }, { uid: true }), [u2]);
      await c.messageFlagsAdd({ uid: String(u2) }, ['\\Seen'], { uid: true });
      assert.deepEqual(await c.search({ seen: false }, { uid: true }), [u1, u3]);
      assert.deepEqual(await c.search({ body: 'xxxxxxxx' }, { uid: true }), [u3]);
    } finally {
      await c.logout();
    }
  });

  test('store flags and custom keywords; a second connection sees them', T, async () => {
    const { user, pass, c } = await userWith('flags', [message({ subject: 'a' }), message({ subject: 'b' })]);
    const other = client(user, pass, 'implicit');
    try {
      await c.mailboxOpen('INBOX');
      assert.ok(await c.messageFlagsAdd('1', ['\\Flagged', '$label1', '$Forwarded']));
      assert.ok(await c.messageFlagsSet('2', ['\\Answered', 'Project/X']));
      assert.ok(await c.messageFlagsRemove('1', ['\\Flagged']));
      await other.connect();
      await other.mailboxOpen('INBOX', { readOnly: true });
      const seen = new Map<number, string[]>();
      for await (const m of other.fetch('1:*', { flags: true })) seen.set(m.seq, [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort());
      assert.deepEqual(seen.get(1), ['$Forwarded', '$label1']);
      assert.deepEqual(seen.get(2), ['Project/X', '\\Answered']);
      const mb = other.mailbox;
      assert.ok(mb && mb.flags.has('$label1'), 'FLAGS of the mailbox lists the new keyword');
    } finally {
      await c.logout();
      await other.logout().catch(() => other.close());
    }
  });

  test('append with flags and date; APPENDUID gives the uid', T, async () => {
    const { c } = await userWith('append');
    try {
      const date = new Date('2025-12-24T18:30:00Z');
      const res = await c.append('Drafts', message({ subject: 'Draft to finish' }), ['\\Draft', '\\Seen', '$todo'], date);
      assert.ok(res, 'APPEND succeeded');
      assert.equal(res.destination, 'Drafts');
      assert.ok(Number(res.uid) > 0, 'APPENDUID carried a uid');
      await c.mailboxOpen('Drafts');
      const m = await c.fetchOne(String(res.uid), { flags: true, internalDate: true, envelope: true }, { uid: true });
      assert.ok(m);
      assert.deepEqual([...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(), ['$todo', '\\Draft', '\\Seen'], 'flags as appended (\\Recent aside: rev1)');
      assert.equal((m.internalDate as Date).toISOString(), date.toISOString());
      assert.equal(m.envelope?.subject, 'Draft to finish');
    } finally {
      await c.logout();
    }
  });

  test('copy and move report uid maps; expunge removes; the source keeps the right messages', T, async () => {
    const { c } = await userWith('copymove', ['m1', 'm2', 'm3', 'm4'].map((s) => message({ subject: s })));
    try {
      await c.mailboxOpen('INBOX');
      const uids = (await c.search({ all: true }, { uid: true })) as number[];
      const copied = await c.messageCopy(`${uids[0]}:${uids[1]}`, 'Archive', { uid: true });
      assert.ok(copied && copied.uidMap, 'COPYUID present');
      assert.deepEqual([...copied.uidMap.keys()], [uids[0], uids[1]]);
      const moved = await c.messageMove(String(uids[2]), 'Trash', { uid: true });
      assert.ok(moved && moved.uidMap, 'MOVE reports COPYUID');
      assert.deepEqual([...moved.uidMap.keys()], [uids[2]]);
      assert.ok(await c.messageDelete(String(uids[0]), { uid: true }));
      const left: string[] = [];
      for await (const m of c.fetch('1:*', { uid: true, envelope: true })) left.push(`${m.uid}:${m.envelope?.subject}`);
      assert.deepEqual(left, [`${uids[1]}:m2`, `${uids[3]}:m4`]);
      const archive = await c.status('Archive', { messages: true });
      assert.equal(archive.messages, 2);
      await c.mailboxOpen('Trash');
      const inTrash = await c.fetchOne(String([...moved.uidMap.values()][0]), { envelope: true }, { uid: true });
      assert.equal(inTrash && inTrash.envelope?.subject, 'm3');
    } finally {
      await c.logout();
    }
  });

  test('mailbox create, rename (with children), subscribe, delete', T, async () => {
    const { c } = await userWith('mailboxes');
    try {
      const created = await c.mailboxCreate('Projects/Alpha');
      assert.equal(created.path, 'Projects/Alpha');
      await c.mailboxCreate('Projects/Beta');
      await c.mailboxCreate('Reisen für 2026');
      await c.mailboxRename('Projects', 'Work');
      await c.mailboxSubscribe('Work/Alpha');
      await c.mailboxUnsubscribe('Work/Beta').catch(() => undefined);
      let paths = (await c.list()).map((m) => m.path);
      assert.ok(paths.includes('Work/Alpha') && paths.includes('Work/Beta'), `renamed with children: ${paths.join(', ')}`);
      assert.ok(!paths.some((p) => p.startsWith('Projects')), 'old names gone');
      assert.ok(paths.includes('Reisen für 2026'), 'non-ASCII name round-trips');
      const subscribed = (await c.list({ statusQuery: {} })).filter((m) => m.subscribed).map((m) => m.path);
      assert.ok(subscribed.includes('Work/Alpha'));
      await c.mailboxDelete('Work/Beta');
      paths = (await c.list()).map((m) => m.path);
      assert.ok(!paths.includes('Work/Beta'));
      await assert.rejects(c.mailboxCreate('a/../b').then((r) => assert.fail(`created ${r.path}`)));
    } finally {
      await c.logout();
    }
  });

  test('COMPRESS=DEFLATE is negotiated in every mode; a big message reads the same with and without it', T, async () => {
    const body = Array.from({ length: 5000 }, (_, i) => `line ${i} of a long and quite repetitive message body`).join('\r\n');
    const { user, pass, c } = await userWith('compress', [message({ subject: 'big one', body })]);
    const compressed = (x: ImapFlow) => (x as unknown as { _deflate: unknown })._deflate != null;
    const read = async (x: ImapFlow): Promise<Buffer> => {
      await x.mailboxOpen('INBOX');
      const m = await x.fetchOne('1', { source: true }, { uid: true });
      return m ? m.source! : Buffer.alloc(0);
    };
    try {
      if (target.name === 'mailroom') assert.ok(c.capabilities.has('COMPRESS=DEFLATE'), 'advertised');
      assert.equal(compressed(c), true, 'STARTTLS session compressed');
      const viaCompressed = await read(c);
      assert.ok(viaCompressed.toString().includes('line 4999 of a long'), 'whole message');
      for (const mode of ['implicit', 'plain'] as const) {
        const x = client(user, pass, mode);
        await x.connect();
        assert.equal(compressed(x), true, `${mode} session compressed`);
        assert.deepEqual(await read(x), viaCompressed);
        await x.logout();
      }
      const plain = client(user, pass, 'plain', { disableCompression: true });
      await plain.connect();
      assert.equal(compressed(plain), false);
      assert.deepEqual(await read(plain), viaCompressed);
      await plain.logout();
    } finally {
      await c.logout();
    }
  });

  test('IDLE: exists event within one second of a delivery from another process and of an APPEND by a second client', { timeout: 120_000 }, async () => {
    const { user, pass, c } = await userWith('idle', [message({ subject: 'first' })]);
    const other = client(user, pass, 'implicit');
    await other.connect();
    try {
      await c.mailboxOpen('INBOX');
      const waitExists = (count: number) =>
        new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no exists event for count ${count} within 10 s`)), 10_000);
          const onExists = (e: { count: number }) => {
            if (e.count >= count) {
              clearTimeout(timer);
              c.off('exists', onExists);
              resolve(performance.now());
            }
          };
          c.on('exists', onExists);
        });
      void c.idle().catch(() => undefined);
      for (let i = 0; i < 100 && !c.idling; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(c.idling, 'imapflow is idling (server accepted IDLE)');

      let pending = waitExists(2);
      // The CLI process takes a while to start; measure from its completion (message committed).
      await target.deliver(user, message({ subject: 'pushed by delivery' }));
      const deliveredAt = performance.now();
      const deliveryLatency = Math.max(0, (await pending) - deliveredAt);

      await new Promise((r) => setTimeout(r, 300));
      pending = waitExists(3);
      const t0 = performance.now();
      await other.append('INBOX', message({ subject: 'pushed by append' }));
      const appendLatency = (await pending) - t0;
      process.stderr.write(`  IDLE latency (${target.name}): delivery ${deliveryLatency.toFixed(0)} ms, append ${appendLatency.toFixed(0)} ms\n`);
      assert.ok(deliveryLatency < 1000, `delivery pushed within 1 s (took ${deliveryLatency.toFixed(0)} ms)`);
      assert.ok(appendLatency < 1000, `append pushed within 1 s (took ${appendLatency.toFixed(0)} ms)`);
    } finally {
      await c.logout();
      await other.logout();
    }
  });
  test('CONDSTORE/QRESYNC (qresync: true): HIGHESTMODSEQ, VANISHED and flag events with MODSEQ, CHANGEDSINCE, QRESYNC reopen, UNCHANGEDSINCE', T, async () => {
    const { user, pass, c } = await userWith('qresync', [message({ subject: 'q1' }), message({ subject: 'q2' }), message({ subject: 'q3' }), message({ subject: 'q4' })]);
    await c.logout();
    const q = client(user, pass, 'starttls', { qresync: true });
    await q.connect();
    const box = await q.mailboxOpen('INBOX');
    assert.ok(q.enabled.has('QRESYNC') && q.enabled.has('CONDSTORE'), [...q.enabled].join(' '));
    assert.equal(typeof box.highestModseq, 'bigint');
    const start = box.highestModseq!;
    const uidValidity = box.uidValidity;
    const expunged: { uid?: number; vanished?: boolean; earlier?: boolean }[] = [];
    const flagged: { uid?: number; modseq?: bigint; flags: Set<string> }[] = [];
    q.on('expunge', (e: { uid?: number; vanished?: boolean; earlier?: boolean }) => expunged.push(e));
    q.on('flags', (e: { uid?: number; modseq?: bigint; flags: Set<string> }) => flagged.push(e));
    const other = client(user, pass);
    await other.connect();
    await other.mailboxOpen('INBOX');
    await other.messageFlagsAdd('2', ['\\Flagged'], { uid: true });
    await other.messageDelete('3', { uid: true });
    await q.noop();
    assert.deepEqual(expunged.map((e) => [e.uid, e.vanished]), [[3, true]]);
    assert.deepEqual(flagged.map((f) => [f.uid, [...f.flags]]), [[2, ['\\Flagged']]]);
    assert.ok(flagged[0].modseq! > start);
    assert.equal(q.mailbox && q.mailbox.highestModseq, flagged[0].modseq, 'MODSEQ of the announced change');
    // CHANGEDSINCE (with VANISHED, since QRESYNC is on)
    const changed = [];
    for await (const m of q.fetch('1:*', { flags: true }, { uid: true, changedSince: start })) changed.push([m.uid, m.modseq! > start]);
    assert.deepEqual(changed, [[2, true]]);
    // reopen with QRESYNC after more changes elsewhere
    await q.mailboxClose();
    const mark = flagged[0].modseq!;
    await other.messageFlagsAdd('1', ['$Done'], { uid: true });
    await other.messageDelete('4', { uid: true });
    expunged.length = 0;
    flagged.length = 0;
    const again = await q.mailboxOpen('INBOX', { changedSince: mark, uidValidity } as never);
    assert.equal(again.exists, 2);
    // 3 went (EXPUNGE at a MODSEQ above `mark`) after the flag change whose MODSEQ is `mark`, and
    // VANISHED carries no MODSEQ, so a resync from `mark` names it again (RFC 7162 3.2.5.1)
    assert.deepEqual(expunged.map((e) => [e.uid, e.earlier]), [[3, true], [4, true]]);
    assert.deepEqual(flagged.map((f) => [f.uid, [...f.flags]]), [[1, ['$Done']]]);
    // STORE with UNCHANGEDSINCE: refused for a message changed after it. imapflow 1.7.8 puts the
    // modifier after the flag list; the server honours it there too (store-parser.ts).
    const storeUnchangedSince = async (uid: string, since: bigint): Promise<void> => {
      assert.equal(await q.messageFlagsAdd(uid, ['\\Seen'], { uid: true, unchangedSince: since }), true);
    };
    await storeUnchangedSince('1', mark);
    await storeUnchangedSince('2', again.highestModseq!);
    const seen = new Map<number, boolean>();
    for await (const m of q.fetch('1:*', { flags: true }, { uid: true })) seen.set(m.uid, m.flags!.has('\\Seen'));
    assert.deepEqual([...seen], [[1, false], [2, true]]);
    await other.logout();
    await q.logout();
  });
});
