/**
 * Quota counters recomputed from the rows they summarize: users.used_bytes/used_messages
 * must equal the size and number of the user's message rows, less the kept deleted rows
 * that no longer count (deleted_messages.charged = 0; see deleted.ts). Every write path
 * keeps them in step in its own transaction; this is the check that they did, and the
 * repair when something (a bug, a hand edit, a restored file) made them drift.
 */
import type { Id, QuotaCheck, StorageUsage } from '../types.js';
import { segmentsOf } from './contents.js';
import type { ReadTx, Tx } from './tx.js';
import { requireUser } from './users.js';

async function actualUsage(tx: ReadTx, userId: Id): Promise<{ bytes: number; messages: number }> {
  const r = (await tx.get<{ bytes: number | string | null; messages: number | string }>(
    `SELECT COALESCE(SUM(m.size), 0) AS bytes, COUNT(m.id) AS messages
       FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
       LEFT JOIN deleted_messages d ON d.message_id = m.id
      WHERE b.user_id = ? AND (d.message_id IS NULL OR d.charged = 1)`,
    [userId],
  ))!;
  return { bytes: Number(r.bytes ?? 0), messages: Number(r.messages) };
}

/** Compares the counters with the rows (read snapshot). */
export async function checkQuota(tx: ReadTx, userId: Id): Promise<QuotaCheck> {
  const u = await requireUser(tx, userId);
  const actual = await actualUsage(tx, userId);
  return { userId, address: u.address, recorded: { bytes: Number(u.used_bytes), messages: Number(u.used_messages) }, actual, fixed: false };
}

/** Same, and sets the counters to the recomputed values, under the user's row lock (no write can slip in between). */
export async function fixQuota(tx: Tx, userId: Id): Promise<QuotaCheck> {
  await requireUser(tx, userId);
  await tx.lockUsers([userId]);
  const check = await checkQuota(tx, userId);
  if (check.recorded.bytes === check.actual.bytes && check.recorded.messages === check.actual.messages) return check;
  await tx.exec('UPDATE users SET used_bytes = ?, used_messages = ? WHERE id = ?', [check.actual.bytes, check.actual.messages, userId]);
  return { ...check, fixed: true };
}

/**
 * What the user's (or, with null, everyone's) mail takes: logical bytes (sum of message
 * sizes), unique bytes (each distinct blob once: what deduplication leaves) and stored bytes
 * (what those blobs take at rest: after compression; see blobs.stored_size, schema 12).
 */
export async function usage(tx: ReadTx, userId: Id | null): Promise<StorageUsage> {
  // Schema 12 records compressed sizes; NULL means the blob takes its logical size.
  const storedCol = 'coalesce(stored_size, size)';
  if (userId === null) {
    const m = (await tx.get<{ n: number | string; bytes: number | string }>('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM messages'))!;
    const b = (await tx.get<{ bytes: number | string; stored: number | string }>(`SELECT coalesce(sum(size), 0) AS bytes, coalesce(sum(${storedCol}), 0) AS stored FROM blobs`))!;
    return { messages: Number(m.n), logicalBytes: Number(m.bytes), uniqueBytes: Number(b.bytes), storedBytes: Number(b.stored) };
  }
  await requireUser(tx, userId);
  const m = (await tx.get<{ n: number | string; bytes: number | string }>(
    'SELECT count(*) AS n, coalesce(sum(m.size), 0) AS bytes FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.user_id = ?',
    [userId],
  ))!;
  const contents = await tx.query<{ id: string; size: number; segments: string }>(
    'SELECT c.id, c.size, c.segments FROM contents c WHERE c.id IN (SELECT m.content_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.user_id = ?)',
    [userId],
  );
  const hashes = new Set<string>();
  for (const c of contents) for (const s of segmentsOf(c.segments, c.id, c.size)) hashes.add(s.hash);
  let unique = 0;
  let stored = 0;
  const all = [...hashes];
  for (let i = 0; i < all.length; i += 500) {
    const rows = await tx.query<{ size: number | string; stored: number | string }>(
      `SELECT size, ${storedCol} AS stored FROM blobs WHERE hash ${tx.d.inList('text')}`,
      [tx.d.listParam(all.slice(i, i + 500))],
    );
    for (const r of rows) {
      unique += Number(r.size);
      stored += Number(r.stored);
    }
  }
  return { messages: Number(m.n), logicalBytes: Number(m.bytes), uniqueBytes: unique, storedBytes: stored };
}
