/**
 * Message rows: append, copy, move, expunge, flag updates and the change log.
 * UIDs come from mailboxes.uid_next (only grows); every transaction that changes rows in
 * a mailbox stamps them with one new MODSEQ (Tx.modSeq). Quota usage and mailbox
 * counters change in the same transaction as the rows, so they are always exact. Every
 * write first locks the owning user's row (lockMailbox; a no-op on SQLite, whose write
 * transaction excludes every other writer), so UIDNEXT, MODSEQ, counters and quota are
 * read and bumped by one writer at a time with any number of nodes.
 */
import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import type { AppendRequest, AppendResult, Changes, CopyResult, FlagUpdate, FlagUpdateResult, Id, MailboxCounts, MessageRow, ModSeq, Uid } from '../types.js';
import { acquireContent, addContentRefs, countContents, releaseContents } from './contents.js';
import { applyFlagOp, joinFlags, normalizeFlags, sameFlags, splitFlags } from './flags.js';
import { lockMailbox, requireMailbox, requireMailboxByName } from './mailboxes.js';
import { MESSAGE_SELECT, toMessage, type MessageRecord } from './rows.js';
import type { Dialect } from './port.js';
import type { ReadTx, Tx } from './tx.js';

/** RFC 8474 objectid: 1*255 of ALPHA / DIGIT / "_" / "-"; a prefix letter and 128 random bits. */
function newObjectId(prefix: 'M' | 'T' | 'U'): string {
  return prefix + randomBytes(16).toString('hex');
}

function checkUids(uids: Uid[]): number[] {
  if (!Array.isArray(uids) || !uids.every((u) => Number.isSafeInteger(u) && u > 0)) throw new StoreError('invalid', 'UIDs must be positive integers');
  return uids;
}

/** Rows of `uids` in ascending UID order, as seen by `viewerId`, in one query (no N+1). */
async function selectByUids(tx: ReadTx, mailboxId: Id, uids: Uid[], viewerId: Id): Promise<MessageRecord[]> {
  return tx.query<MessageRecord>(
    `${MESSAGE_SELECT} WHERE m.mailbox_id = ? AND m.uid ${tx.d.inList('int')} ORDER BY m.uid`,
    [viewerId, mailboxId, tx.d.listParam(checkUids(uids))],
  );
}

/** 'overquota' when adding `bytes`/`messages` to the user's usage passes a limit. */
async function checkQuota(tx: Tx, userId: Id, bytes: number, messages: number): Promise<void> {
  const u = (await tx.get<{ quota_bytes: number | null; quota_messages: number | null; used_bytes: number; used_messages: number }>(
    'SELECT quota_bytes, quota_messages, used_bytes, used_messages FROM users WHERE id = ?', [userId],
  ))!;
  if (u.quota_bytes !== null && u.used_bytes + bytes > u.quota_bytes) {
    throw new StoreError('overquota', `storage quota exceeded: ${u.used_bytes} + ${bytes} bytes > limit ${u.quota_bytes}`);
  }
  if (u.quota_messages !== null && u.used_messages + messages > u.quota_messages) {
    throw new StoreError('overquota', `message count quota exceeded: ${u.used_messages} + ${messages} messages > limit ${u.quota_messages}`);
  }
}

async function chargeUser(tx: Tx, userId: Id, bytes: number, messages: number): Promise<void> {
  await tx.exec('UPDATE users SET used_bytes = used_bytes + ?, used_messages = used_messages + ? WHERE id = ?', [bytes, messages, userId]);
}

/**
 * checkQuota + chargeUser in one statement (a round trip fewer per delivery): charges,
 * then checks the new usage against the limits; 'overquota' rolls the charge back with
 * the rest of the transaction. Same rule: usage + added > limit fails.
 */
async function chargeWithinQuota(tx: Tx, userId: Id, bytes: number, messages: number): Promise<void> {
  const u = (await tx.get<{ quota_bytes: number | null; quota_messages: number | null; used_bytes: number; used_messages: number }>(
    'UPDATE users SET used_bytes = used_bytes + ?, used_messages = used_messages + ? WHERE id = ? RETURNING quota_bytes, quota_messages, used_bytes, used_messages',
    [bytes, messages, userId],
  ))!;
  if (u.quota_bytes !== null && u.used_bytes > u.quota_bytes) {
    throw new StoreError('overquota', `storage quota exceeded: ${u.used_bytes - bytes} + ${bytes} bytes > limit ${u.quota_bytes}`);
  }
  if (u.quota_messages !== null && u.used_messages > u.quota_messages) {
    throw new StoreError('overquota', `message count quota exceeded: ${u.used_messages - messages} + ${messages} messages > limit ${u.quota_messages}`);
  }
}

