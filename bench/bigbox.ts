/**
 * Big-mailbox workload (issue 10): one INBOX of BENCH_BIGBOX_MESSAGES (default 100,000)
 * messages of at most 16 KB, then, warm, what a client does on it, each timed over a raw
 * socket (no client library in the figure) and reported as the median of
 * BENCH_BIGBOX_ROUNDS (default 5) rounds, Mailroom's and Dovecot's rounds alternated:
 *   - connect + LOGIN + SELECT INBOX
 *   - UID FETCH 1:* (FLAGS)
 *   - FETCH of the last 500 (ENVELOPE), (BODYSTRUCTURE), and the message-list FETCH of
 *     mail clients (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (...)])
 *   - STATUS INBOX (MESSAGES UNSEEN UIDNEXT RECENT) from a second session (INBOX selected in the first)
 *   - after the rounds, the same STATUS right after another session APPENDed a message
 * The first round's figures are reported as cold (Mailroom: just started, empty caches).
 * Mailroom is filled through direct store calls before it starts (blob files written
 * without fsync: the fill is set-up, not the figure); Dovecot gets maildir files in
 * `cur/` (a third \Seen, as in Mailroom) and builds its index at the first SELECT, which
 * the warm-up round absorbs. Loopback only, bounded in count.
 */
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { LocalChangeBus } from '../src/store/bus.js';
import { openStore } from '../src/store/open.js';
import { indexMessage } from '../src/mime/index-message.js';
import { searchText } from '../src/mime/search-text.js';
import type { Store } from '../src/store/types.js';
import { runCli, startServer, tempDirs } from '../test/harness/server.js';
import { prng } from './corpus.js';
import { dovecotVersion, startDovecot } from './dovecot.js';
import { RawImapClient } from './imap-raw-client.js';
import { benchMailroomEnv, benchNodeArgs } from './login.js';

const USER = 'bigbox@bench.test';
const PASSWORD = 'bench-password';
const ROUND_OPERATIONS = ['loginSelect', 'fetchFlags', 'fetchEnvelopeLast500', 'fetchBodystructureLast500', 'fetchHeadersLast500', 'status'] as const;
const OPERATIONS = [...ROUND_OPERATIONS, 'statusAfterDelivery'] as const;
type RoundOperation = (typeof ROUND_OPERATIONS)[number];
type Operation = (typeof OPERATIONS)[number];

export interface BigboxTargetResult {
  server: string;
  fillSeconds: number;
  /** Median ms per operation, warm. */
  ms: Record<Operation, number>;
  /** The first round after the server started (Mailroom: empty content cache; Dovecot: builds its index). */
  coldMs: Record<RoundOperation, number>;
  /** What the server answered (EXISTS, FETCH lines, STATUS line), to see both did the same work. */
  checks: Record<string, string | number>;
}

export interface BigboxBenchResult {
  messages: number;
  rounds: number;
  mailroom: BigboxTargetResult | { error: string };
  dovecot: BigboxTargetResult | { skipped: string } | { error: string };
  /** Dovecot's time divided by Mailroom's, per operation (above 1: Mailroom faster). */
  ratio?: Partial<Record<Operation, number>>;
}

/** The n-th message: 1–16 KB of text, realistic headers; a third are \Seen. */
export function bigboxMessage(n: number, rand: () => number): Buffer {
  const words = ['meeting', 'report', 'invoice', 'hello', 'thanks', 'project', 'update', 'budget', 'travel', 'lunch'];
  const size = Math.round(1024 * Math.pow(15, rand()));
  const lines: string[] = [];
  for (let len = 0; len < size; ) {
    const line = Array.from({ length: 9 }, () => words[Math.floor(rand() * words.length)]).join(' ');
    lines.push(line);
    len += line.length + 2;
  }
  const head = [
    `From: Sender ${n % 40} <sender${n % 40}@example.net>`,
    `To: ${USER}`,
    `Cc: "Team ${n % 7}" <team${n % 7}@example.org>`,
    `Subject: ${words[n % words.length]} number ${n}`,
    `Date: Sat, 21 Nov 2026 ${String(n % 24).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00 +0000`,
    `Message-ID: <bigbox-${n}@example.net>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
  ];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${lines.join('\r\n')}\r\n`);
}

