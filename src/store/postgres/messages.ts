/**
 * Message rows on PostgreSQL: append, copy, move, expunge, flag updates and the change
 * log, with the rules of ../sqlite/messages.ts. Every write first locks the owning
 * user's row and then works on the mailbox row (lockMailbox), so UIDNEXT, MODSEQ,
 * counters and quota are read and bumped under one lock by one node at a time:
 * UIDs strictly increase and quota stays exact with any number of nodes.
 */
import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import { applyFlagOp, joinFlags, normalizeFlags, sameFlags, splitFlags } from '../sqlite/flags.js';
import { toMessage, type MessageRecord } from '../sqlite/rows.js';
import type { AppendRequest, AppendResult, Changes, CopyResult, FlagUpdate, FlagUpdateResult, Id, MessageRow, ModSeq, Uid } from '../types.js';
import type { PgBlobBackend } from './blobs.js';
import { acquireContent, addContentRefs, countContents, releaseContents } from './contents.js';
import { lockMailbox, requireMailbox, requireMailboxByName } from './mailboxes.js';
import type { PgTx } from './tx.js';

const MESSAGE_SELECT = `
  SELECT m.id, m.mailbox_id, m.uid, m.modseq, m.flags, m.internal_date, m.save_date, m.size,
         m.content_id, m.email_id, m.thread_id, m.uidl, pf.flags AS pflags, pf.modseq AS pmodseq
  FROM messages m LEFT JOIN private_flags pf ON pf.message_id = m.id AND pf.user_id = $1`;

function newObjectId(prefix: 'M' | 'T' | 'U'): string {
  return prefix + randomBytes(16).toString('hex');
}

function checkUids(uids: Uid[]): number[] {
  if (!Array.isArray(uids) || !uids.every((u) => Number.isSafeInteger(u) && u > 0)) throw new StoreError('invalid', 'UIDs must be positive integers');
  return uids;
}

async function selectByUids(tx: PgTx, mailboxId: Id, uids: Uid[], viewerId: Id, lock = false): Promise<MessageRecord[]> {
  return tx.rows<MessageRecord>(
    `${MESSAGE_SELECT} WHERE m.mailbox_id = $2 AND m.uid = ANY($3::bigint[]) ORDER BY m.uid${lock ? ' FOR UPDATE OF m' : ''}`,
    [viewerId, mailboxId, checkUids(uids)],
  );
}

async function checkQuota(tx: PgTx, userId: Id, bytes: number, messages: number): Promise<void> {
  const u = (await tx.one<{ quota_bytes: number | null; quota_messages: number | null; used_bytes: number; used_messages: number }>(
    'SELECT quota_bytes, quota_messages, used_bytes, used_messages FROM users WHERE id = $1', [userId],
  ))!;
  if (u.quota_bytes !== null && u.used_bytes + bytes > u.quota_bytes) {
    throw new StoreError('overquota', `storage quota exceeded: ${u.used_bytes} + ${bytes} bytes > limit ${u.quota_bytes}`);
  }
  if (u.quota_messages !== null && u.used_messages + messages > u.quota_messages) {
    throw new StoreError('overquota', `message count quota exceeded: ${u.used_messages} + ${messages} messages > limit ${u.quota_messages}`);
  }
}

async function chargeUser(tx: PgTx, userId: Id, bytes: number, messages: number): Promise<void> {
  await tx.run('UPDATE users SET used_bytes = used_bytes + $1, used_messages = used_messages + $2 WHERE id = $3', [bytes, messages, userId]);
}

async function takeUids(tx: PgTx, mailboxId: Id, n: number, bytes: number): Promise<number> {
  const r = await tx.one<{ uid_next: number }>(
    'UPDATE mailboxes SET uid_next = uid_next + $1, message_count = message_count + $1, total_size = total_size + $2 WHERE id = $3 RETURNING uid_next',
    [n, bytes, mailboxId],
  );
  return r!.uid_next - n;
}