/**
 * What a set of rows adds to a mailbox's counters: messages, bytes, and how many carry the
 * shared \Seen and \Deleted flags (STATUS UNSEEN/DELETED read these instead of scanning).
 */
interface Tally {
  n: number;
  bytes: number;
  seen: number;
  deleted: number;
}

/** 1/0 for a stored (canonical, space-separated) flag list holding `flag`: the same exact token rule as SQL hasFlag. */
function holds(flags: string, flag: '\\Seen' | '\\Deleted'): number {
  return ` ${flags} `.includes(` ${flag} `) ? 1 : 0;
}

function tally(rows: readonly { flags: string; size: number }[]): Tally {
  const t: Tally = { n: rows.length, bytes: 0, seen: 0, deleted: 0 };
  for (const r of rows) {
    t.bytes += r.size;
    t.seen += holds(r.flags, '\\Seen');
    t.deleted += holds(r.flags, '\\Deleted');
  }
  return t;
}

const GROW = 'uid_next = uid_next + ?, message_count = message_count + ?, total_size = total_size + ?, seen_count = seen_count + ?, deleted_count = deleted_count + ?';

/** Reserves `t.n` UIDs in a mailbox and adds to its counters; returns the first UID. */
async function takeUids(tx: Tx, mailboxId: Id, t: Tally): Promise<number> {
  const r = await tx.get<{ uid_next: number }>(`UPDATE mailboxes SET ${GROW} WHERE id = ? RETURNING uid_next`, [t.n, t.n, t.bytes, t.seen, t.deleted, mailboxId]);
  return r!.uid_next - t.n;
}

/** The transaction's MODSEQ for the mailbox and `t.n` reserved UIDs, in one statement when the MODSEQ is not bumped yet. */
async function stampAndTakeUids(tx: Tx, mailboxId: Id, t: Tally): Promise<{ modSeq: ModSeq; first: number }> {
  const known = tx.knownModSeq(mailboxId);
  if (known !== undefined) return { modSeq: known, first: await takeUids(tx, mailboxId, t) };
  const r = (await tx.get<{ uid_next: number; highest_modseq: number }>(
    `UPDATE mailboxes SET highest_modseq = highest_modseq + 1, ${GROW} WHERE id = ? RETURNING uid_next, highest_modseq`,
    [t.n, t.n, t.bytes, t.seen, t.deleted, mailboxId],
  ))!;
  tx.setModSeq(mailboxId, r.highest_modseq);
  return { modSeq: r.highest_modseq, first: r.uid_next - t.n };
}

async function shrinkMailbox(tx: Tx, mailboxId: Id, t: Tally): Promise<void> {
  await tx.exec(
    'UPDATE mailboxes SET message_count = message_count - ?, total_size = total_size - ?, seen_count = seen_count - ?, deleted_count = deleted_count - ? WHERE id = ?',
    [t.n, t.bytes, t.seen, t.deleted, mailboxId],
  );
}

/**
 * Tombstones (the expunge log) kept per mailbox: QRESYNC answers VANISHED (EARLIER) from
 * them. Past `keep` plus a slack of a quarter, the oldest are dropped down to `keep` and
 * `expunged_floor` remembers the highest MODSEQ dropped, so `changesSince` can say when its
 * `expunged` list is incomplete (RFC 7162 3.2.5.2 lets the server answer with more UIDs).
 * The counter makes the check O(1) per expunge.
 */
export const EXPUNGE_LOG_KEEP = 20_000;