const isSeen = (n: number) => n % 3 === 0;


/** Appends every message with a few appends in flight (they share group commits). */
async function fillStore(store: Store, blobDir: string, count: number): Promise<void> {
  const user = (await store.getUser(USER))!;
  const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
  const rand = prng(11);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const raw = bigboxMessage(n, rand);
      const hash = createHash('sha256').update(raw).digest('hex');
      const file = join(blobDir, hash.slice(0, 2), hash.slice(2, 4), hash);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, raw);
      const index = indexMessage(raw);
      const content = { id: hash, size: raw.length, segments: [{ hash, size: raw.length }], index, searchText: searchText(raw, index) };
      await store.appendMessage({ mailboxId: inbox.id, content, flags: isSeen(n) ? ['\\Seen'] : [], internalDate: new Date(1_790_000_000_000 + n * 1000) });
      if (n > 0 && n % 20_000 === 0) process.stderr.write(`  filled ${n}/${count}\n`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[s.length >> 1] * 10) / 10;
}

/** One round of the four operations; returns ms per operation and what was answered. */
async function round(port: number, user: string, checks: Record<string, string | number>): Promise<Record<RoundOperation, number>> {
  const t0 = performance.now();
  const { client } = await RawImapClient.connect(port, { timeoutMs: 600_000 });
  await client.ok(`LOGIN ${user} ${PASSWORD}`);
  const select = await client.ok('SELECT INBOX', { timeoutMs: 600_000 });
  const loginSelect = performance.now() - t0;
  const exists = Number(select.untagged.map((l) => /^\* (\d+) EXISTS/.exec(l)?.[1]).find(Boolean) ?? 0);
  checks.exists = exists;

  let t = performance.now();
  const flags = await client.ok('UID FETCH 1:* (FLAGS)', { timeoutMs: 600_000 });
  const fetchFlags = performance.now() - t;
  checks.flagLines = flags.untagged.length;

  t = performance.now();
  const env = await client.ok(`FETCH ${Math.max(1, exists - 499)}:${exists} (ENVELOPE)`, { timeoutMs: 600_000 });
  const fetchEnvelopeLast500 = performance.now() - t;
  checks.envelopeLines = env.untagged.length;

  t = performance.now();
  const bs = await client.ok(`FETCH ${Math.max(1, exists - 499)}:${exists} (BODYSTRUCTURE)`, { timeoutMs: 600_000 });
  const fetchBodystructureLast500 = performance.now() - t;
  checks.bodystructureLines = bs.untagged.length;

  // What a mail client's message list asks for (Thunderbird, imapflow users, mutt).
  t = performance.now();
  const hd = await client.ok(`FETCH ${Math.max(1, exists - 499)}:${exists} (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO CC SUBJECT DATE MESSAGE-ID)])`, { timeoutMs: 600_000 });
  const fetchHeadersLast500 = performance.now() - t;
  checks.headerLines = hd.untagged.length;

  const { client: other } = await RawImapClient.connect(port);
  await other.ok(`LOGIN ${user} ${PASSWORD}`);
  t = performance.now();
  const status = await other.ok('STATUS INBOX (MESSAGES UNSEEN UIDNEXT RECENT)');
  const statusMs = performance.now() - t;
  checks.status = status.untagged.join(' ').trim();

  await other.ok('LOGOUT');
  await other.close();
  await client.ok('LOGOUT');
  await client.close();
  return { loginSelect, fetchFlags, fetchEnvelopeLast500, fetchBodystructureLast500, fetchHeadersLast500, status: statusMs };
}

/**
 * After the rounds (a delivery changes what later rounds measure: Dovecot rescans its
 * maildir at the next SELECT): one session APPENDs a message, another times STATUS, which
 * then cannot answer from anything remembered for the old state.
 */
