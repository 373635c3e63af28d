/**
 * The SIGKILL soak (issue 14): rounds of mixed load (SMTP to the MX, LMTP, IMAP APPEND,
 * POP3 reads) against the BUILT server, each ended by `kill -9` at a random moment, then a
 * restart on the same data. At the end, over the store itself: every acknowledged message
 * is present byte-exact (deliveries end with the bytes sent, after the trace fields; an
 * APPEND is the bytes sent), nothing is stored twice, the quota equals the sum of the
 * stored sizes and the message count, and UIDs only grew (each APPENDUID above every UID
 * acknowledged before it, also across crashes). Used by kill-soak.test.ts (10 rounds,
 * SQLite) and `npm run bench -- kill-soak` (100 rounds SQLite, 20 PostgreSQL).
 */
import assert from 'node:assert/strict';
import { LocalChangeBus } from '../../src/store/bus.js';
import { openStore } from '../../src/store/open.js';
import { runCli, startServer, tempDirs, type RunningTestServer } from '../harness/server.js';
import { connect, type Transcript } from '../harness/transcript.js';

const USER = 'soak@example.test';
const PASSWORD = 'soak pw';

interface Acked {
  id: string;
  bytes: Buffer;
  via: 'smtp' | 'lmtp' | 'imap';
}

export interface SoakResult {
  rounds: number;
  acknowledged: number;
  stored: number;
  byProtocol: Record<string, number>;
}

let serial = 0;
function message(via: string): { id: string; bytes: Buffer } {
  const id = `<soak-${via}-${process.pid}-${++serial}-${Date.now()}@remote.test>`;
  const body = `line of ${id} ${'x'.repeat(serial % 200)}\r\n`.repeat(1 + (serial % 20));
  return { id, bytes: Buffer.from(`From: someone@remote.test\r\nTo: ${USER}\r\nSubject: soak ${serial}\r\nMessage-ID: ${id}\r\n\r\n${body}`) };
}

const reply = (t: Transcript) => t.readUntil(/(^|\r\n)\d{3} [^\r\n]*\r\n/);

/** One SMTP or LMTP delivery; resolves with the message once its 250 arrived, null otherwise. */
async function deliverOne(port: number, lmtp: boolean): Promise<Acked | null> {
  const m = message(lmtp ? 'lmtp' : 'smtp');
  const t = await connect(port, { timeoutMs: 10_000 });
  try {
    await reply(t);
    for (const line of [`${lmtp ? 'LHLO' : 'EHLO'} soak.test`, 'MAIL FROM:<someone@remote.test>', `RCPT TO:<${USER}>`, 'DATA']) {
      t.send(`${line}\r\n`);
      const r = await reply(t);
      if (!/(^|\n)[23]\d\d [^\n]*\r\n$/.test(r)) return null;
    }
    t.send(Buffer.concat([m.bytes, Buffer.from('.\r\n')]));
    return /(^|\n)250 [^\n]*\r\n$/.test(await reply(t)) ? { ...m, via: lmtp ? 'lmtp' : 'smtp' } : null;
  } finally {
    t.close();
  }
}

/** IMAP APPENDs on one connection; each acknowledged one is recorded with its UID. */
async function appendMany(port: number, stop: () => boolean, acked: Acked[], uids: number[]): Promise<void> {
  const t = await connect(port, { timeoutMs: 10_000 });
  try {
    await t.readLine();
    t.send(`a LOGIN ${USER} "${PASSWORD}"\r\n`);
    await t.readUntil(/a OK[^\r\n]*\r\n/);
    for (let n = 0; !stop(); n++) {
      const m = message('imap');
      t.send(`p${n} APPEND INBOX {${m.bytes.length}+}\r\n`);
      t.send(Buffer.concat([m.bytes, Buffer.from('\r\n')]));
      const done = await t.readUntil(new RegExp(`p${n} (OK|NO|BAD)[^\\r\\n]*\\r\\n`));
      const uid = /\[APPENDUID \d+ (\d+)\]/.exec(done);
      if (!uid) continue;
      acked.push({ ...m, via: 'imap' });
      uids.push(Number(uid[1]));
    }
  } finally {
    t.close();
  }
}

/** POP3 sessions that read (STAT, RETR 1, QUIT): they take and release the maildrop lock while others deliver. */
async function pop3Reads(port: number, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const t = await connect(port, { timeoutMs: 10_000 });
    try {
      await t.readLine();
      t.send(`USER ${USER}\r\nPASS ${PASSWORD}\r\n`);
      await t.readLine();
      const pass = await t.readLine();
      if (!pass.startsWith('+OK')) continue; // [IN-USE]: another reader has it
      t.send('STAT\r\nRETR 1\r\n');
      await t.readLine();
      await t.readUntil(/\r\n\.\r\n|^-ERR[^\r\n]*\r\n/);
      t.send('QUIT\r\n');
      await t.readLine();
    } finally {
      t.close();
    }
  }
}

