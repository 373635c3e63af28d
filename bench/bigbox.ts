/**
 * Big-mailbox workload (issue 10): one INBOX of BENCH_BIGBOX_MESSAGES (default 100,000)
 * messages of at most 16 KB, then, warm, what a client does on it, each timed over a raw
 * socket (no client library in the figure) and reported as the median of
 * BENCH_BIGBOX_ROUNDS (default 5) rounds, Mailroom's and Dovecot's rounds alternated:
 *   - connect + LOGIN + SELECT INBOX
 *   - UID FETCH 1:* (FLAGS)
 *   - FETCH of the last 500 (ENVELOPE), (BODYSTRUCTURE), and the message-list FETCH of
 *     mail clients (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (...)])
 *   - FETCH of the last 50 (ENVELOPE), SEARCH UNSEEN, SORT (REVERSE DATE) UTF-8 ALL,
 *     THREAD REFERENCES UTF-8 ALL
 *   - STATUS INBOX (MESSAGES UNSEEN UIDNEXT RECENT) from a second session (INBOX selected in the first)
 *   - a reconnect: new session, ENABLE QRESYNC, SELECT INBOX (QRESYNC (v m)) with nothing changed
 *   - in rounds of their own (Dovecot without FTS reads every message): SEARCH TEXT of a
 *     word in one message in 10,000 and of a word in none
 *   - after the rounds, the same STATUS right after another session APPENDed a message
 *   - cold after a restart (BENCH_BIGBOX_RESTARTS times, default 3, the median): the first
 *     SORT (REVERSE DATE) of a new session of a just restarted Mailroom, then, after another
 *     restart, the first THREAD REFERENCES. Dovecot is not restarted: each of its IMAP
 *     sessions is a new process (service imap, service_count 1) with nothing in memory, and
 *     what is on disk (its index and cache files) a restart would keep, so its figure is the
 *     same commands in a new session.
 * The two servers' answers are compared (counts, digests of SORT/THREAD answers, hits) and
 * any difference is reported in `mismatches`.
 * The first round's figures are reported as cold (Mailroom: just started, empty caches);
 * BENCH_BIGBOX_WARM_ROUNDS (default 3) untimed rounds of each follow before the timed ones.
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
import { RawImapClient, type ImapReply } from './imap-raw-client.js';
import { benchMailroomEnv, benchNodeArgs } from './login.js';

const USER = 'bigbox@bench.test';
const PASSWORD = 'bench-password';
const ROUND_OPERATIONS = [
  'loginSelect', 'fetchFlags', 'fetchEnvelopeLast500', 'fetchBodystructureLast500', 'fetchHeadersLast500', 'fetchEnvelopeLast50',
  'searchUnseen', 'sortReverseDate', 'threadReferences', 'status', 'qresyncSelect',
] as const;
/** Measured in their own alternated rounds: Dovecot without FTS reads every message for them. */
const TEXT_OPERATIONS = ['searchTextRare', 'searchTextAbsent'] as const;
/** The first SORT / THREAD after a restart, each in rounds of its own. */
const RESTART_OPERATIONS = ['sortAfterRestart', 'threadAfterRestart'] as const;
const OPERATIONS = [...ROUND_OPERATIONS, ...TEXT_OPERATIONS, 'statusAfterDelivery', ...RESTART_OPERATIONS] as const;
type RoundOperation = (typeof ROUND_OPERATIONS)[number];
type TextOperation = (typeof TEXT_OPERATIONS)[number];
type Operation = (typeof OPERATIONS)[number];
/** In the body of one message in RARE_EVERY (10 at 100,000, the 8th message first); no message has ABSENT_WORD. */
const RARE_WORD = 'zeppelin';
const RARE_EVERY = 10_000;
const ABSENT_WORD = 'xylophone';