async function statusAfterDeliveries(port: number, user: string, rounds: number): Promise<number[]> {
  const { client } = await RawImapClient.connect(port, { timeoutMs: 600_000 });
  await client.ok(`LOGIN ${user} ${PASSWORD}`);
  await client.ok('SELECT INBOX', { timeoutMs: 600_000 });
  const { client: other } = await RawImapClient.connect(port);
  await other.ok(`LOGIN ${user} ${PASSWORD}`);
  await other.ok('STATUS INBOX (MESSAGES UNSEEN UIDNEXT RECENT)', { timeoutMs: 600_000 });
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await client.ok('APPEND INBOX', { literal: bigboxMessage(1_000_000 + i, prng(i)), timeoutMs: 600_000 });
    const t = performance.now();
    await other.ok('STATUS INBOX (MESSAGES UNSEEN UIDNEXT RECENT)', { timeoutMs: 600_000 });
    out.push(performance.now() - t);
  }
  await other.ok('LOGOUT');
  await other.close();
  await client.ok('LOGOUT');
  await client.close();
  return out;
}

/** A server filled and listening. */
interface Target {
  server: string;
  port: number;
  fillSeconds: number;
  stop(): Promise<void>;
}

/**
 * Both servers up at once, their rounds alternated (A B A B), so a change in the machine's
 * load during the run hits both; each gets its warm-up round first.
 */
async function measureAlternating(targets: Target[], rounds: number): Promise<BigboxTargetResult[]> {
  const checks = targets.map(() => ({}) as Record<string, string | number>);
  const colds: Record<RoundOperation, number>[] = [];
  for (const [k, t] of targets.entries()) {
    const cold = await round(t.port, USER, checks[k]); // warm-up: caches, Dovecot's index build
    process.stderr.write(`  ${t.server} cold: ${ROUND_OPERATIONS.map((op) => `${op} ${Math.round(cold[op] * 10) / 10} ms`).join(', ')}\n`);
    colds.push(cold);
  }
  const per = targets.map(() => Object.fromEntries(OPERATIONS.map((op) => [op, [] as number[]])) as Record<Operation, number[]>);
  for (let i = 0; i < rounds; i++) {
    for (const [k, t] of targets.entries()) {
      const r = await round(t.port, USER, checks[k]);
      for (const op of ROUND_OPERATIONS) per[k][op].push(r[op]);
    }
  }
  for (const [k, t] of targets.entries()) per[k].statusAfterDelivery = await statusAfterDeliveries(t.port, USER, rounds);
  return targets.map((t, k) => {
    const ms = Object.fromEntries(OPERATIONS.map((op) => [op, median(per[k][op])])) as Record<Operation, number>;
    process.stderr.write(`  ${t.server}: ${OPERATIONS.map((op) => `${op} ${ms[op]} ms`).join(', ')}\n`);
    const coldMs = Object.fromEntries(ROUND_OPERATIONS.map((op) => [op, Math.round(colds[k][op] * 10) / 10])) as Record<RoundOperation, number>;
    return { server: t.server, fillSeconds: Math.round(t.fillSeconds * 10) / 10, ms, coldMs, checks: checks[k] };
  });
}

/**
 * BENCH_BIGBOX_KEEP=<dir>: fill Mailroom's data directory there once and reuse it on later
 * runs (iterating on a 100,000-message figure without refilling each time; the messages
 * the delivery phase APPENDed stay); the directory is the caller's to remove.
 */
