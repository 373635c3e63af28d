/**
 * Message rows: append, copy, move, expunge, flag updates and the change log.
 * UIDs come from mailboxes.uid_next (only grows); every transaction that changes rows in a
 * mailbox stamps them with one new MODSEQ (Tx.modSeq). Quota usage and mailbox counters
 * change in the same transaction as the rows, so they are always exact.
 */
import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import type { AppendRequest, AppendResult, Changes, CopyResult, FlagUpdate, FlagUpdateResult, Id, MessageRow, ModSeq, Uid } from '../types.js';
import type { Statements } from './db.js';
import { acquireContent, addContentRefs, countContents, releaseContents } from './contents.js';
import { applyFlagOp, joinFlags, normalizeFlags, sameFlags, splitFlags } from './flags.js';
import { requireMailbox, requireMailboxByName } from './mailboxes.js';
import { MESSAGE_SELECT, toMessage, type MessageRecord } from './rows.js';
import type { Tx } from './tx.js';

/** RFC 8474 objectid: 1*255 of ALPHA / DIGIT / "_" / "-"; a prefix letter and 128 random bits. */
function newObjectId(prefix: 'M' | 'T' | 'U'): string {
  return prefix + randomBytes(16).toString('hex');
}

function checkUids(uids: Uid[]): string {
  if (!Array.isArray(uids) || !uids.every((u) => Number.isSafeInteger(u) && u > 0)) throw new StoreError('invalid', 'UIDs must be positive integers');
  return JSON.stringify(uids);
}

/** Rows of `uids` in ascending UID order, as seen by `viewerId`, in one query (no N+1). */
function selectByUids(s: Statements, mailboxId: Id, uids: Uid[], viewerId: Id): MessageRecord[] {
  return s
    .get(`${MESSAGE_SELECT} WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?)) ORDER BY m.uid`)
    .all(viewerId, mailboxId, checkUids(uids)) as MessageRecord[];
}

/** 'overquota' when adding `bytes`/`messages` to the user's usage passes a limit. */
function checkQuota(tx: Tx, userId: Id, bytes: number, messages: number): void {
  const u = tx.s.get('SELECT quota_bytes, quota_messages, used_bytes, used_messages FROM users WHERE id = ?').get(userId) as {
    quota_bytes: number | null; quota_messages: number | null; used_bytes: number; used_messages: number;
  };
  if (u.quota_bytes !== null && u.used_bytes + bytes > u.quota_bytes) {
    throw new StoreError('overquota', `storage quota exceeded: ${u.used_bytes} + ${bytes} bytes > limit ${u.quota_bytes}`);
  }
  if (u.quota_messages !== null && u.used_messages + messages > u.quota_messages) {
    throw new StoreError('overquota', `message count quota exceeded: ${u.used_messages} + ${messages} messages > limit ${u.quota_messages}`);
  }
}

function chargeUser(tx: Tx, userId: Id, bytes: number, messages: number): void {
  tx.s.get('UPDATE users SET used_bytes = used_bytes + ?, used_messages = used_messages + ? WHERE id = ?').run(bytes, messages, userId);
}

/** Reserves `n` UIDs in a mailbox and adds to its counters; returns the first UID. */
function takeUids(tx: Tx, mailboxId: Id, n: number, bytes: number): number {
  const r = tx.s
    .get('UPDATE mailboxes SET uid_next = uid_next + ?, message_count = message_count + ?, total_size = total_size + ? WHERE id = ? RETURNING uid_next')
    .get(n, n, bytes, mailboxId) as { uid_next: number };
  return r.uid_next - n;
}

