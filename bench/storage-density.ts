/**
 * Storage density (issue 13): BENCH_DENSITY_MESSAGES (default 5000) small messages
 * (~1.7 KB, BENCH_DENSITY_SIZE) delivered over LMTP to one real server on SQLite, then
 * the data directory measured as `du` counts it, divided by the messages' logical size.
 * Measured twice: while the server runs (the WAL as it is) and after it stopped (WAL
 * checkpointed into the main file); the second gives the per-table split from dbstat.
 * Then the same messages into PostgreSQL (when one is reachable; BENCH_DENSITY_PG=0 skips
 * it): the sum of pg_total_relation_size of its tables after VACUUM.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { diskUsage, tableSizes, type DiskUsage } from '../test/harness/disk-usage.js';
import { freshDatabase, pgSkip } from '../test/harness/pg.js';
import { prng } from './corpus.js';
import { withLmtpNodes } from './lmtp.js';
import { load } from './smtp-load.js';

const USER = 'density@bench.test';

const WORDS = (
  'the of and to in is that for it with as was on be at by this had not are but from or have an they which one you were all we when ' +
  'meeting report invoice quarterly project update budget travel lunch schedule customer delivery server mailbox account password ' +
  'thanks regards please attached review tomorrow monday friday office team question answer sorry late agenda minutes draft final'
).split(' ');

/** A plain-text message of about `size` bytes with the headers real mail carries (Received, DKIM, ids). */
export function smallMessage(n: number, size = 1700): Buffer {
  const rand = prng(n + 7);
  const id = randomBytes(8).toString('hex');
  const head =
    `Return-Path: <sender${n % 40}@example.net>\r\n` +
    `Received: from mx${n % 3}.example.net (mx${n % 3}.example.net [192.0.2.${n % 250}])\r\n\tby mail.bench.test with ESMTPS id ${id}\r\n\tfor <${USER}>; Sun, 29 Nov 2026 09:${String(n % 60).padStart(2, '0')}:00 +0000\r\n` +
    `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=s1;\r\n\th=from:to:subject:date:message-id; bh=${randomBytes(32).toString('base64')};\r\n\tb=${randomBytes(96).toString('base64')}\r\n` +
    `From: Sender ${n % 40} <sender${n % 40}@example.net>\r\nTo: ${USER}\r\nSubject: Note ${n} about the ${WORDS[n % WORDS.length]} plan\r\n` +
    `Date: Sun, 29 Nov 2026 09:${String(n % 60).padStart(2, '0')}:00 +0000\r\nMessage-ID: <${id}.${n}@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
  const lines: string[] = [];
  for (let len = head.length; len < size - 2; ) {
    const line = Array.from({ length: 11 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
    lines.push(line);
    len += line.length + 2;
  }
  return Buffer.from(head + lines.join('\r\n') + '\r\n');
}

/** The bytes LMTP DATA carries for a message: dot-stuffed, with the terminator. */
export function dataOf(m: Buffer): Buffer {
  return Buffer.from(m.toString('latin1').replace(/^\./gm, '..') + '.\r\n', 'latin1');
}

export interface DensityResult {
  messages: number;
  messageBytes: number;
  logicalBytes: number;
  running: DiskUsage & { ratio: number };
  stopped: DiskUsage & { ratio: number };
  tables: { name: string; bytes: number; perMessage: number }[];
  /** The same messages into PostgreSQL: pg_total_relation_size (heap, TOAST, indexes) of the tables. */
  postgres: { ratio: number; totalBytes: number; tables: { name: string; bytes: number; perMessage: number }[] } | { skipped: string };
}

/** Delivers `wire` into a fresh PostgreSQL database and sums what its tables take. */
async function postgresDensity(wire: Buffer[], logicalBytes: number): Promise<DensityResult['postgres']> {
  if (pgSkip) return { skipped: String(pgSkip) };
  const db = await freshDatabase();
  try {
    await withLmtpNodes(1, [USER], db.url, async ([port]) => {
      const r = await load(port, 4, wire.length, wire, 'LHLO', () => USER);
      if (r.accepted !== wire.length) throw new Error(`${r.failures} failures: ${r.firstFailures.join(' | ')}`);
    });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('VACUUM');
      const rows = (
        await c.query<{ name: string; bytes: string }>(
          `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind = 'r' AND n.nspname = current_schema() ORDER BY 2 DESC`,
        )
      ).rows.map((r) => ({ name: r.name, bytes: Number(r.bytes), perMessage: Math.round(Number(r.bytes) / wire.length) }));
      const totalBytes = rows.reduce((a, r) => a + r.bytes, 0);
      return { ratio: Math.round((totalBytes / logicalBytes) * 100) / 100, totalBytes, tables: rows.filter((r) => r.perMessage > 0) };
    } finally {
      await c.end();
    }
  } finally {
    await db.drop();
  }
}

export async function benchStorageDensity(): Promise<DensityResult> {
  const total = Number(process.env.BENCH_DENSITY_MESSAGES ?? 5000);
  const size = Number(process.env.BENCH_DENSITY_SIZE ?? 1700);
  const raw = Array.from({ length: total }, (_, i) => smallMessage(i, size));
  const logicalBytes = raw.reduce((a, m) => a + m.length, 0);
  const wire = raw.map(dataOf);
  let running: DiskUsage | undefined;
  let dataDir = '';
  process.stderr.write(`  storage density: ${total} × ${Math.round(logicalBytes / total)} B over LMTP…\n`);
  await withLmtpNodes(1, [USER], undefined, async ([port], [server]) => {
    const empty = diskUsage(server.dataDir);
    process.stderr.write(`  empty data dir: ${JSON.stringify(empty)}\n`);
    const r = await load(port, 4, total, wire, 'LHLO', () => USER);
    if (r.accepted !== total) throw new Error(`${r.failures} failures: ${r.firstFailures.join(' | ')}`);
    running = diskUsage(server.dataDir);
    dataDir = server.dataDir;
  });
  const stopped = diskUsage(dataDir);
  const tables = tableSizes(join(dataDir, 'mailroom.db')).map((t) => ({ ...t, perMessage: Math.round(t.bytes / total) }));
  const ratio = (u: DiskUsage) => Math.round((u.total / logicalBytes) * 100) / 100;
  const result: DensityResult = {
    messages: total,
    messageBytes: Math.round(logicalBytes / total),
    logicalBytes,
    running: { ...running!, ratio: ratio(running!) },
    stopped: { ...stopped, ratio: ratio(stopped) },
    tables,
    postgres: process.env.BENCH_DENSITY_PG === '0' ? { skipped: 'BENCH_DENSITY_PG=0' } : await postgresDensity(wire, logicalBytes),
  };
  process.stderr.write(`  running: ${result.running.ratio}× (${JSON.stringify(running)})\n  stopped: ${result.stopped.ratio}× (${JSON.stringify(stopped)})\n`);
  for (const t of tables.slice(0, 12)) process.stderr.write(`    ${t.name}: ${t.bytes} B, ${t.perMessage} B/message\n`);
  process.stderr.write(`  postgres: ${JSON.stringify(result.postgres)}\n`);
  return result;
}
