/**
 * `npm run bench search`: `UID SEARCH TEXT <rare word>` on a big INBOX, warm, over IMAP,
 * Mailroom beside Dovecot (no FTS plugin: its default) filled with the same messages.
 *
 * The corpus is realistic mail of at most 16 KB (plain text, text + HTML alternatives,
 * some with a small attachment; words drawn Zipf-like from a few thousand, a little
 * non-ASCII), with one rare word in exactly RARE_HITS of them. Both servers are filled
 * directly, not over the network: Mailroom through store calls (the MIME index and search
 * text as ingest makes them, blob files written without fsync), Dovecot as maildir files.
 * Sizes: BENCH_SEARCH_SIZES (default "20000,100000"); each is one fill and one timing.
 */
import { mkdirSync, chownSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { LocalChangeBus } from '../src/store/bus.js';
import { FsBlobStore } from '../src/store/blob/fs-blob-store.js';
import { openStore } from '../src/store/open.js';
import type { NewContent } from '../src/store/types.js';
import { indexMessage } from '../src/mime/index-message.js';
import { searchText } from '../src/mime/search-text.js';
import { runCli, startServer, tempDirs } from '../test/harness/server.js';
import { prng } from './corpus.js';
import { dovecotVersion, startDovecot } from './dovecot.js';
import { RawImapClient } from './imap-raw-client.js';
import { benchMailroomEnv } from './login.js';

const USER = 'search@bench.test';
const PASSWORD = 'bench-password';
const RARE = 'zygomorphic';
const RARE_HITS = 5;
const MAX_SIZE = 16 * 1024;
const TIMED_RUNS = 5;

interface Timing {
  messages: number;
  fillSeconds: number;
  /** Median of the timed runs, after one warm-up run. */
  medianMs: number;
  runsMs: number[];
  hits: number;
}

export interface SearchBenchResult {
  rareWord: string;
  sizes: number[];
  mailroom: Record<string, Timing | { error: string }>;
  dovecot: Record<string, Timing | { error: string } | { skipped: string }>;
  /** Mailroom / Dovecot time per size (below 1: Mailroom faster). */
  ratio: Record<string, number>;
  /** The largest size, for bench/report.ts. */
  largest: { messages: number; mailroomMs?: number; dovecotMs?: number };
}

/** A vocabulary of pronounceable words, drawn Zipf-like so common words are common. */
function vocabulary(rand: () => number): string[] {
  const syl = ['ka', 'lo', 'mi', 're', 'tu', 'san', 'ver', 'del', 'pro', 'qua', 'sti', 'on', 'al', 'ber', 'ti', 'ne', 'gra', 'fü', 'né', 'ment'];
  const base = ['the', 'and', 'meeting', 'report', 'invoice', 'project', 'thanks', 'please', 'update', 'tomorrow', 'attached', 'server', 'budget'];
  const words = new Set(base);
  while (words.size < 4000) words.add(Array.from({ length: 2 + Math.floor(rand() * 3) }, () => syl[Math.floor(rand() * syl.length)]).join(''));
  return [...words];
}

function sentence(words: string[], rand: () => number, n: number): string {
  return Array.from({ length: n }, () => words[Math.floor(words.length * Math.pow(rand(), 3))]).join(' ');
}

/** The n-th message of the corpus; `rare` puts the rare word in its body. */
function message(n: number, words: string[], rand: () => number, rare: boolean): Buffer {
  const subject = sentence(words, rand, 3 + Math.floor(rand() * 5));
  const headers = [
    `From: ${sentence(words, rand, 1)} <user${n % 400}@example.net>`,
    `To: ${USER}`,
    `Subject: ${subject}`,
    `Date: Sat, 21 Nov 2026 10:${String(n % 60).padStart(2, '0')}:00 +0000`,
    `Message-ID: <search-${n}@example.net>`,
    'MIME-Version: 1.0',
  ].join('\r\n');
  const target = 800 + Math.floor(Math.pow(rand(), 2) * 11_000);
  const lines: string[] = [];
  for (let size = 0; size < target; ) {
    const line = sentence(words, rand, 8 + Math.floor(rand() * 6));
    lines.push(line);
    size += line.length + 2;
  }
  if (rare) lines.splice(Math.floor(lines.length / 2), 0, `see the ${RARE} note`);
  const text = lines.join('\r\n');
  const kind = rand();
  let raw: string;
  if (kind < 0.7) {
    raw = `${headers}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n`;
  } else if (kind < 0.9) {
    const html = `<html><body><p>${text.replace(/\r\n/g, '</p>\r\n<p>')}</p></body></html>`.slice(0, MAX_SIZE - text.length - 1200);
    raw = `${headers}\r\nContent-Type: multipart/alternative; boundary="a${n}"\r\n\r\n--a${n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n--a${n}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n--a${n}--\r\n`;
  } else {
    const bin = Buffer.alloc(1500 + Math.floor(rand() * 1500), n & 0xff).toString('base64').replace(/.{76}/g, '$&\r\n');
    raw = `${headers}\r\nContent-Type: multipart/mixed; boundary="m${n}"\r\n\r\n--m${n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n--m${n}\r\nContent-Type: application/pdf; name="f${n}.pdf"\r\nContent-Disposition: attachment; filename="f${n}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${bin}\r\n--m${n}--\r\n`;
  }
  const bytes = Buffer.from(raw, 'utf8');
  return bytes.length <= MAX_SIZE ? bytes : Buffer.concat([bytes.subarray(0, MAX_SIZE - 2), Buffer.from('\r\n')]);
}

/** Calls `each(raw, n)` for every message of a corpus of `count` (same seed: same corpus for both servers). */
async function forEachMessage(count: number, each: (raw: Buffer, n: number) => Promise<void> | void): Promise<void> {
  const rand = prng(20261128);
  const words = vocabulary(rand);
  const rareAt = new Set(Array.from({ length: RARE_HITS }, (_, i) => Math.floor(((i + 0.5) * count) / RARE_HITS)));
  for (let n = 0; n < count; n++) await each(message(n, words, rand, rareAt.has(n)), n);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Fills the INBOX through store calls, 64 appends in flight (group commit batches them). */
async function fillMailroom(dataDir: string, count: number): Promise<void> {
  const added = await runCli(['user', 'add', USER, '--password', PASSWORD], { dataDir });
  if (added.code !== 0) throw new Error(`user add: ${added.stderr.trim()}`);
  const store = await openStore({ dataDir, bus: new LocalChangeBus() });
  const files = new FsBlobStore(join(dataDir, 'blobs'));
  try {
    const user = (await store.getUser(USER))!;
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    const inFlight = new Set<Promise<unknown>>();
    await forEachMessage(count, async (raw) => {
      const hash = sha(raw);
      const file = files.pathOf(hash);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, raw); // no fsync: a bench fill, not a delivery
      const index = indexMessage(raw);
      const content: NewContent = { id: hash, size: raw.length, segments: [{ hash, size: raw.length }], index, searchText: searchText(raw, index) };
      const p = store.appendMessage({ mailboxId: inbox.id, content, internalDate: new Date(Date.UTC(2026, 10, 21)) }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 64) await Promise.race(inFlight);
    });
    await Promise.all(inFlight);
  } finally {
    await store.close();
  }
}

/** SELECT, one warm-up SEARCH, then TIMED_RUNS timed ones (fewer when one takes over 10 s). */
async function timeSearch(port: number, user: string): Promise<{ runsMs: number[]; hits: number }> {
  const { client } = await RawImapClient.connect(port, { timeoutMs: 30_000 });
  try {
    await client.ok(`LOGIN ${user} ${PASSWORD}`, { timeoutMs: 60_000 });
    await client.ok('SELECT INBOX', { timeoutMs: 600_000 });
    const search = async () => {
      const t0 = performance.now();
      const r = await client.ok(`UID SEARCH TEXT ${RARE}`, { timeoutMs: 600_000 });
      const ms = performance.now() - t0;
      const line = r.untagged.find((l) => l.startsWith('* SEARCH')) ?? '';
      return { ms, hits: line.trim().split(' ').length - 2 };
    };
    const warm = await search();
    const runsMs: number[] = [];
    for (let i = 0; i < TIMED_RUNS && (i === 0 || runsMs[i - 1] < 10_000); i++) runsMs.push(Math.round((await search()).ms * 10) / 10);
    return { runsMs, hits: warm.hits };
  } finally {
    await client.close();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function benchMailroom(count: number): Promise<Timing> {
  const { dataDir } = tempDirs();
  const t0 = performance.now();
  await fillMailroom(dataDir, count);
  const fillSeconds = Math.round((performance.now() - t0) / 100) / 10;
  process.stderr.write(`  mailroom: filled ${count} in ${fillSeconds} s\n`);
  const server = await startServer({ dataDir, env: benchMailroomEnv() });
  try {
    const { runsMs, hits } = await timeSearch(server.ports.imap!, USER);
    return { messages: count, fillSeconds, medianMs: median(runsMs), runsMs, hits };
  } finally {
    await server.stop();
  }
}

async function benchDovecot(count: number): Promise<Timing> {
  const d = await startDovecot([{ user: USER, password: PASSWORD }]);
  try {
    const t0 = performance.now();
    const { uid, gid } = d.mailOwner;
    const maildir = join(d.home(USER), 'Maildir');
    for (const sub of ['', 'cur', 'new', 'tmp']) {
      mkdirSync(join(maildir, sub), { recursive: true });
      chownSync(join(maildir, sub), uid, gid);
    }
    await forEachMessage(count, (raw, n) => {
      const file = join(maildir, 'cur', `${1_700_000_000 + n}.M${n}P1.bench,S=${raw.length}:2,S`);
      writeFileSync(file, raw);
      chownSync(file, uid, gid);
    });
    const fillSeconds = Math.round((performance.now() - t0) / 100) / 10;
    process.stderr.write(`  dovecot: filled ${count} in ${fillSeconds} s\n`);
    const { runsMs, hits } = await timeSearch(d.port, USER);
    return { messages: count, fillSeconds, medianMs: median(runsMs), runsMs, hits };
  } finally {
    await d.stop();
  }
}

export async function benchSearch(): Promise<SearchBenchResult> {
  const sizes = (process.env.BENCH_SEARCH_SIZES ?? '20000,100000').split(',').map(Number).filter((n) => n > 0);
  const result: SearchBenchResult = { rareWord: RARE, sizes, mailroom: {}, dovecot: {}, ratio: {}, largest: { messages: Math.max(...sizes) } };
  for (const n of sizes) {
    try {
      result.mailroom[n] = await benchMailroom(n);
    } catch (err) {
      result.mailroom[n] = { error: (err as Error).message };
    }
    if (!dovecotVersion()) {
      result.dovecot[n] = { skipped: 'dovecot is not installed here (apt-get install -y dovecot-imapd)' };
    } else {
      try {
        result.dovecot[n] = await benchDovecot(n);
      } catch (err) {
        result.dovecot[n] = { error: (err as Error).message };
      }
    }
    const m = result.mailroom[n];
    const d = result.dovecot[n];
    if ('medianMs' in m && 'medianMs' in d && d.medianMs > 0) result.ratio[n] = Math.round((m.medianMs / d.medianMs) * 1000) / 1000;
    process.stderr.write(`  ${n}: mailroom ${'medianMs' in m ? `${m.medianMs} ms` : JSON.stringify(m)}, dovecot ${'medianMs' in d ? `${d.medianMs} ms` : JSON.stringify(d)}\n`);
  }
  const top = String(result.largest.messages);
  const m = result.mailroom[top];
  const d = result.dovecot[top];
  if (m && 'medianMs' in m) result.largest.mailroomMs = m.medianMs;
  if (d && 'medianMs' in d) result.largest.dovecotMs = d.medianMs;
  return result;
}