async function threadFor(tx: PgTx, userId: Id, threadKeys: string[] | undefined): Promise<string> {
  const keys = [...new Set((threadKeys ?? []).filter((k) => typeof k === 'string').map((k) => k.trim()).filter((k) => k !== '' && k.length <= 998))].slice(0, 200);
  let threadId: string | undefined;
  if (keys.length > 0) {
    const found = await tx.rows<{ message_id_header: string; thread_id: string }>(
      'SELECT message_id_header, thread_id FROM thread_refs WHERE user_id = $1 AND message_id_header = ANY($2::text[])', [userId, keys],
    );
    const byKey = new Map(found.map((f) => [f.message_id_header, f.thread_id]));
    threadId = keys.map((k) => byKey.get(k)).find((t) => t !== undefined); // the first known key wins, as on SQLite
  }
  threadId ??= newObjectId('T');
  if (keys.length > 0) {
    await tx.run(
      'INSERT INTO thread_refs (user_id, message_id_header, thread_id) SELECT $1, k, $3 FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING',
      [userId, keys, threadId],
    );
  }
  return threadId;
}

const INSERT_MESSAGE = `INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, save_date, size, content_id, email_id, thread_id, uidl)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;

export async function appendMessage(tx: PgTx, blobs: PgBlobBackend, req: AppendRequest): Promise<AppendResult> {
  const flags = normalizeFlags(req.flags ?? []);
  const internalDate = req.internalDate ?? new Date();
  if (!(internalDate instanceof Date) || Number.isNaN(internalDate.getTime())) throw new StoreError('invalid', 'internalDate is not a valid date');
  const box = await lockMailbox(tx, req.mailboxId);
  const size = await acquireContent(tx, blobs, req.content);
  if (!req.ignoreQuota) await checkQuota(tx, box.user_id, size, 1);
  await chargeUser(tx, box.user_id, size, 1);
  const modSeq = await tx.modSeq(box.id);
  const uid = await takeUids(tx, box.id, 1, size);
  const now = Date.now();
  const emailId = newObjectId('M');
  const threadId = await threadFor(tx, box.user_id, req.threadKeys);
  const uidl = newObjectId('U');
  await tx.run(INSERT_MESSAGE, [box.id, uid, modSeq, joinFlags(flags), internalDate.getTime(), now, size, req.content.id, emailId, threadId, uidl]);
  tx.touch('append', box.user_id, box.id);
  const row: MessageRow = {
    mailboxId: box.id, uid: uid as Uid, modSeq, flags, internalDate: new Date(internalDate.getTime()), saveDate: new Date(now),
    size, contentId: req.content.id, emailId, threadId, uidl,
  };
  return { row, uidValidity: box.uid_validity };
}

export async function listMessages(tx: PgTx, mailboxId: Id, viewerId: Id): Promise<MessageRow[]> {
  await requireMailbox(tx, mailboxId);
  return (await tx.rows<MessageRecord>(`${MESSAGE_SELECT} WHERE m.mailbox_id = $2 ORDER BY m.uid`, [viewerId, mailboxId])).map(toMessage);
}

export async function getMessages(tx: PgTx, mailboxId: Id, uids: Uid[], viewerId: Id): Promise<MessageRow[]> {
  await requireMailbox(tx, mailboxId);
  return (await selectByUids(tx, mailboxId, uids, viewerId)).map(toMessage);
}

export async function updateFlags(tx: PgTx, u: FlagUpdate): Promise<FlagUpdateResult> {
  if (u.op !== 'add' && u.op !== 'remove' && u.op !== 'set') throw new StoreError('invalid', `unknown flag operation ${String(u.op)}`);
  if (u.unchangedSince !== undefined && (!Number.isSafeInteger(u.unchangedSince) || u.unchangedSince < 0)) {
    throw new StoreError('invalid', 'UNCHANGEDSINCE must be a non-negative integer');
  }
  const change = normalizeFlags(u.flags);
  const box = await lockMailbox(tx, u.mailboxId);
  const result: FlagUpdateResult = { changed: [], failed: [] };
  for (const r of await selectByUids(tx, box.id, u.uids, u.viewerId)) {
    // RFC 7162 3.1.3: a row modified after UNCHANGEDSINCE is not changed and is reported
    if (u.unchangedSince !== undefined && Math.max(r.modseq, r.pmodseq ?? 0) > u.unchangedSince) {
      result.failed.push(r.uid as Uid);
      continue;
    }
    const current = splitFlags(r.flags);
    const next = applyFlagOp(current, u.op, change);
    if (sameFlags(current, next)) continue;
    const modSeq = await tx.modSeq(box.id);
    await tx.run('UPDATE messages SET flags = $1, modseq = $2 WHERE id = $3', [joinFlags(next), modSeq, r.id]);
    result.changed.push(toMessage({ ...r, flags: joinFlags(next), modseq: modSeq }));
  }
  if (result.changed.length > 0) tx.touch('flags', box.user_id, box.id);
  return result;
}

export async function expunge(tx: PgTx, blobs: PgBlobBackend, mailboxId: Id, uids: Uid[]): Promise<Uid[]> {
  checkUids(uids);
  const box = await lockMailbox(tx, mailboxId);
  const rows = await selectByUids(tx, box.id, uids, 0);
  if (rows.length === 0) return [];
  const gone = rows.map((r) => r.uid);
  const bytes = rows.reduce((sum, r) => sum + r.size, 0);
  const modSeq = await tx.modSeq(box.id);
  await tx.run('DELETE FROM messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[])', [box.id, gone]);
  await tx.run('INSERT INTO expunged (mailbox_id, uid, modseq) SELECT $1, u, $2 FROM unnest($3::bigint[]) AS u', [box.id, modSeq, gone]);
  await tx.run('UPDATE mailboxes SET message_count = message_count - $1, total_size = total_size - $2 WHERE id = $3', [rows.length, bytes, box.id]);
  await chargeUser(tx, box.user_id, -bytes, -rows.length);
  await releaseContents(tx, blobs, countContents(rows));
  tx.touch('expunge', box.user_id, box.id);
  return gone as Uid[];
}

/** Locks both mailboxes' users (ascending id) and returns the fresh rows. */
async function lockPair(tx: PgTx, fromId: Id, toId: Id) {
  const dstFirst = await requireMailbox(tx, toId);
  const src = await lockMailbox(tx, fromId, dstFirst.user_id);
  const dst = await requireMailbox(tx, toId);
  return { src, dst };
}

export async function copyMessages(tx: PgTx, fromId: Id, uids: Uid[], toId: Id): Promise<CopyResult> {
  checkUids(uids);
  const { src, dst } = await lockPair(tx, fromId, toId);
  const rows = await selectByUids(tx, src.id, uids, 0);
  if (rows.length === 0) return { uidValidity: dst.uid_validity, mapping: [] };
  const bytes = rows.reduce((sum, r) => sum + r.size, 0);
  await checkQuota(tx, dst.user_id, bytes, rows.length);
  await chargeUser(tx, dst.user_id, bytes, rows.length);
  await addContentRefs(tx, countContents(rows));
  const modSeq = await tx.modSeq(dst.id);
  const first = await takeUids(tx, dst.id, rows.length, bytes);
  const now = Date.now();
  const mapping = [];
  for (const [i, r] of rows.entries()) {
    // RFC 8474 5.1: COPY keeps EMAILID; a copy is a new POP3 message (new UIDL)
    await tx.run(INSERT_MESSAGE, [dst.id, first + i, modSeq, r.flags, r.internal_date, now, r.size, r.content_id, r.email_id, r.thread_id, newObjectId('U')]);
    mapping.push({ from: r.uid as Uid, to: (first + i) as Uid });
  }
  tx.touch('append', dst.user_id, dst.id);
  return { uidValidity: dst.uid_validity, mapping };
}

export async function moveMessages(tx: PgTx, fromId: Id, uids: Uid[], toId: Id): Promise<CopyResult> {
  checkUids(uids);
  const { src, dst } = await lockPair(tx, fromId, toId);
  const rows = await selectByUids(tx, src.id, uids, 0);
  if (rows.length === 0) return { uidValidity: dst.uid_validity, mapping: [] };
  const bytes = rows.reduce((sum, r) => sum + r.size, 0);
  if (src.user_id !== dst.user_id) {
    await checkQuota(tx, dst.user_id, bytes, rows.length);
    await chargeUser(tx, dst.user_id, bytes, rows.length);
    await chargeUser(tx, src.user_id, -bytes, -rows.length);
  }
  const srcModSeq = await tx.modSeq(src.id);
  const dstModSeq = await tx.modSeq(dst.id);
  await tx.run('UPDATE mailboxes SET message_count = message_count - $1, total_size = total_size - $2 WHERE id = $3', [rows.length, bytes, src.id]);
  const first = await takeUids(tx, dst.id, rows.length, bytes);
  const now = Date.now();
  const mapping = [];
  for (const [i, r] of rows.entries()) {
    await tx.run('UPDATE messages SET mailbox_id = $1, uid = $2, modseq = $3, save_date = $4 WHERE id = $5', [dst.id, first + i, dstModSeq, now, r.id]);
    mapping.push({ from: r.uid as Uid, to: (first + i) as Uid });
  }
  await tx.run('INSERT INTO expunged (mailbox_id, uid, modseq) SELECT $1, u, $2 FROM unnest($3::bigint[]) AS u', [src.id, srcModSeq, rows.map((r) => r.uid)]);
  tx.touch('expunge', src.user_id, src.id);
  tx.touch('append', dst.user_id, dst.id);
  return { uidValidity: dst.uid_validity, mapping };
}

/** RFC 1939 7: unique-id is 1 to 70 characters in the range 0x21 to 0x7E. */
const UIDL_SYNTAX = /^[\x21-\x7e]{1,70}$/;

export async function setUidl(tx: PgTx, mailboxId: Id, uid: Uid, uidl: string): Promise<void> {
  await requireMailbox(tx, mailboxId);
  if (typeof uidl !== 'string' || !UIDL_SYNTAX.test(uidl)) throw new StoreError('invalid', 'a UIDL is 1-70 characters 0x21-0x7E (RFC 1939 7)');
  if (!Number.isSafeInteger(uid) || uid <= 0) throw new StoreError('notfound', `no message ${uid} in mailbox ${mailboxId}`);
  const n = await tx.run('UPDATE messages SET uidl = $1 WHERE mailbox_id = $2 AND uid = $3', [uidl, mailboxId, uid]);
  if (n === 0) throw new StoreError('notfound', `no message ${uid} in mailbox ${mailboxId}`);
}

export async function changesSince(tx: PgTx, mailboxId: Id, modSeq: ModSeq, viewerId: Id): Promise<Changes> {
  const box = await requireMailbox(tx, mailboxId);
  if (!Number.isSafeInteger(modSeq) || modSeq < 0) throw new StoreError('invalid', 'modseq must be a non-negative integer');
  const changed = await tx.rows<MessageRecord>(
    `${MESSAGE_SELECT} WHERE m.id IN (
        SELECT id FROM messages WHERE mailbox_id = $2 AND modseq > $3
        UNION SELECT p.message_id FROM private_flags p JOIN messages x ON x.id = p.message_id
              WHERE p.user_id = $1 AND x.mailbox_id = $2 AND p.modseq > $3)
      ORDER BY m.uid`,
    [viewerId, box.id, modSeq],
  );
  const expunged = await tx.rows<{ uid: number }>('SELECT uid FROM expunged WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid', [box.id, modSeq]);
  return { highestModSeq: box.highest_modseq, changed: changed.map(toMessage), expunged: expunged.map((e) => e.uid as Uid) };
}

export async function deleteMailboxRow(tx: PgTx, blobs: PgBlobBackend, userId: Id, mailboxId: Id): Promise<void> {
  await tx.lockUsers([userId]);
  const rows = await tx.rows<{ content_id: string; size: number }>('SELECT content_id, size FROM messages WHERE mailbox_id = $1', [mailboxId]);
  const bytes = rows.reduce((sum, r) => sum + r.size, 0);
  await tx.run('DELETE FROM messages WHERE mailbox_id = $1', [mailboxId]);
  await tx.run('DELETE FROM expunged WHERE mailbox_id = $1', [mailboxId]);
  await tx.run('DELETE FROM mailboxes WHERE id = $1', [mailboxId]);
  await chargeUser(tx, userId, -bytes, -rows.length);
  await releaseContents(tx, blobs, countContents(rows));
  tx.touch('mailbox-deleted', userId, mailboxId);
}

export async function deleteMailbox(tx: PgTx, blobs: PgBlobBackend, userId: Id, name: string): Promise<void> {
  const box = await requireMailboxByName(tx, userId, name);
  await deleteMailboxRow(tx, blobs, userId, box.id);
}