/** The THREADID for new mail: reuse the thread of any known key, else a new one; remember all keys. */
function threadFor(tx: Tx, userId: Id, threadKeys: string[] | undefined): string {
  const keys = [...new Set((threadKeys ?? []).filter((k) => typeof k === 'string').map((k) => k.trim()).filter((k) => k !== '' && k.length <= 998))].slice(0, 200);
  const find = tx.s.get('SELECT thread_id FROM thread_refs WHERE user_id = ? AND message_id_header = ?');
  let threadId: string | undefined;
  for (const k of keys) {
    threadId = (find.get(userId, k) as { thread_id: string } | undefined)?.thread_id;
    if (threadId) break;
  }
  threadId ??= newObjectId('T');
  const remember = tx.s.get('INSERT OR IGNORE INTO thread_refs (user_id, message_id_header, thread_id) VALUES (?, ?, ?)');
  for (const k of keys) remember.run(userId, k, threadId);
  return threadId;
}

const INSERT_MESSAGE = `INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, save_date, size, content_id, email_id, thread_id, uidl)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export function appendMessage(tx: Tx, req: AppendRequest): AppendResult {
  const box = requireMailbox(tx.s, req.mailboxId);
  const flags = normalizeFlags(req.flags ?? []);
  const internalDate = req.internalDate ?? new Date();
  if (!(internalDate instanceof Date) || Number.isNaN(internalDate.getTime())) throw new StoreError('invalid', 'internalDate is not a valid date');
  const size = acquireContent(tx, req.content);
  if (!req.ignoreQuota) checkQuota(tx, box.user_id, size, 1);
  chargeUser(tx, box.user_id, size, 1);
  const modSeq = tx.modSeq(box.id);
  const uid = takeUids(tx, box.id, 1, size);
  const now = Date.now();
  const emailId = newObjectId('M');
  const threadId = threadFor(tx, box.user_id, req.threadKeys);
  const uidl = newObjectId('U');
  tx.s.get(INSERT_MESSAGE).run(box.id, uid, modSeq, joinFlags(flags), internalDate.getTime(), now, size, req.content.id, emailId, threadId, uidl);
  tx.touch('append', box.user_id, box.id);
  const row: MessageRow = {
    mailboxId: box.id, uid: uid as Uid, modSeq, flags, internalDate: new Date(internalDate.getTime()), saveDate: new Date(now),
    size, contentId: req.content.id, emailId, threadId, uidl,
  };
  return { row, uidValidity: box.uid_validity };
}

export function listMessages(s: Statements, mailboxId: Id, viewerId: Id): MessageRow[] {
  requireMailbox(s, mailboxId);
  return (s.get(`${MESSAGE_SELECT} WHERE m.mailbox_id = ? ORDER BY m.uid`).all(viewerId, mailboxId) as MessageRecord[]).map(toMessage);
}

export function getMessages(s: Statements, mailboxId: Id, uids: Uid[], viewerId: Id): MessageRow[] {
  requireMailbox(s, mailboxId);
  return selectByUids(s, mailboxId, uids, viewerId).map(toMessage);
}

export function updateFlags(tx: Tx, u: FlagUpdate): FlagUpdateResult {
  const box = requireMailbox(tx.s, u.mailboxId);
  if (u.op !== 'add' && u.op !== 'remove' && u.op !== 'set') throw new StoreError('invalid', `unknown flag operation ${String(u.op)}`);
  if (u.unchangedSince !== undefined && (!Number.isSafeInteger(u.unchangedSince) || u.unchangedSince < 0)) {
    throw new StoreError('invalid', 'UNCHANGEDSINCE must be a non-negative integer');
  }
  const change = normalizeFlags(u.flags);
  const result: FlagUpdateResult = { changed: [], failed: [] };
  const write = tx.s.get('UPDATE messages SET flags = ?, modseq = ? WHERE id = ?');
  for (const r of selectByUids(tx.s, box.id, u.uids, u.viewerId)) {
    // RFC 7162 3.1.3: a row modified after UNCHANGEDSINCE is not changed and is reported
    if (u.unchangedSince !== undefined && Math.max(r.modseq, r.pmodseq ?? 0) > u.unchangedSince) {
      result.failed.push(r.uid as Uid);
      continue;
    }
    const current = splitFlags(r.flags);
    const next = applyFlagOp(current, u.op, change);
    if (sameFlags(current, next)) continue; // nothing changed: no new MODSEQ
    const modSeq = tx.modSeq(box.id);
    write.run(joinFlags(next), modSeq, r.id);
    result.changed.push(toMessage({ ...r, flags: joinFlags(next), modseq: modSeq }));
  }
  if (result.changed.length > 0) tx.touch('flags', box.user_id, box.id);
  return result;
}

/** Removes rows, logs them in the expunge log, releases quota and content. */
export function expunge(tx: Tx, mailboxId: Id, uids: Uid[]): Uid[] {
  const box = requireMailbox(tx.s, mailboxId);
  const rows = selectByUids(tx.s, box.id, uids, 0);
  if (rows.length === 0) return [];
  const gone = JSON.stringify(rows.map((r) => r.uid));
  const bytes = rows.reduce((sum, r) => sum + r.size, 0);
  const modSeq = tx.modSeq(box.id);
  tx.s.get('DELETE FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?))').run(box.id, gone);
  tx.s.get('INSERT INTO expunged (mailbox_id, uid, modseq) SELECT ?, value, ? FROM json_each(?)').run(box.id, modSeq, gone);
  tx.s.get('UPDATE mailboxes SET message_count = message_count - ?, total_size = total_size - ? WHERE id = ?').run(rows.length, bytes, box.id);
  chargeUser(tx, box.user_id, -bytes, -rows.length);
  releaseContents(tx, countContents(rows));
  tx.touch('expunge', box.user_id, box.id);
  return rows.map((r) => r.uid as Uid);
}

export function copyMessages(tx: Tx, fromId: Id, uids: Uid[], toId: Id): CopyResult {
  const src = requireMailbox(tx.s, fromId);
  const dst = requireMailbox(tx.s, toId);
  const rows = selectByUids(tx.s, src.id, uids, 0);
  if (rows.length === 0) return { uidValidity: dst.uid_validity, mapping: [] };
  const bytes = rows.reduce((sum, r) => sum + r.size, 0);
  checkQuota(tx, dst.user_id, bytes, rows.length);
  chargeUser(tx, dst.user_id, bytes, rows.length);
  addContentRefs(tx, countContents(rows));
  const modSeq = tx.modSeq(dst.id);
  const first = takeUids(tx, dst.id, rows.length, bytes);
  const now = Date.now();
  const insert = tx.s.get(INSERT_MESSAGE);
  const mapping = rows.map((r, i) => {
    insert.run(dst.id, first + i, modSeq, r.flags, r.internal_date, now, r.size, r.content_id, r.email_id, r.thread_id, newObjectId('U')); // RFC 8474 5.1: COPY keeps EMAILID; a copy is a new POP3 message
    return { from: r.uid as Uid, to: (first + i) as Uid };
  });
  tx.touch('append', dst.user_id, dst.id);
  return { uidValidity: dst.uid_validity, mapping };
}

/** RFC 6851: the rows move (keeping EMAILID, THREADID and private flags); the source logs an expunge. */
export function moveMessages(tx: Tx, fromId: Id, uids: Uid[], toId: Id): CopyResult {
  const src = requireMailbox(tx.s, fromId);
  const dst = requireMailbox(tx.s, toId);
  const rows = selectByUids(tx.s, src.id, uids, 0);
  if (rows.length === 0) return { uidValidity: dst.uid_validity, mapping: [] };
  const bytes = rows.reduce((sum, r) => sum + r.size, 0);
  if (src.user_id !== dst.user_id) {
    checkQuota(tx, dst.user_id, bytes, rows.length);
    chargeUser(tx, dst.user_id, bytes, rows.length);
    chargeUser(tx, src.user_id, -bytes, -rows.length);
  }
  const srcModSeq = tx.modSeq(src.id);
  const dstModSeq = tx.modSeq(dst.id);
  tx.s.get('UPDATE mailboxes SET message_count = message_count - ?, total_size = total_size - ? WHERE id = ?').run(rows.length, bytes, src.id);
  const first = takeUids(tx, dst.id, rows.length, bytes);
  const now = Date.now();
  const move = tx.s.get('UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ?, save_date = ? WHERE id = ?');
  const mapping = rows.map((r, i) => {
    move.run(dst.id, first + i, dstModSeq, now, r.id);
    return { from: r.uid as Uid, to: (first + i) as Uid };
  });
  tx.s.get('INSERT INTO expunged (mailbox_id, uid, modseq) SELECT ?, value, ? FROM json_each(?)').run(src.id, srcModSeq, JSON.stringify(rows.map((r) => r.uid)));
  tx.touch('expunge', src.user_id, src.id);
  tx.touch('append', dst.user_id, dst.id);
  return { uidValidity: dst.uid_validity, mapping };
}

/** RFC 1939 7: unique-id is 1 to 70 characters in the range 0x21 to 0x7E. */
const UIDL_SYNTAX = /^[\x21-\x7e]{1,70}$/;

export function setUidl(tx: Tx, mailboxId: Id, uid: Uid, uidl: string): void {
  requireMailbox(tx.s, mailboxId);
  if (typeof uidl !== 'string' || !UIDL_SYNTAX.test(uidl)) throw new StoreError('invalid', 'a UIDL is 1-70 characters 0x21-0x7E (RFC 1939 7)');
  const r = tx.s.get('UPDATE messages SET uidl = ? WHERE mailbox_id = ? AND uid = ?').run(uidl, mailboxId, uid);
  if (r.changes === 0) throw new StoreError('notfound', `no message ${uid} in mailbox ${mailboxId}`);
}

export function changesSince(s: Statements, mailboxId: Id, modSeq: ModSeq, viewerId: Id): Changes {
  const box = requireMailbox(s, mailboxId);
  if (!Number.isSafeInteger(modSeq) || modSeq < 0) throw new StoreError('invalid', 'modseq must be a non-negative integer');
  const changed = s
    .get(`${MESSAGE_SELECT} WHERE m.id IN (
        SELECT id FROM messages WHERE mailbox_id = ? AND modseq > ?
        UNION SELECT p.message_id FROM private_flags p JOIN messages x ON x.id = p.message_id
              WHERE p.user_id = ? AND x.mailbox_id = ? AND p.modseq > ?)
      ORDER BY m.uid`)
    .all(viewerId, box.id, modSeq, viewerId, box.id, modSeq) as MessageRecord[];
  const expunged = s.get('SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid').all(box.id, modSeq) as { uid: number }[];
  return { highestModSeq: box.highest_modseq, changed: changed.map(toMessage), expunged: expunged.map((e) => e.uid as Uid) };
}

/** Deletes a mailbox with its rows and expunge log; releases quota and content. */
export function deleteMailboxRow(tx: Tx, userId: Id, mailboxId: Id): void {
  const rows = tx.s.get('SELECT content_id, size FROM messages WHERE mailbox_id = ?').all(mailboxId) as { content_id: string; size: number }[];
  const bytes = rows.reduce((sum, r) => sum + r.size, 0);
  tx.s.get('DELETE FROM messages WHERE mailbox_id = ?').run(mailboxId);
  tx.s.get('DELETE FROM expunged WHERE mailbox_id = ?').run(mailboxId);
  tx.s.get('DELETE FROM mailboxes WHERE id = ?').run(mailboxId);
  chargeUser(tx, userId, -bytes, -rows.length);
  releaseContents(tx, countContents(rows));
  tx.touch('mailbox-deleted', userId, mailboxId);
}

export function deleteMailbox(tx: Tx, userId: Id, name: string): void {
  const box = requireMailboxByName(tx.s, userId, name);
  deleteMailboxRow(tx, userId, box.id);
}