async function logExpunged(tx: Tx, mailboxId: Id, modSeq: ModSeq, uids: number[], keep: number): Promise<void> {
  await tx.exec(`INSERT INTO expunged (mailbox_id, uid, modseq) SELECT ?, value, ? FROM ${tx.d.list('int')}`, [mailboxId, modSeq, tx.d.listParam(uids)]);
  const r = await tx.get<{ expunged_count: number }>(
    'UPDATE mailboxes SET expunged_count = expunged_count + ? WHERE id = ? RETURNING expunged_count',
    [uids.length, mailboxId],
  );
  if (Number(r!.expunged_count) > keep + Math.ceil(keep / 4)) await pruneExpunged(tx, mailboxId, keep);
}

/** Drops the oldest tombstones so that at most `keep` remain (whole MODSEQs at a time) and raises the floor. */
async function pruneExpunged(tx: Tx, mailboxId: Id, keep: number): Promise<void> {
  const cut = await tx.get<{ modseq: number }>('SELECT modseq FROM expunged WHERE mailbox_id = ? ORDER BY modseq DESC LIMIT 1 OFFSET ?', [mailboxId, keep]);
  if (!cut) return;
  await tx.exec('DELETE FROM expunged WHERE mailbox_id = ? AND modseq <= ?', [mailboxId, cut.modseq]);
  await tx.exec(
    `UPDATE mailboxes SET expunged_floor = ?, expunged_count = (SELECT count(*) FROM expunged WHERE mailbox_id = ?) WHERE id = ?`,
    [cut.modseq, mailboxId, mailboxId],
  );
}

/** The THREADID for new mail: reuse the thread of the first known key, else a new one; remember all keys. */
async function threadFor(tx: Tx, userId: Id, threadKeys: string[] | undefined): Promise<string> {
  const keys = [...new Set((threadKeys ?? []).filter((k) => typeof k === 'string').map((k) => k.trim()).filter((k) => k !== '' && k.length <= 998))].slice(0, 200);
  if (keys.length === 0) return newObjectId('T');
  const list = tx.d.list('text');
  const found = await tx.query<{ message_id_header: string; thread_id: string }>(
    `SELECT message_id_header, thread_id FROM thread_refs WHERE user_id = ? AND message_id_header ${tx.d.inList('text')}`,
    [userId, tx.d.listParam(keys)],
  );
  const byKey = new Map(found.map((f) => [f.message_id_header, f.thread_id]));
  const threadId = keys.map((k) => byKey.get(k)).find((t) => t !== undefined) ?? newObjectId('T');
  // WHERE true: SQLite needs it to parse INSERT … SELECT … ON CONFLICT.
  await tx.exec(
    `INSERT INTO thread_refs (user_id, message_id_header, thread_id) SELECT ?, value, ? FROM ${list} WHERE true ON CONFLICT DO NOTHING`,
    [userId, threadId, tx.d.listParam(keys)],
  );
  return threadId;
}

