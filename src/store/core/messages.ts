/**
 * Message rows: append, copy, move, expunge, flag updates and the change log.
 * UIDs come from mailboxes.uid_next (only grows); every transaction that changes rows in
 * a mailbox stamps them with one new MODSEQ (Tx.modSeq). Quota usage and mailbox
 * counters change in the same transaction as the rows, so they are always exact. Every
 * write first locks the owning user's row (lockMailbox; a no-op on SQLite, whose write
 * transaction excludes every other writer), so UIDNEXT, MODSEQ, counters and quota are
 * read and bumped by one writer at a time with any number of nodes.
 */
import { sortKeysFor, sortKeysOfRows } from './sort-keys.js';
import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import { rearmQuotaWarning } from './quota-warning.js';
import type { AppendRequest, AppendResult, Changes, CopyResult, DeletedBy, RetentionSettings, FlagUpdate, FlagUpdateResult, Id, MailboxCounts, MessageRow, ModSeq, Uid } from '../types.js';
import { acquireContent, addContentRefs, countContents, releaseContents } from './contents.js';
import { removeRows, restoreRows, retainRows, withoutRecord } from './deleted.js';
import { applyFlagOp, joinFlags, normalizeFlags, sameFlags, SEEN, seenIsPrivate, splitFlags, withoutSeen } from './flags.js';
import { lockMailbox, lockMailboxIdentity, requireMailbox, requireMailboxByName } from './mailboxes.js';
import { MESSAGE_SELECT, toMessage, viewModSeq, type MessageRecord } from './rows.js';
import type { Dialect } from './port.js';
import type { ReadTx, Tx } from './tx.js';

// Random bytes for ids drawn a few KiB at a time: a delivery makes three ids, and a
// randomBytes call each was ~1 % of the store's writer thread (profile of the LMTP bench).
const ID_BYTES = 16;
const ID_POOL = 4096;
let idPool = Buffer.alloc(0);
let idAt = 0;

/** RFC 8474 objectid: 1*255 of ALPHA / DIGIT / "_" / "-"; a prefix letter and 128 random bits. */
export function newObjectId(prefix: 'M' | 'T' | 'U'): string {
  if (idAt + ID_BYTES > idPool.length) {
    idPool = randomBytes(ID_POOL);
    idAt = 0;
  }
  idAt += ID_BYTES;
  return prefix + idPool.toString('hex', idAt - ID_BYTES, idAt);
}

export function checkUids(uids: Uid[]): number[] {
  if (!Array.isArray(uids) || !uids.every((u) => Number.isSafeInteger(u) && u > 0)) throw new StoreError('invalid', 'UIDs must be positive integers');
  return uids;
}

/** Rows of `uids` in ascending UID order, as seen by `viewerId`, in one query (no N+1). */
export async function selectByUids(tx: ReadTx, mailboxId: Id, uids: Uid[], viewerId: Id): Promise<MessageRecord[]> {
  return tx.query<MessageRecord>(
    `${MESSAGE_SELECT} WHERE m.mailbox_id = ? AND m.uid ${tx.d.inList('int')} ORDER BY m.uid`,
    [viewerId, mailboxId, tx.d.listParam(checkUids(uids))],
  );
}