async function prepareMailroom(count: number): Promise<Target> {
  const keep = process.env.BENCH_BIGBOX_KEEP;
  const dataDir = keep ? join(keep, `data-${count}`) : tempDirs().dataDir;
  const t0 = performance.now();
  if (!keep || !existsSync(join(dataDir, '.filled'))) {
    mkdirSync(dataDir, { recursive: true });
    const added = await runCli(['user', 'add', USER, '--password', PASSWORD], { dataDir });
    if (added.code !== 0) throw new Error(`user add: ${added.stderr.trim()}`);
    const store = await openStore({ dataDir, bus: new LocalChangeBus() });
    try {
      const blobDir = (store.blobs as { dir?: string }).dir;
      if (!blobDir) throw new Error('the bigbox fill needs a file blob store');
      // Set-up, not the figure: no fsync per commit while filling (the server reopens with FULL).
      (store as { database?: { pragma(p: string): unknown } }).database?.pragma('synchronous = OFF');
      await fillStore(store, blobDir, count);
    } finally {
      await store.close();
    }
    if (keep) writeFileSync(join(dataDir, '.filled'), '');
  }
  const fillSeconds = (performance.now() - t0) / 1000;
  const s = await startServer({ dataDir, env: benchMailroomEnv(), timeoutMs: 120_000, nodeArgs: benchNodeArgs() });
  return { server: 'mailroom', port: s.ports.imap!, fillSeconds, stop: async () => void (await s.stop()) };
}

async function prepareDovecot(count: number): Promise<Target> {
  const d = await startDovecot([{ user: USER, password: PASSWORD }]);
  try {
    const t0 = performance.now();
    const { uid, gid } = d.mailOwner;
    const maildir = join(d.home(USER), 'Maildir');
    for (const sub of ['', 'cur', 'new', 'tmp']) {
      mkdirSync(join(maildir, sub), { recursive: true });
      chownSync(join(maildir, sub), uid, gid);
    }
    const rand = prng(11);
    for (let n = 0; n < count; n++) {
      const raw = bigboxMessage(n, rand);
      const file = join(maildir, 'cur', `${1_790_000_000 + n}.M${n}P1.bench:2,${isSeen(n) ? 'S' : ''}`);
      writeFileSync(file, raw);
      chownSync(file, uid, gid);
    }
    return { server: `dovecot ${d.version}`, port: d.port, fillSeconds: (performance.now() - t0) / 1000, stop: () => d.stop() };
  } catch (err) {
    await d.stop();
    throw err;
  }
}

/** Mailroom and Dovecot (when installed) on the same mail, rounds alternated. */
export async function benchBigbox(): Promise<BigboxBenchResult> {
  const count = Math.min(200_000, Number(process.env.BENCH_BIGBOX_MESSAGES ?? 100_000));
  const rounds = Math.min(20, Number(process.env.BENCH_BIGBOX_ROUNDS ?? 5));
  const result: BigboxBenchResult = { messages: count, rounds, mailroom: { error: 'not run' }, dovecot: { skipped: 'not run' } };
  const targets: Target[] = [];
  try {
    try {
      targets.push(await prepareMailroom(count));
    } catch (err) {
      result.mailroom = { error: (err as Error).message };
      process.stderr.write(`  mailroom: ${(err as Error).message}\n`);
    }
    if (!dovecotVersion()) result.dovecot = { skipped: 'dovecot is not installed here' };
    else if (process.env.BENCH_BIGBOX_DOVECOT === '0') result.dovecot = { skipped: 'BENCH_BIGBOX_DOVECOT=0' };
    else {
      try {
        targets.push(await prepareDovecot(count));
      } catch (err) {
        result.dovecot = { error: (err as Error).message };
        process.stderr.write(`  dovecot: ${(err as Error).message}\n`);
      }
    }
    const measured = await measureAlternating(targets, rounds);
    for (const m of measured) {
      if (m.server === 'mailroom') result.mailroom = m;
      else result.dovecot = m;
    }
  } finally {
    for (const t of targets) await t.stop();
  }
  const ours = result.mailroom;
  const peer = result.dovecot;
  if ('ms' in ours && 'ms' in peer) {
    result.ratio = Object.fromEntries(OPERATIONS.map((op) => [op, ours.ms[op] > 0 ? Math.round((peer.ms[op] / ours.ms[op]) * 100) / 100 : undefined]));
    process.stderr.write(`  ratio (Dovecot ms / Mailroom ms): ${JSON.stringify(result.ratio)}\n`);
  }
  return result;
}