const INSERT_MESSAGE = `INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, save_date, size, content_id, email_id, thread_id, uidl)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export async function appendMessage(tx: Tx, req: AppendRequest): Promise<AppendResult> {
  const flags = normalizeFlags(req.flags ?? []);
  const internalDate = req.internalDate ?? new Date();
  if (!(internalDate instanceof Date) || Number.isNaN(internalDate.getTime())) throw new StoreError('invalid', 'internalDate is not a valid date');
  const box = await lockMailbox(tx, req.mailboxId);
  const size = await acquireContent(tx, req.content);
  if (req.ignoreQuota) await chargeUser(tx, box.user_id, size, 1);
  else await chargeWithinQuota(tx, box.user_id, size, 1);
  const stored = joinFlags(flags);
  const { modSeq, first: uid } = await stampAndTakeUids(tx, box.id, tally([{ flags: stored, size }]));
  const now = Date.now();
  const emailId = newObjectId('M');
  const threadId = await threadFor(tx, box.user_id, req.threadKeys);
  const uidl = newObjectId('U');
  await tx.exec(INSERT_MESSAGE, [box.id, uid, modSeq, stored, internalDate.getTime(), now, size, req.content.id, emailId, threadId, uidl]);
  tx.touch('append', box.user_id, box.id);
  const row: MessageRow = {
    mailboxId: box.id, uid: uid as Uid, modSeq, flags, internalDate: new Date(internalDate.getTime()), saveDate: new Date(now),
    size, contentId: req.content.id, emailId, threadId, uidl,
  };
  return { row, uidValidity: box.uid_validity };
}

export async function listMessages(tx: ReadTx, mailboxId: Id, viewerId: Id): Promise<MessageRow[]> {
  await requireMailbox(tx, mailboxId);
  return (await tx.query<MessageRecord>(`${MESSAGE_SELECT} WHERE m.mailbox_id = ? ORDER BY m.uid`, [viewerId, mailboxId])).map(toMessage);
}

export async function getMessages(tx: ReadTx, mailboxId: Id, uids: Uid[], viewerId: Id): Promise<MessageRow[]> {
  await requireMailbox(tx, mailboxId);
  return (await selectByUids(tx, mailboxId, uids, viewerId)).map(toMessage);
}

/**
 * SQL true when a stored flag list (space-separated, system flags canonical: flags.ts)
 * holds the flag bound to the next `?` as `' \Seen '`. An exact token match: the list is
 * padded with spaces and the search is case-sensitive on both backends, so `\Seen` never
 * matches inside another token (LIKE would be case-insensitive on SQLite and treat `\`
 * as an escape on PostgreSQL).
 */
function hasFlag(d: Dialect, column: string): string {
  return `(${d.position(`(' ' || ${column} || ' ')`)} > 0)`;
}

/** The viewer's private flags that add \Seen or \Deleted to a row lacking it (few rows: private_flags_user). */
function privateCounts(d: Dialect): string {
  return `SELECT coalesce(sum(CASE WHEN ${hasFlag(d, 'pf.flags')} AND NOT ${hasFlag(d, 'm.flags')} THEN 1 ELSE 0 END), 0) AS seen,
         coalesce(sum(CASE WHEN ${hasFlag(d, 'pf.flags')} AND NOT ${hasFlag(d, 'm.flags')} THEN 1 ELSE 0 END), 0) AS deleted
    FROM private_flags pf JOIN messages m ON m.id = pf.message_id
    WHERE pf.user_id = ? AND m.mailbox_id = ?`;
}

/**
 * Counts from the mailbox row's counters (kept by every write path in this file: no scan
 * of a 100,000-message mailbox per STATUS), plus the viewer's private flags, merged as
 * toMessage merges them: a row is seen when its shared or the viewer's private flags hold
 * \Seen. Both reads in one snapshot.
 */
export async function mailboxCounts(tx: ReadTx, mailboxId: Id, viewerId: Id): Promise<MailboxCounts> {
  const box = await requireMailbox(tx, mailboxId);
  const seen = ' \\Seen ';
  const deleted = ' \\Deleted ';
  const p = (await tx.get<{ seen: number; deleted: number }>(privateCounts(tx.d), [seen, seen, deleted, deleted, viewerId, mailboxId]))!;
  return {
    messages: Number(box.message_count),
    unseen: Number(box.message_count) - Number(box.seen_count) - Number(p.seen),
    deleted: Number(box.deleted_count) + Number(p.deleted),
    size: Number(box.total_size),
  };
}

export async function updateFlags(tx: Tx, u: FlagUpdate): Promise<FlagUpdateResult> {
  if (u.op !== 'add' && u.op !== 'remove' && u.op !== 'set') throw new StoreError('invalid', `unknown flag operation ${String(u.op)}`);
  if (u.unchangedSince !== undefined && (!Number.isSafeInteger(u.unchangedSince) || u.unchangedSince < 0)) {
    throw new StoreError('invalid', 'UNCHANGEDSINCE must be a non-negative integer');
  }
  const change = normalizeFlags(u.flags);
  const box = await lockMailbox(tx, u.mailboxId);
  const result: FlagUpdateResult = { changed: [], failed: [] };
  let seen = 0;
  let deleted = 0;
  for (const r of await selectByUids(tx, box.id, u.uids, u.viewerId)) {
    // RFC 7162 3.1.3: a row modified after UNCHANGEDSINCE is not changed and is reported
    if (u.unchangedSince !== undefined && Math.max(r.modseq, r.pmodseq ?? 0) > u.unchangedSince) {
      result.failed.push(r.uid as Uid);
      continue;
    }
    const current = splitFlags(r.flags);
    const next = applyFlagOp(current, u.op, change);
    if (sameFlags(current, next)) continue; // nothing changed: no new MODSEQ
    const modSeq = await tx.modSeq(box.id);
    const stored = joinFlags(next);
    seen += holds(stored, '\\Seen') - holds(r.flags, '\\Seen');
    deleted += holds(stored, '\\Deleted') - holds(r.flags, '\\Deleted');
    await tx.exec('UPDATE messages SET flags = ?, modseq = ? WHERE id = ?', [stored, modSeq, r.id]);
    result.changed.push(toMessage({ ...r, flags: stored, modseq: modSeq }));
  }
  if (seen !== 0 || deleted !== 0) {
    await tx.exec('UPDATE mailboxes SET seen_count = seen_count + ?, deleted_count = deleted_count + ? WHERE id = ?', [seen, deleted, box.id]);
  }
  if (result.changed.length > 0) tx.touch('flags', box.user_id, box.id);
  return result;
}

/** Removes rows, logs them in the expunge log, releases quota and content. */
export async function expunge(tx: Tx, mailboxId: Id, uids: Uid[], keep = EXPUNGE_LOG_KEEP): Promise<Uid[]> {
  checkUids(uids);
  const box = await lockMailbox(tx, mailboxId);
  const rows = await selectByUids(tx, box.id, uids, 0);
  if (rows.length === 0) return [];
  const gone = rows.map((r) => r.uid);
  const t = tally(rows);
  const modSeq = await tx.modSeq(box.id);
  await tx.exec(`DELETE FROM messages WHERE mailbox_id = ? AND uid ${tx.d.inList('int')}`, [box.id, tx.d.listParam(gone)]);
  await logExpunged(tx, box.id, modSeq, gone, keep);
  await shrinkMailbox(tx, box.id, t);
  await chargeUser(tx, box.user_id, -t.bytes, -t.n);
  await releaseContents(tx, countContents(rows));
  tx.touch('expunge', box.user_id, box.id);
  return gone as Uid[];
}

/** Locks both mailboxes' users (ascending id) and returns the fresh rows. */
async function lockPair(tx: Tx, fromId: Id, toId: Id) {
  const dstFirst = await requireMailbox(tx, toId);
  const src = await lockMailbox(tx, fromId, dstFirst.user_id);
  const dst = tx.d.rowLocks ? await requireMailbox(tx, toId) : dstFirst;
  return { src, dst };
}

export async function copyMessages(tx: Tx, fromId: Id, uids: Uid[], toId: Id): Promise<CopyResult> {
  checkUids(uids);
  const { src, dst } = await lockPair(tx, fromId, toId);
  const rows = await selectByUids(tx, src.id, uids, 0);
  if (rows.length === 0) return { uidValidity: dst.uid_validity, mapping: [] };
  const t = tally(rows);
  await chargeWithinQuota(tx, dst.user_id, t.bytes, t.n);
  await addContentRefs(tx, countContents(rows));
  const { modSeq, first } = await stampAndTakeUids(tx, dst.id, t);
  const now = Date.now();
  const mapping = [];
  for (const [i, r] of rows.entries()) {
    // RFC 8474 5.1: COPY keeps EMAILID; a copy is a new POP3 message (new UIDL)
    await tx.exec(INSERT_MESSAGE, [dst.id, first + i, modSeq, r.flags, r.internal_date, now, r.size, r.content_id, r.email_id, r.thread_id, newObjectId('U')]);
    mapping.push({ from: r.uid as Uid, to: (first + i) as Uid });
  }
  tx.touch('append', dst.user_id, dst.id);
  return { uidValidity: dst.uid_validity, mapping };
}

/** RFC 6851: the rows move (keeping EMAILID, THREADID and private flags); the source logs an expunge. */
export async function moveMessages(tx: Tx, fromId: Id, uids: Uid[], toId: Id, keep = EXPUNGE_LOG_KEEP): Promise<CopyResult> {
  checkUids(uids);
  const { src, dst } = await lockPair(tx, fromId, toId);
  const rows = await selectByUids(tx, src.id, uids, 0);
  if (rows.length === 0) return { uidValidity: dst.uid_validity, mapping: [] };
  const t = tally(rows);
  if (src.user_id !== dst.user_id) {
    await checkQuota(tx, dst.user_id, t.bytes, t.n);
    await chargeUser(tx, dst.user_id, t.bytes, t.n);
    await chargeUser(tx, src.user_id, -t.bytes, -t.n);
  }
  const srcModSeq = await tx.modSeq(src.id);
  const dstModSeq = await tx.modSeq(dst.id);
  await shrinkMailbox(tx, src.id, t);
  const first = await takeUids(tx, dst.id, t);
  const now = Date.now();
  const mapping = [];
  for (const [i, r] of rows.entries()) {
    await tx.exec('UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ?, save_date = ? WHERE id = ?', [dst.id, first + i, dstModSeq, now, r.id]);
    mapping.push({ from: r.uid as Uid, to: (first + i) as Uid });
  }
  await logExpunged(tx, src.id, srcModSeq, rows.map((r) => r.uid), keep);
  tx.touch('expunge', src.user_id, src.id);
  tx.touch('append', dst.user_id, dst.id);
  return { uidValidity: dst.uid_validity, mapping };
}

/** RFC 1939 7: unique-id is 1 to 70 characters in the range 0x21 to 0x7E. */
const UIDL_SYNTAX = /^[\x21-\x7e]{1,70}$/;

export async function setUidl(tx: Tx, mailboxId: Id, uid: Uid, uidl: string): Promise<void> {
  await requireMailbox(tx, mailboxId);
  if (typeof uidl !== 'string' || !UIDL_SYNTAX.test(uidl)) throw new StoreError('invalid', 'a UIDL is 1-70 characters 0x21-0x7E (RFC 1939 7)');
  if (!Number.isSafeInteger(uid) || uid <= 0) throw new StoreError('notfound', `no message ${uid} in mailbox ${mailboxId}`);
  const { changes } = await tx.exec('UPDATE messages SET uidl = ? WHERE mailbox_id = ? AND uid = ?', [uidl, mailboxId, uid]);
  if (changes === 0) throw new StoreError('notfound', `no message ${uid} in mailbox ${mailboxId}`);
}

export async function changesSince(tx: ReadTx, mailboxId: Id, modSeq: ModSeq, viewerId: Id): Promise<Changes> {
  const box = await requireMailbox(tx, mailboxId);
  if (!Number.isSafeInteger(modSeq) || modSeq < 0) throw new StoreError('invalid', 'modseq must be a non-negative integer');
  const changed = await tx.query<MessageRecord>(
    `${MESSAGE_SELECT} WHERE m.id IN (
        SELECT id FROM messages WHERE mailbox_id = ? AND modseq > ?
        UNION SELECT p.message_id FROM private_flags p JOIN messages x ON x.id = p.message_id
              WHERE p.user_id = ? AND x.mailbox_id = ? AND p.modseq > ?)
      ORDER BY m.uid`,
    [viewerId, box.id, modSeq, viewerId, box.id, modSeq],
  );
  const expunged = await tx.query<{ uid: number }>('SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid', [box.id, modSeq]);
  return {
    highestModSeq: box.highest_modseq,
    changed: changed.map(toMessage),
    expunged: expunged.map((e) => e.uid as Uid),
    expungedComplete: modSeq >= Number(box.expunged_floor),
  };
}

/** Deletes a mailbox with its rows and expunge log; releases quota and content. */
export async function deleteMailboxRow(tx: Tx, userId: Id, mailboxId: Id): Promise<void> {
  await tx.lockUsers([userId]);
  const rows = await tx.query<{ content_id: string; size: number }>('SELECT content_id, size FROM messages WHERE mailbox_id = ?', [mailboxId]);
  const bytes = rows.reduce((sum, r) => sum + r.size, 0);
  await tx.exec('DELETE FROM messages WHERE mailbox_id = ?', [mailboxId]);
  await tx.exec('DELETE FROM expunged WHERE mailbox_id = ?', [mailboxId]);
  await tx.exec('DELETE FROM mailboxes WHERE id = ?', [mailboxId]);
  await chargeUser(tx, userId, -bytes, -rows.length);
  await releaseContents(tx, countContents(rows));
  tx.touch('mailbox-deleted', userId, mailboxId);
}

export async function deleteMailbox(tx: Tx, userId: Id, name: string): Promise<void> {
  const box = await requireMailboxByName(tx, userId, name);
  await deleteMailboxRow(tx, userId, box.id);
}