export interface BigboxTargetResult {
  server: string;
  fillSeconds: number;
  /** Median ms per operation, warm. */
  ms: Partial<Record<Operation, number>>;
  /** The first round after the server started (Mailroom: empty content cache; Dovecot: builds its index). */
  coldMs: Record<RoundOperation | TextOperation, number>;
  /** What the server answered (EXISTS, FETCH lines, STATUS line), to see both did the same work. */
  checks: Record<string, string | number>;
}

export interface BigboxBenchResult {
  messages: number;
  rounds: number;
  /** Rounds of the SEARCH TEXT pair (BENCH_BIGBOX_TEXT_ROUNDS). */
  textRounds: number;
  /** Answers that should be equal on the same mail but are not (Mailroom's value / Dovecot's). */
  mismatches?: Record<string, string>;
  mailroom: BigboxTargetResult | { error: string };
  dovecot: BigboxTargetResult | { skipped: string } | { error: string };
  /** Dovecot's time divided by Mailroom's, per operation (above 1: Mailroom faster). */
  ratio?: Partial<Record<Operation, number>>;
}

/** The n-th message: 1–16 KB of text, realistic headers; a third are \Seen; one in RARE_EVERY has RARE_WORD. */
export function bigboxMessage(n: number, rand: () => number): Buffer {
  const words = ['meeting', 'report', 'invoice', 'hello', 'thanks', 'project', 'update', 'budget', 'travel', 'lunch'];
  const size = Math.round(1024 * Math.pow(15, rand()));
  const lines: string[] = [];
  for (let len = 0; len < size; ) {
    const line = Array.from({ length: 9 }, () => words[Math.floor(rand() * words.length)]).join(' ');
    lines.push(line);
    len += line.length + 2;
  }
  if (n % RARE_EVERY === 7) lines.splice(lines.length >> 1, 0, `the ${RARE_WORD} lands on friday`);
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

/** The message numbers of a `* SEARCH` answer. */
function searchNumbers(reply: ImapReply): number[] {
  const line = reply.untagged.find((l) => l.startsWith('* SEARCH')) ?? '';
  return line.slice('* SEARCH'.length).trim().split(' ').filter(Boolean).map(Number);
}

/** A short digest of a long answer, to compare both servers' without keeping 100,000 numbers. */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The number of top-level threads in a `* THREAD` answer. */
function threadCount(line: string): number {
  let depth = 0;
  let roots = 0;
  for (const c of line) {
    if (c === '(' && depth++ === 0) roots++;
    else if (c === ')') depth--;
  }
  return roots;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await f();
  return [out, performance.now() - t];
}

/** One round of the per-round operations; returns ms per operation and what was answered. */
async function round(port: number, user: string, checks: Record<string, string | number>): Promise<Record<RoundOperation, number>> {
  const long = { timeoutMs: 600_000 };
  const t0 = performance.now();
  const { client } = await RawImapClient.connect(port, long);
  await client.ok(`LOGIN ${user} ${PASSWORD}`);
  const select = await client.ok('SELECT INBOX', long);
  const loginSelect = performance.now() - t0;
  const exists = Number(select.untagged.map((l) => /^\* (\d+) EXISTS/.exec(l)?.[1]).find(Boolean) ?? 0);
  checks.exists = exists;
  const last = (n: number) => `${Math.max(1, exists - n + 1)}:${exists}`;

  const [flags, fetchFlags] = await timed(() => client.ok('UID FETCH 1:* (FLAGS)', long));
  checks.flagLines = flags.untagged.length;
  const [env, fetchEnvelopeLast500] = await timed(() => client.ok(`FETCH ${last(500)} (ENVELOPE)`, long));
  checks.envelopeLines = env.untagged.length;
  const [bs, fetchBodystructureLast500] = await timed(() => client.ok(`FETCH ${last(500)} (BODYSTRUCTURE)`, long));
  checks.bodystructureLines = bs.untagged.length;
  // What a mail client's message list asks for (Thunderbird, imapflow users, mutt).
  const [hd, fetchHeadersLast500] = await timed(() => client.ok(`FETCH ${last(500)} (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO CC SUBJECT DATE MESSAGE-ID)])`, long));
  checks.headerLines = hd.untagged.length;
  // A phone's first screen.
  const [env50, fetchEnvelopeLast50] = await timed(() => client.ok(`FETCH ${last(50)} (ENVELOPE)`, long));
  checks.envelope50Lines = env50.untagged.length;
  checks.envelope50Digest = digest(env50.untagged.join('\n'));

  const [unseen, searchUnseen] = await timed(() => client.ok('SEARCH UNSEEN', long));
  checks.unseenCount = searchNumbers(unseen).length;
  const [sorted, sortReverseDate] = await timed(() => client.ok('SORT (REVERSE DATE) UTF-8 ALL', long));
  const sortLine = sorted.untagged.find((l) => l.startsWith('* SORT')) ?? '';
  checks.sortCount = sortLine.split(' ').length - 2;
  checks.sortDigest = digest(sortLine);
  const [threads, threadReferences] = await timed(() => client.ok('THREAD REFERENCES UTF-8 ALL', long));
  const threadLine = threads.untagged.find((l) => l.startsWith('* THREAD')) ?? '';
  checks.threadRoots = threadCount(threadLine);
  checks.threadDigest = digest(threadLine);

  const { client: other } = await RawImapClient.connect(port);
  await other.ok(`LOGIN ${user} ${PASSWORD}`);
  const [status, statusMs] = await timed(() => other.ok('STATUS INBOX (MESSAGES UNSEEN UIDNEXT RECENT)'));
  checks.status = status.untagged.join(' ').trim();
  // A reconnecting client's state: UIDVALIDITY and HIGHESTMODSEQ as its last session saw them.
  await other.ok('ENABLE QRESYNC');
  const seen = (await other.ok('SELECT INBOX', long)).untagged.join(' ');
  const validity = /UIDVALIDITY (\d+)/.exec(seen)?.[1];
  const modseq = /HIGHESTMODSEQ (\d+)/.exec(seen)?.[1];
  if (!validity || !modseq) throw new Error(`SELECT after ENABLE QRESYNC gave no UIDVALIDITY/HIGHESTMODSEQ: ${seen.slice(0, 300)}`);
  await other.ok('LOGOUT');
  await other.close();

  const { client: again } = await RawImapClient.connect(port);
  await again.ok(`LOGIN ${user} ${PASSWORD}`);
  await again.ok('ENABLE QRESYNC');
  const [resync, qresyncSelect] = await timed(() => again.ok(`SELECT INBOX (QRESYNC (${validity} ${modseq}))`, long));
  // Nothing changed: no VANISHED and no FETCH, whatever the mailbox's size.
  checks.qresyncChangeLines = resync.untagged.filter((l) => /^\* (VANISHED|\d+ FETCH)/.test(l)).length;
  await again.ok('LOGOUT');
  await again.close();

  await client.ok('LOGOUT');
  await client.close();
  return {
    loginSelect, fetchFlags, fetchEnvelopeLast500, fetchBodystructureLast500, fetchHeadersLast500, fetchEnvelopeLast50,
    searchUnseen, sortReverseDate, threadReferences, status: statusMs, qresyncSelect,
  };
}

/** `SEARCH TEXT` of a word in a few messages and of one in none, INBOX selected. */
async function textRound(port: number, user: string, checks: Record<string, string | number>): Promise<Record<TextOperation, number>> {
  const long = { timeoutMs: 600_000 };
  const { client } = await RawImapClient.connect(port, long);
  await client.ok(`LOGIN ${user} ${PASSWORD}`);
  await client.ok('SELECT INBOX', long);
  const [rare, searchTextRare] = await timed(() => client.ok(`SEARCH TEXT ${RARE_WORD}`, long));
  checks.textRare = searchNumbers(rare).join(' ');
  const [absent, searchTextAbsent] = await timed(() => client.ok(`SEARCH TEXT ${ABSENT_WORD}`, long));
  checks.textAbsentCount = searchNumbers(absent).length;
  await client.ok('LOGOUT');
  await client.close();
  return { searchTextRare, searchTextAbsent };
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
  /** Stops and starts the server on the same data (`port` may change); absent: nothing a restart would clear. */
  restart?(): Promise<void>;
}

/** The first `command` of a new session, after a restart of the server when it has one. */
async function firstAfterRestart(t: Target, command: string, checks: Record<string, string | number>, key: string): Promise<number> {
  await t.restart?.();
  const long = { timeoutMs: 600_000 };
  const { client } = await RawImapClient.connect(t.port, long);
  await client.ok(`LOGIN ${USER} ${PASSWORD}`);
  await client.ok('SELECT INBOX', long);
  const [reply, ms] = await timed(() => client.ok(command, long));
  checks[key] = digest(reply.untagged.find((l) => /^\* (SORT|THREAD)/.test(l)) ?? '');
  await client.ok('LOGOUT');
  await client.close();
  return ms;
}

/**
 * Both servers up at once, their rounds alternated (A B A B), so a change in the machine's
 * load during the run hits both; each gets its warm-up round first. SEARCH TEXT has fewer
 * rounds of its own (BENCH_BIGBOX_TEXT_ROUNDS, default 2, after a warm-up each): Dovecot
 * without FTS reads every message for it, tens of seconds a search at 100,000.
 */
async function measureAlternating(targets: Target[], rounds: number, textRounds: number): Promise<BigboxTargetResult[]> {
  const checks = targets.map(() => ({}) as Record<string, string | number>);
  const colds: Record<RoundOperation | TextOperation, number>[] = [];
  const say = (server: string, what: string, r: Partial<Record<Operation, number>>) =>
    process.stderr.write(`  ${server} ${what}: ${Object.entries(r).map(([op, ms]) => `${op} ${Math.round(ms * 10) / 10} ms`).join(', ')}\n`);
  for (const [k, t] of targets.entries()) {
    const cold = await round(t.port, USER, checks[k]); // warm-up: caches, Dovecot's index build
    say(t.server, 'cold', cold);
    colds.push({ ...cold, searchTextRare: NaN, searchTextAbsent: NaN });
  }
  // Untimed rounds, alternated: the rounds after the cold one still showed Mailroom's code
  // being optimised (ENVELOPE of the last 500: 15.7, 8.3, 3.9, then 2.1 and 2.1 ms), which
  // a server that has run for a while is past; Dovecot's were flat from the first.
  const warm = Math.min(10, Math.max(0, Number(process.env.BENCH_BIGBOX_WARM_ROUNDS ?? 3)));
  for (let i = 0; i < warm; i++) for (const [k, t] of targets.entries()) await round(t.port, USER, checks[k]);
  const per = targets.map(() => Object.fromEntries(OPERATIONS.map((op) => [op, [] as number[]])) as Record<Operation, number[]>);
  for (let i = 0; i < rounds; i++) {
    for (const [k, t] of targets.entries()) {
      const r = await round(t.port, USER, checks[k]);
      say(t.server, `round ${i + 1}`, r);
      for (const op of ROUND_OPERATIONS) per[k][op].push(r[op]);
    }
  }
  for (const [k, t] of targets.entries()) {
    const cold = await textRound(t.port, USER, checks[k]);
    say(t.server, 'text cold', cold);
    Object.assign(colds[k], cold);
  }
  for (let i = 0; i < textRounds; i++) {
    for (const [k, t] of targets.entries()) {
      const r = await textRound(t.port, USER, checks[k]);
      say(t.server, `text round ${i + 1}`, r);
      for (const op of TEXT_OPERATIONS) per[k][op].push(r[op]);
    }
  }
  for (const [k, t] of targets.entries()) per[k].statusAfterDelivery = await statusAfterDeliveries(t.port, USER, rounds);
  const restarts = Math.min(10, Number(process.env.BENCH_BIGBOX_RESTARTS ?? 3));
  for (let i = 0; i < restarts; i++) {
    for (const [k, t] of targets.entries()) {
      const r = {
        sortAfterRestart: await firstAfterRestart(t, 'SORT (REVERSE DATE) UTF-8 ALL', checks[k], 'sortAfterRestartDigest'),
        threadAfterRestart: await firstAfterRestart(t, 'THREAD REFERENCES UTF-8 ALL', checks[k], 'threadAfterRestartDigest'),
      };
      say(t.server, `after restart ${i + 1}`, r);
      for (const op of RESTART_OPERATIONS) per[k][op].push(r[op]);
    }
  }
  return targets.map((t, k) => {
    const ms = Object.fromEntries(OPERATIONS.filter((op) => per[k][op].length).map((op) => [op, median(per[k][op])])) as Partial<Record<Operation, number>>;
    say(t.server, 'median', ms);
    const coldMs = Object.fromEntries(Object.entries(colds[k]).map(([op, v]) => [op, Math.round(v * 10) / 10])) as Record<RoundOperation | TextOperation, number>;
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
  const start = () => startServer({ dataDir, env: benchMailroomEnv(), timeoutMs: 120_000, nodeArgs: benchNodeArgs() });
  let s = await start();
  const target: Target = {
    server: 'mailroom',
    port: s.ports.imap!,
    fillSeconds,
    stop: async () => void (await s.stop()),
    restart: async () => {
      await s.stop();
      s = await start();
      target.port = s.ports.imap!;
    },
  };
  return target;
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

/**
 * The answers both servers must give alike on the same mail. Not compared: STATUS (Mailroom
 * has the delivery phase's messages when BENCH_BIGBOX_KEEP reuses a store; RECENT differs
 * by design), line counts already implied by these.
 */
const SAME_ANSWERS = [
  'exists', 'flagLines', 'envelope50Digest', 'unseenCount', 'sortCount', 'sortDigest', 'threadRoots', 'threadDigest', 'qresyncChangeLines', 'textRare', 'textAbsentCount',
  'sortAfterRestartDigest', 'threadAfterRestartDigest',
];

function compareAnswers(ours: Record<string, string | number>, peer: Record<string, string | number>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of SAME_ANSWERS) if (ours[key] !== peer[key]) out[key] = `${String(ours[key])} / ${String(peer[key])}`;
  return out;
}

/** Mailroom and Dovecot (when installed) on the same mail, rounds alternated. */
export async function benchBigbox(): Promise<BigboxBenchResult> {
  const count = Math.min(200_000, Number(process.env.BENCH_BIGBOX_MESSAGES ?? 100_000));
  const rounds = Math.min(20, Number(process.env.BENCH_BIGBOX_ROUNDS ?? 5));
  const textRounds = Math.min(20, Number(process.env.BENCH_BIGBOX_TEXT_ROUNDS ?? 2));
  const result: BigboxBenchResult = { messages: count, rounds, textRounds, mailroom: { error: 'not run' }, dovecot: { skipped: 'not run' } };
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
    const measured = await measureAlternating(targets, rounds, textRounds);
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
    result.ratio = Object.fromEntries(OPERATIONS.map((op) => {
      const a = ours.ms[op];
      const b = peer.ms[op];
      return [op, a !== undefined && b !== undefined && a > 0 ? Math.round((b / a) * 100) / 100 : undefined];
    }));
    result.mismatches = compareAnswers(ours.checks, peer.checks);
    if (Object.keys(result.mismatches).length) process.stderr.write(`  answers differ: ${JSON.stringify(result.mismatches)}\n`);
    process.stderr.write(`  ratio (Dovecot ms / Mailroom ms): ${JSON.stringify(result.ratio)}\n`);
  }
  return result;
}