/** Runs the workers until the server dies; every failure after the kill is expected and swallowed. */
async function loadUntilKilled(server: RunningTestServer, killAfterMs: number, acked: Acked[], uids: number[]): Promise<void> {
  let dead = false;
  const stop = () => dead;
  const loop = async (fn: () => Promise<void>) => {
    while (!dead) await fn().catch(() => undefined);
  };
  const workers = [
    loop(async () => void (await deliverOne(server.ports.smtp!, false).then((a) => a && acked.push(a)))),
    loop(async () => void (await deliverOne(server.ports.smtp!, false).then((a) => a && acked.push(a)))),
    loop(async () => void (await deliverOne(server.ports.lmtp!, true).then((a) => a && acked.push(a)))),
    loop(() => appendMany(server.ports.imap!, stop, acked, uids)),
    loop(() => pop3Reads(server.ports.pop3!, stop)),
  ];
  await new Promise((r) => setTimeout(r, killAfterMs));
  await server.stop('SIGKILL');
  dead = true;
  await Promise.all(workers);
}

export async function killSoak(opts: { rounds: number; databaseUrl?: string; seed?: number; log?: (line: string) => void }): Promise<SoakResult> {
  const { dataDir } = tempDirs();
  const env: Record<string, string> = { MAILROOM_HOSTNAME: 'mx.example.test' };
  if (opts.databaseUrl) env.MAILROOM_DATABASE_URL = opts.databaseUrl;
  const r = await runCli(['user', 'add', USER, '--password', PASSWORD], { dataDir, env });
  assert.equal(r.code, 0, r.stderr);
  const acked: Acked[] = [];
  const uids: number[] = []; // APPENDUIDs in acknowledgment order, over all rounds
  let rand = opts.seed ?? 1;
  const next = () => ((rand = (rand * 1103515245 + 12345) % 2 ** 31), rand / 2 ** 31);
  for (let round = 0; round < opts.rounds; round++) {
    const server = await startServer({ dataDir, env });
    const before = acked.length;
    await loadUntilKilled(server, 400 + Math.floor(next() * 1200), acked, uids);
    opts.log?.(`round ${round + 1}: ${acked.length - before} acknowledged before kill -9`);
  }
  // one clean start and stop: what a restart finds is what a client would see
  const last = await startServer({ dataDir, env });
  await last.stop();

  const store = await openStore({ dataDir, databaseUrl: opts.databaseUrl, bus: new LocalChangeBus() });
  try {
    const user = (await store.getUser(USER))!;
    const stored: { uid: number; raw: Buffer; size: number }[] = [];
    let usedBytes = 0;
    let usedMessages = 0;
    for (const box of await store.listMailboxes(user.id)) {
      for (const row of await store.listMessages(box.id, user.id)) {
        const chunks: Buffer[] = [];
        for await (const c of await store.openContent(row.contentId)) chunks.push(c as Buffer);
        const raw = Buffer.concat(chunks);
        usedBytes += raw.length;
        usedMessages++;
        if (box.name === 'INBOX') stored.push({ uid: row.uid, raw, size: raw.length });
      }
    }
    const quota = await store.getQuota(user.id);
    assert.equal(quota.usedBytes, usedBytes, 'quota bytes = sum of the stored sizes');
    assert.equal(quota.usedMessages, usedMessages, 'quota messages = stored messages');
    const byId = new Map<string, typeof stored>();
    for (const s of stored) {
      const id = /^Message-ID: (<[^>\r\n]*>)\r$/im.exec(s.raw.toString('latin1'))?.[1];
      if (!id) continue;
      byId.set(id, [...(byId.get(id) ?? []), s]);
    }
    for (const [id, copies] of byId) assert.equal(copies.length, 1, `${id} stored once, not ${copies.length} times`);
    for (const a of acked) {
      const copy = byId.get(a.id)?.[0];
      assert.ok(copy, `acknowledged ${a.via} message ${a.id} is stored`);
      if (a.via === 'imap') assert.ok(copy.raw.equals(a.bytes), `${a.id}: APPEND stored byte-exact`);
      else assert.ok(copy.raw.subarray(copy.raw.length - a.bytes.length).equals(a.bytes), `${a.id}: delivered bytes intact after the trace fields`);
    }
    for (let i = 1; i < uids.length; i++) assert.ok(uids[i] > uids[i - 1], `APPENDUID ${uids[i]} after ${uids[i - 1]}: UIDs only grow, across crashes too`);
    assert.equal(new Set(stored.map((s) => s.uid)).size, stored.length, 'UIDs unique');
    const byProtocol: Record<string, number> = {};
    for (const a of acked) byProtocol[a.via] = (byProtocol[a.via] ?? 0) + 1;
    return { rounds: opts.rounds, acknowledged: acked.length, stored: stored.length, byProtocol };
  } finally {
    await store.close();
  }
}