/** 'overquota' when adding `bytes`/`messages` to the user's usage passes a limit. */
export async function checkQuota(tx: Tx, userId: Id, bytes: number, messages: number): Promise<void> {
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

export async function chargeUser(tx: Tx, userId: Id, bytes: number, messages: number): Promise<void> {
  await tx.exec('UPDATE users SET used_bytes = used_bytes + ?, used_messages = used_messages + ? WHERE id = ?', [bytes, messages, userId]);
  if (bytes < 0 || messages < 0) await rearmQuotaWarning(tx, userId); // below a threshold again: the next crossing warns again
}

/**
 * checkQuota + chargeUser in one statement (a round trip fewer per delivery): charges,
 * then checks the new usage against the limits; 'overquota' rolls the charge back with
 * the rest of the transaction. Same rule: usage + added > limit fails.
 */
export async function chargeWithinQuota(tx: Tx, userId: Id, bytes: number, messages: number): Promise<void> {
  const u = (await tx.get<UsageAfterCharge>(`${CHARGE} RETURNING quota_bytes, quota_messages, used_bytes, used_messages`, [bytes, messages, userId]))!;
  withinQuota(u, bytes, messages);
}

const CHARGE = 'UPDATE users SET used_bytes = used_bytes + ?, used_messages = used_messages + ? WHERE id = ?';

interface UsageAfterCharge {
  quota_bytes: number | null;
  quota_messages: number | null;
  used_bytes: number;
  used_messages: number;
}

/** 'overquota' when usage after adding `bytes`/`messages` passes a limit (the transaction then rolls the charge back). */
function withinQuota(u: UsageAfterCharge, bytes: number, messages: number): void {
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
export interface Tally {
  n: number;
  bytes: number;
  seen: number;
  deleted: number;
}

/** 1/0 for a stored (canonical, space-separated) flag list holding `flag`: the same exact token rule as SQL hasFlag. */
function holds(flags: string, flag: '\\Seen' | '\\Deleted'): number {
  return ` ${flags} `.includes(` ${flag} `) ? 1 : 0;
}

export function tally(rows: readonly { flags: string; size: number }[]): Tally {
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
export async function takeUids(tx: Tx, mailboxId: Id, t: Tally): Promise<number> {
  const r = await tx.get<{ uid_next: number }>(`UPDATE mailboxes SET ${GROW} WHERE id = ? RETURNING uid_next`, [t.n, t.n, t.bytes, t.seen, t.deleted, mailboxId]);
  if (!r) throw new StoreError('notfound', `no mailbox with id ${mailboxId}`); // deleted while this transaction waited for its lock
  return r.uid_next - t.n;
}

/** The transaction's MODSEQ for the mailbox and `t.n` reserved UIDs, in one statement when the MODSEQ is not bumped yet. */
async function stampAndTakeUids(tx: Tx, mailboxId: Id, t: Tally): Promise<{ modSeq: ModSeq; first: number }> {
  const known = tx.knownModSeq(mailboxId);
  if (known !== undefined) return { modSeq: known, first: await takeUids(tx, mailboxId, t) };
  const r = await tx.get<{ uid_next: number; highest_modseq: number }>(
    `UPDATE mailboxes SET highest_modseq = highest_modseq + 1, ${GROW} WHERE id = ? RETURNING uid_next, highest_modseq`,
    [t.n, t.n, t.bytes, t.seen, t.deleted, mailboxId],
  );
  if (!r) throw new StoreError('notfound', `no mailbox with id ${mailboxId}`); // deleted while this transaction waited for its lock
  tx.setModSeq(mailboxId, r.highest_modseq);
  return { modSeq: r.highest_modseq, first: r.uid_next - t.n };
}

/**
 * An append's charge to its user (quota checked unless `ignoreQuota`) and its mailbox's
 * MODSEQ, UIDs and counters: on PostgreSQL one statement where the MODSEQ is not bumped
 * yet (writableCte: a round trip fewer per delivery), else chargeWithinQuota/chargeUser
 * and stampAndTakeUids one after the other. The user's row is locked already (the
 * append's lockMailboxIdentity), so the lock order stays users, then mailboxes.
 */
async function chargeAndStamp(tx: Tx, userId: Id, mailboxId: Id, t: Tally, ignoreQuota: boolean): Promise<{ modSeq: ModSeq; first: number }> {
  if (!tx.d.writableCte || tx.knownModSeq(mailboxId) !== undefined) {
    if (ignoreQuota) await chargeUser(tx, userId, t.bytes, t.n);
    else await chargeWithinQuota(tx, userId, t.bytes, t.n);
    return stampAndTakeUids(tx, mailboxId, t);
  }
  const r = (await tx.get<UsageAfterCharge & { uid_next: number | null; highest_modseq: number | null }>(
    `WITH u AS (${CHARGE} RETURNING quota_bytes, quota_messages, used_bytes, used_messages),
      m AS (UPDATE mailboxes SET highest_modseq = highest_modseq + 1, ${GROW} WHERE id = ? RETURNING uid_next, highest_modseq)
      SELECT u.*, m.uid_next, m.highest_modseq FROM u LEFT JOIN m ON true`,
    [t.bytes, t.n, userId, t.n, t.n, t.bytes, t.seen, t.deleted, mailboxId],
  ))!;
  if (!ignoreQuota) withinQuota(r, t.bytes, t.n);
  if (r.uid_next === null || r.highest_modseq === null) throw new StoreError('notfound', `no mailbox with id ${mailboxId}`); // deleted while this transaction waited for its lock
  tx.setModSeq(mailboxId, r.highest_modseq);
  return { modSeq: r.highest_modseq, first: r.uid_next - t.n };
}

export async function shrinkMailbox(tx: Tx, mailboxId: Id, t: Tally): Promise<void> {
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

export async function logExpunged(tx: Tx, mailboxId: Id, modSeq: ModSeq, uids: number[], keep: number): Promise<void> {
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

/** The message-id keys a new message's thread is found and remembered by: distinct, trimmed, bounded. */
function threadKeysOf(threadKeys: string[] | undefined): string[] {
  return [...new Set((threadKeys ?? []).filter((k) => typeof k === 'string').map((k) => k.trim()).filter((k) => k !== '' && k.length <= 998))].slice(0, 200);
}

/** The THREADID for new mail: reuse the thread of the first known key, else a new one; remember all keys. */
async function threadFor(tx: Tx, userId: Id, keys: string[]): Promise<string> {
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

/** A message row; the last three values are the derived columns (sort-keys.ts RowKeys). */
const INSERT_MESSAGE = `INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, save_date, size, content_id, email_id, thread_id, uidl, sent_date, thread_keys, text_filter)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * The thread of a new row (writableCte): `chosen` is the thread of the first key (in the given
 * order) already known for the user, else the new id; `refs` remembers every key with it.
 * Parameters: keys, user, new thread id, user.
 * `found` looks each key up by the primary key (LATERAL … LIMIT 1 is not flattened into a
 * join): as a plain join, the generic plan a connection prepared while thread_refs was small
 * hash-joined the keys against every ref of the user, a read that grew with the mailbox
 * until the next ANALYZE re-planned it (auto_explain on the pg-delivery bench: all 59 refs
 * of the user read for one key after 600 deliveries). The bench's rates did not move
 * measurably; the point is that the read no longer grows with the mailbox.
 */
const THREAD_CTES = `keys AS (SELECT value, ord FROM unnest(CAST(? AS text[])) WITH ORDINALITY AS k(value, ord)),
  found AS (SELECT t.thread_id FROM keys CROSS JOIN LATERAL (SELECT thread_id FROM thread_refs WHERE user_id = ? AND message_id_header = keys.value LIMIT 1) t ORDER BY keys.ord LIMIT 1),
  chosen AS (SELECT COALESCE((SELECT thread_id FROM found), ?) AS thread_id),
  refs AS (INSERT INTO thread_refs (user_id, message_id_header, thread_id) SELECT ?, keys.value, chosen.thread_id FROM keys, chosen ON CONFLICT DO NOTHING)`;

/**
 * threadFor and INSERT_MESSAGE in one statement (writableCte: two round trips fewer per
 * delivery), by THREAD_CTES' rule. Parameters: THREAD_CTES', then INSERT_MESSAGE's without thread_id.
 */
const INSERT_MESSAGE_THREADED = `WITH ${THREAD_CTES}
  INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, save_date, size, content_id, email_id, thread_id, uidl, sent_date, thread_keys, text_filter)
  SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, chosen.thread_id, ?, ?, ?, ? FROM chosen RETURNING id, thread_id`;

/** Inserts the message row with its thread (found or new); its id and thread id. */
async function insertThreaded(tx: Tx, userId: Id, threadKeys: string[] | undefined, row: (threadId: string) => unknown[]): Promise<{ id: number; threadId: string }> {
  const keys = threadKeysOf(threadKeys);
  if (tx.d.writableCte && keys.length > 0) {
    const values = row('');
    const r = (await tx.get<{ id: number; thread_id: string }>(INSERT_MESSAGE_THREADED, [tx.d.listParam(keys), userId, newObjectId('T'), userId, ...values.slice(0, 9), ...values.slice(10)]))!;
    return { id: r.id, threadId: r.thread_id };
  }
  const threadId = await threadFor(tx, userId, keys);
  const r = (await tx.get<{ id: number }>(`${INSERT_MESSAGE} RETURNING id`, row(threadId)))!;
  return { id: r.id, threadId };
}

/** A message row's values in INSERT_MESSAGE's order, for a thread id, UID and MODSEQ. */
type RowValues = (threadId: string, uid: number, modSeq: ModSeq) => unknown[];

interface Appended {
  modSeq: ModSeq;
  uid: number;
  id: number;
  threadId: string;
}

/** chargeAndStamp, then the row with its thread (the statements one after the other). */
async function chargeThenInsert(tx: Tx, userId: Id, mailboxId: Id, t: Tally, ignoreQuota: boolean, threadKeys: string[] | undefined, row: RowValues): Promise<Appended> {
  const { modSeq, first: uid } = await chargeAndStamp(tx, userId, mailboxId, t, ignoreQuota);
  const { id, threadId } = await insertThreaded(tx, userId, threadKeys, (thread) => row(thread, uid, modSeq));
  return { modSeq, uid, id, threadId };
}

/**
 * chargeAndStamp and insertThreaded in one statement (writableCte, first MODSEQ of the
 * mailbox in this transaction: a round trip fewer per delivery). The row takes its UID and
 * MODSEQ from the mailbox's UPDATE … RETURNING; the quota is checked on what the charge
 * returns, and 'overquota' (or 'notfound': no mailbox row, so no message row either) rolls
 * the whole transaction back, the row with it. Lock order as before: the user (locked by the
 * append already), then the mailbox.
 */
async function chargeStampAndInsert(tx: Tx, userId: Id, mailboxId: Id, t: Tally, ignoreQuota: boolean, threadKeys: string[] | undefined, row: RowValues): Promise<Appended> {
  const values = row('', 0, 0);
  const r = (await tx.get<UsageAfterCharge & { uid_next: number | null; highest_modseq: number | null; id: number | null; thread_id: string | null }>(
    `WITH u AS (${CHARGE} RETURNING quota_bytes, quota_messages, used_bytes, used_messages),
      m AS (UPDATE mailboxes SET highest_modseq = highest_modseq + 1, ${GROW} WHERE id = ? RETURNING uid_next, highest_modseq),
      ${THREAD_CTES},
      msg AS (INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, save_date, size, content_id, email_id, thread_id, uidl, sent_date, thread_keys, text_filter)
        SELECT ?, m.uid_next - ?, m.highest_modseq, ?, ?, ?, ?, ?, ?, chosen.thread_id, ?, ?, ?, ? FROM m, chosen RETURNING id, thread_id)
      SELECT u.*, m.uid_next, m.highest_modseq, msg.id, msg.thread_id FROM u LEFT JOIN m ON true LEFT JOIN msg ON true`,
    [t.bytes, t.n, userId, t.n, t.n, t.bytes, t.seen, t.deleted, mailboxId, tx.d.listParam(threadKeysOf(threadKeys)), userId, newObjectId('T'), userId, values[0], t.n, ...values.slice(3, 9), ...values.slice(10)],
  ))!;
  if (!ignoreQuota) withinQuota(r, t.bytes, t.n);
  if (r.uid_next === null || r.highest_modseq === null || r.id === null || r.thread_id === null) throw new StoreError('notfound', `no mailbox with id ${mailboxId}`); // deleted while this transaction waited for its lock
  tx.setModSeq(mailboxId, r.highest_modseq);
  return { modSeq: r.highest_modseq, uid: r.uid_next - t.n, id: r.id, threadId: r.thread_id };
}

export async function appendMessage(tx: Tx, req: AppendRequest): Promise<AppendResult> {
  const flags = normalizeFlags(req.flags ?? []);
  const internalDate = req.internalDate ?? new Date();
  if (!(internalDate instanceof Date) || Number.isNaN(internalDate.getTime())) throw new StoreError('invalid', 'internalDate is not a valid date');
  // Only the row's identity is used below; counters move through stampAndTakeUids.
  const box = await lockMailboxIdentity(tx, req.mailboxId);
  if (box.recently_deleted) throw new StoreError('invalid', 'nothing is appended to Recently Deleted');
  const size = await acquireContent(tx, req.content);
  // A member's \Seen (APPEND, the Sent copy) is private to the member (RFC 9051 2.3.2 leaves per-user \Seen to the server)
  const privateSeen = req.viewerId !== undefined && seenIsPrivate(req.viewerId) && flags.includes(SEEN);
  const stored = joinFlags(privateSeen ? withoutSeen(flags) : flags); // the shared column, which the counters count
  const now = Date.now();
  const emailId = newObjectId('M');
  const uidl = newObjectId('U');
  const sortKeys = await sortKeysFor(tx, req.content);
  const t = tally([{ flags: stored, size }]);
  const values = (thread: string, uid: number, modSeq: ModSeq) => [box.id, uid, modSeq, stored, internalDate.getTime(), now, size, req.content.id, emailId, thread, uidl, ...sortKeys];
  const { modSeq, uid, id, threadId } =
    tx.d.writableCte && tx.knownModSeq(box.id) === undefined
      ? await chargeStampAndInsert(tx, box.user_id, box.id, t, req.ignoreQuota ?? false, req.threadKeys, values)
      : await chargeThenInsert(tx, box.user_id, box.id, t, req.ignoreQuota ?? false, req.threadKeys, values);
  if (privateSeen) await setPrivateFlags(tx, id, req.viewerId!, [SEEN], modSeq);
  tx.touch('append', box.user_id, box.id);
  const row: MessageRow = {
    mailboxId: box.id, uid: uid as Uid, modSeq, flags, internalDate: new Date(internalDate.getTime()), saveDate: new Date(now),
    size, contentId: req.content.id, emailId, threadId, uidl,
  };
  return { row, uidValidity: box.uid_validity };
}

/** Several appends in one transaction (IMAP MULTIAPPEND, RFC 3502): all are stored, or none. */
export async function appendMessages(tx: Tx, reqs: AppendRequest[]): Promise<AppendResult[]> {
  if (!Array.isArray(reqs) || reqs.length === 0) throw new StoreError('invalid', 'appendMessages needs at least one message');
  const out: AppendResult[] = [];
  for (const req of reqs) out.push(await appendMessage(tx, req));
  return out;
}

export async function listMessages(tx: ReadTx, mailboxId: Id, viewerId: Id): Promise<MessageRow[]> {
  await requireMailbox(tx, mailboxId);
  return (await tx.query<MessageRecord>(`${MESSAGE_SELECT} WHERE m.mailbox_id = ? ORDER BY m.uid`, [viewerId, mailboxId])).map((r) => toMessage(r, viewerId));
}

export async function getMessages(tx: ReadTx, mailboxId: Id, uids: Uid[], viewerId: Id): Promise<MessageRow[]> {
  await requireMailbox(tx, mailboxId);
  return (await selectByUids(tx, mailboxId, uids, viewerId)).map((r) => toMessage(r, viewerId));
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

/** A member's private rows: those with \Seen, and those adding \Deleted to a row lacking it. */
function memberCounts(d: Dialect): string {
  return `SELECT coalesce(sum(CASE WHEN ${hasFlag(d, 'pf.flags')} THEN 1 ELSE 0 END), 0) AS seen,
         coalesce(sum(CASE WHEN ${hasFlag(d, 'pf.flags')} AND NOT ${hasFlag(d, 'm.flags')} THEN 1 ELSE 0 END), 0) AS deleted
    FROM private_flags pf JOIN messages m ON m.id = pf.message_id
    WHERE pf.user_id = ? AND m.mailbox_id = ?`;
}

/** Inserts or replaces a viewer's private flags on one row. */
async function setPrivateFlags(tx: Tx, messageId: number, viewerId: Id, flags: string[], modSeq: ModSeq): Promise<void> {
  await tx.exec(
    `INSERT INTO private_flags (message_id, user_id, flags, modseq) VALUES (?, ?, ?, ?)
     ON CONFLICT (message_id, user_id) DO UPDATE SET flags = excluded.flags, modseq = excluded.modseq`,
    [messageId, viewerId, joinFlags(flags), modSeq],
  );
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
  if (seenIsPrivate(viewerId)) {
    // A member's \Seen is only its own private one: unseen = rows − the member's seen rows.
    const m = (await tx.get<{ seen: number; deleted: number }>(memberCounts(tx.d), [seen, deleted, deleted, viewerId, mailboxId]))!;
    return { messages: Number(box.message_count), unseen: Number(box.message_count) - Number(m.seen), deleted: Number(box.deleted_count) + Number(m.deleted), size: Number(box.total_size) };
  }
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
  const apply = seenIsPrivate(u.viewerId) ? applyAsMember : applyAsOwner;
  let seen = 0; // changes to the shared column's \Seen and \Deleted, for the mailbox counters
  let deleted = 0;
  for (const r of await selectByUids(tx, box.id, u.uids, u.viewerId)) {
    // RFC 7162 3.1.3: a row modified after UNCHANGEDSINCE is not changed and is reported
    if (u.unchangedSince !== undefined && viewModSeq(r, u.viewerId) > u.unchangedSince) {
      result.failed.push(r.uid as Uid);
      continue;
    }
    const next = await apply(tx, box.id, r, u, change);
    if (!next) continue;
    seen += holds(next.flags, '\\Seen') - holds(r.flags, '\\Seen');
    deleted += holds(next.flags, '\\Deleted') - holds(r.flags, '\\Deleted');
    result.changed.push(toMessage(next, u.viewerId));
  }
  if (seen !== 0 || deleted !== 0) {
    await tx.exec('UPDATE mailboxes SET seen_count = seen_count + ?, deleted_count = deleted_count + ? WHERE id = ?', [seen, deleted, box.id]);
  }
  if (result.changed.length > 0) tx.touch('flags', box.user_id, box.id);
  return result;
}

/**
 * The owner's STORE: every flag is in the shared column. A change of \Seen alone keeps
 * `shared_modseq`, so it is no change for the members. Null when nothing changed.
 */
async function applyAsOwner(tx: Tx, mailboxId: Id, r: MessageRecord, u: FlagUpdate, change: string[]): Promise<MessageRecord | null> {
  const current = splitFlags(r.flags);
  const next = applyFlagOp(current, u.op, change);
  if (sameFlags(current, next)) return null; // nothing changed: no new MODSEQ
  const modSeq = await tx.modSeq(mailboxId);
  const onlySeen = sameFlags(withoutSeen(current), withoutSeen(next));
  await tx.exec(`UPDATE messages SET flags = ?, modseq = ?, shared_modseq = ${onlySeen ? 'coalesce(shared_modseq, modseq)' : 'NULL'} WHERE id = ?`, [joinFlags(next), modSeq, r.id]);
  return { ...r, flags: joinFlags(next), modseq: modSeq, shared_modseq: onlySeen ? (r.shared_modseq ?? r.modseq) : null };
}

/**
 * A member's STORE: \Seen goes to the member's private flags, every other flag to the
 * shared column, where the owner's \Seen stays as it was. Null when nothing changed.
 */
async function applyAsMember(tx: Tx, mailboxId: Id, r: MessageRecord, u: FlagUpdate, change: string[]): Promise<MessageRecord | null> {
  const shared = splitFlags(r.flags);
  const ownerSeen = shared.includes(SEEN);
  const others = withoutSeen(shared);
  const nextOthers = applyFlagOp(others, u.op, withoutSeen(change));
  const priv = splitFlags(r.pflags);
  const seenChange = change.filter((f) => f === SEEN);
  const nextPriv = u.op === 'set' ? [...withoutSeen(priv), ...seenChange] : applyFlagOp(priv, u.op, seenChange);
  const sharedChanged = !sameFlags(others, nextOthers);
  const privChanged = !sameFlags(priv, nextPriv);
  if (!sharedChanged && !privChanged) return null;
  const modSeq = await tx.modSeq(mailboxId);
  const nextShared = ownerSeen ? [SEEN, ...nextOthers] : nextOthers;
  if (sharedChanged) await tx.exec('UPDATE messages SET flags = ?, modseq = ?, shared_modseq = NULL WHERE id = ?', [joinFlags(nextShared), modSeq, r.id]);
  if (privChanged) await setPrivateFlags(tx, r.id, u.viewerId, nextPriv, modSeq);
  return {
    ...r,
    flags: joinFlags(nextShared),
    modseq: sharedChanged ? modSeq : r.modseq,
    shared_modseq: sharedChanged ? null : r.shared_modseq,
    pflags: joinFlags(nextPriv),
    pmodseq: privChanged ? modSeq : r.pmodseq,
  };
}

/**
 * Removes rows: into Recently Deleted while retention keeps deleted mail (deleted.ts), else
 * for good (expunge log, quota, content released). Rows of Recently Deleted itself go for good.
 */
export async function expunge(tx: Tx, mailboxId: Id, uids: Uid[], retention: RetentionSettings, by: DeletedBy, keep = EXPUNGE_LOG_KEEP): Promise<Uid[]> {
  checkUids(uids);
  const box = await lockMailbox(tx, mailboxId);
  const rows = await selectByUids(tx, box.id, uids, 0);
  if (rows.length === 0) return [];
  if (retention.keepDeleted && !box.recently_deleted) return retainRows(tx, box, rows, by, retention, keep);
  return removeRows(tx, box, rows, keep);
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
  if (dst.recently_deleted) throw new StoreError('invalid', 'messages enter Recently Deleted only by being expunged');
  const rows = await selectByUids(tx, src.id, uids, 0);
  if (rows.length === 0) return { uidValidity: dst.uid_validity, mapping: [] };
  const t = tally(rows);
  await chargeWithinQuota(tx, dst.user_id, t.bytes, t.n);
  await addContentRefs(tx, countContents(rows));
  const { modSeq, first } = await stampAndTakeUids(tx, dst.id, t);
  const now = Date.now();
  const mapping = [];
  const keys = await sortKeysOfRows(tx, src.id, rows);
  for (const [i, r] of rows.entries()) {
    // RFC 8474 5.1: COPY keeps EMAILID; a copy is a new POP3 message (new UIDL)
    const flags = src.recently_deleted ? joinFlags(withoutRecord(splitFlags(r.flags))) : r.flags;
    await tx.exec(INSERT_MESSAGE, [dst.id, first + i, modSeq, flags, r.internal_date, now, r.size, r.content_id, r.email_id, r.thread_id, newObjectId('U'), ...keys[i]]);
    mapping.push({ from: r.uid as Uid, to: (first + i) as Uid });
  }
  await copyPrivateFlags(tx, rows, dst.id, first, modSeq);
  tx.touch('append', dst.user_id, dst.id);
  return { uidValidity: dst.uid_validity, mapping };
}

/** Each member's read state goes with a copy (one probe; nothing more unless the account has members who read). */
async function copyPrivateFlags(tx: Tx, rows: MessageRecord[], dstId: Id, first: number, modSeq: ModSeq): Promise<void> {
  const ids = rows.map((r) => r.id);
  if (!(await tx.get(`SELECT 1 FROM private_flags WHERE message_id ${tx.d.inList('int')} LIMIT 1`, [tx.d.listParam(ids)]))) return;
  for (const [i, r] of rows.entries()) {
    await tx.exec(
      `INSERT INTO private_flags (message_id, user_id, flags, modseq)
       SELECT n.id, pf.user_id, pf.flags, ? FROM private_flags pf JOIN messages n ON n.mailbox_id = ? AND n.uid = ? WHERE pf.message_id = ?`,
      [modSeq, dstId, first + i, r.id],
    );
  }
}

/** RFC 6851: the rows move (keeping EMAILID, THREADID and private flags); the source logs an expunge. */
export async function moveMessages(tx: Tx, fromId: Id, uids: Uid[], toId: Id, keep = EXPUNGE_LOG_KEEP): Promise<CopyResult> {
  checkUids(uids);
  const { src, dst } = await lockPair(tx, fromId, toId);
  if (dst.recently_deleted) throw new StoreError('invalid', 'messages enter Recently Deleted only by being expunged');
  const rows = await selectByUids(tx, src.id, uids, 0);
  if (rows.length === 0) return { uidValidity: dst.uid_validity, mapping: [] };
  if (src.recently_deleted) return { uidValidity: dst.uid_validity, mapping: await restoreRows(tx, src, rows, dst, keep) };
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
    await tx.exec('UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ?, shared_modseq = NULL, save_date = ? WHERE id = ?', [dst.id, first + i, dstModSeq, now, r.id]);
    mapping.push({ from: r.uid as Uid, to: (first + i) as Uid });
  }
  // private flags move with the rows; their MODSEQ must be one of the new mailbox
  await tx.exec(`UPDATE private_flags SET modseq = ? WHERE message_id ${tx.d.inList('int')}`, [dstModSeq, tx.d.listParam(rows.map((r) => r.id))]);
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
  // A member does not see the owner's \Seen change (only modseq moved, not shared_modseq);
  // shared_modseq <= modseq, so the messages_modseq index still narrows the scan.
  const member = seenIsPrivate(viewerId);
  const changed = await tx.query<MessageRecord>(
    `${MESSAGE_SELECT} WHERE m.id IN (
        SELECT id FROM messages WHERE mailbox_id = ? AND modseq > ?${member ? ' AND coalesce(shared_modseq, modseq) > ?' : ''}
        UNION SELECT p.message_id FROM private_flags p JOIN messages x ON x.id = p.message_id
              WHERE p.user_id = ? AND x.mailbox_id = ? AND p.modseq > ?)
      ORDER BY m.uid`,
    [viewerId, box.id, modSeq, ...(member ? [modSeq] : []), viewerId, box.id, modSeq],
  );
  const expunged = await tx.query<{ uid: number }>('SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid', [box.id, modSeq]);
  return {
    highestModSeq: box.highest_modseq,
    changed: changed.map((r) => toMessage(r, viewerId)),
    expunged: expunged.map((e) => e.uid as Uid),
    expungedComplete: modSeq >= Number(box.expunged_floor),
  };
}

/**
 * Deletes a mailbox with its rows and expunge log; releases quota and content. With
 * `retain` (retention on and a deletion record) the rows go to Recently Deleted first.
 */
export async function deleteMailboxRow(tx: Tx, userId: Id, mailboxId: Id, retain?: { settings: RetentionSettings; by: DeletedBy }): Promise<void> {
  await tx.lockUsers([userId]);
  if (retain?.settings.keepDeleted) {
    const box = await requireMailbox(tx, mailboxId);
    const kept = await tx.query<MessageRecord>(`${MESSAGE_SELECT} WHERE m.mailbox_id = ? ORDER BY m.uid`, [0, mailboxId]);
    if (kept.length > 0 && !box.recently_deleted) await retainRows(tx, box, kept, retain.by, retain.settings, EXPUNGE_LOG_KEEP, true);
  }
  // Rows of Recently Deleted kept outside the quota are not uncharged again.
  const rows = await tx.query<{ content_id: string; size: number; charged: number | null }>(
    'SELECT m.content_id, m.size, d.charged FROM messages m LEFT JOIN deleted_messages d ON d.message_id = m.id WHERE m.mailbox_id = ?',
    [mailboxId],
  );
  const counted = rows.filter((r) => r.charged === null || Number(r.charged) === 1);
  await tx.exec('DELETE FROM messages WHERE mailbox_id = ?', [mailboxId]);
  await tx.exec('DELETE FROM expunged WHERE mailbox_id = ?', [mailboxId]);
  await tx.exec('DELETE FROM metadata WHERE user_id = ? AND mailbox_id = ?', [userId, mailboxId]);
  await tx.exec('DELETE FROM urlauth_keys WHERE user_id = ? AND mailbox_id = ?', [userId, mailboxId]);
  await tx.exec('DELETE FROM acl WHERE mailbox_id = ?', [mailboxId]); // its sharing goes with it (core/acl.ts)
  await tx.exec('DELETE FROM mailboxes WHERE id = ?', [mailboxId]);
  await chargeUser(tx, userId, -counted.reduce((sum, r) => sum + r.size, 0), -counted.length);
  await releaseContents(tx, countContents(rows));
  tx.touch('mailbox-deleted', userId, mailboxId);
}

export async function deleteMailbox(tx: Tx, userId: Id, name: string, settings: RetentionSettings, by: DeletedBy): Promise<void> {
  const box = await requireMailboxByName(tx, userId, name);
  if (box.recently_deleted) throw new StoreError('invalid', 'Recently Deleted cannot be deleted; its messages are purged after the retention period');
  await deleteMailboxRow(tx, userId, box.id, { settings, by });
}
