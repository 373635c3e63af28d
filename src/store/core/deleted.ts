/**
 * Recently Deleted: expunged messages kept for a while instead of being removed.
 *
 * A kept message is an ordinary row of the user's Recently Deleted mailbox (mailboxes.
 * recently_deleted = 1, one per user, made here at the first retained expunge), so it keeps
 * its content reference, flags, EMAILID, THREADID and UIDL, and IMAP sees a real mailbox
 * (UIDs, MODSEQ, QRESYNC) with no special path. `deleted_messages` holds the record (when,
 * from which mailbox, protocol, actor) and whether the row still counts against quota.
 * For the mailbox the message left, keeping it is an expunge like any other: tombstone and
 * MODSEQ, so VANISHED stays right. Restoring is the reverse move; purging removes the row for
 * good and releases its content.
 *
 * The record is also shown as keywords on the kept row (`$DeletedVia.imap`,
 * `$DeletedBy.<actor>`, `$DeletedFrom.<mailbox>`), dropped again on restore: IMAP clients
 * see who deleted what without a new protocol element. `\Deleted` is dropped when a message
 * is kept (it was the means of expunging); every other flag and keyword stays.
 *
 * Invariants: users.used_* count a kept row exactly when deleted_messages.charged = 1; a
 * row of the Recently Deleted mailbox always has its deleted_messages row (same transaction).
 */
import { StoreError } from '../errors.js';
import type { DeletedBy, DeletedMessage, Id, RestoredMessage, RetentionSettings, Uid } from '../types.js';
import { releaseContents, countContents } from './contents.js';
import { joinFlags, splitFlags } from './flags.js';
import { createMailboxRow, requireMailbox } from './mailboxes.js';
import { chargeUser, chargeWithinQuota, checkUids, logExpunged, shrinkMailbox, takeUids, tally } from './messages.js';
import { MAILBOX_SELECT, MESSAGE_SELECT, toMessage, type MailboxRecord, type MessageRecord } from './rows.js';
import type { ReadTx, Tx } from './tx.js';

export const DEFAULT_RETENTION: RetentionSettings = { keepDeleted: false, countQuota: false, mailboxName: 'Recently Deleted' };

export const STORE_DELETION: DeletedBy = { protocol: 'store', actor: '' };

export function checkRetention(r: RetentionSettings): RetentionSettings {
  if (typeof r !== 'object' || r === null || typeof r.keepDeleted !== 'boolean' || typeof r.countQuota !== 'boolean') {
    throw new StoreError('invalid', 'retention settings need keepDeleted and countQuota booleans');
  }
  if (typeof r.mailboxName !== 'string' || r.mailboxName.trim() === '' || r.mailboxName.includes('/') || r.mailboxName.toUpperCase() === 'INBOX') {
    throw new StoreError('invalid', 'the Recently Deleted mailbox name must be a non-empty top-level name other than INBOX');
  }
  return { keepDeleted: r.keepDeleted, countQuota: r.countQuota, mailboxName: r.mailboxName.trim() };
}

function checkBy(by: DeletedBy): DeletedBy {
  if (typeof by !== 'object' || by === null || typeof by.protocol !== 'string' || typeof by.actor !== 'string' || by.protocol === '' || by.protocol.length > 50 || by.actor.length > 200) {
    throw new StoreError('invalid', 'a deletion needs a protocol (1-50 characters) and an actor (up to 200)');
  }
  return by;
}

// Record keywords. RFC 9051 9: a keyword is an atom; anything else becomes "_".
const RECORD_PREFIXES = ['$deletedvia.', '$deletedby.', '$deletedfrom.'];

function atomPart(text: string): string {
  return text.replace(/[^\x21\x23\x24\x26\x27\x2b-\x5b\x5e-\x7a\x7c-\x7e]/g, '_').slice(0, 150) || '_';
}

export function recordKeywords(by: DeletedBy, mailboxName: string): string[] {
  const out = [`$DeletedVia.${atomPart(by.protocol)}`, `$DeletedFrom.${atomPart(mailboxName)}`];
  if (by.actor !== '') out.splice(1, 0, `$DeletedBy.${atomPart(by.actor)}`);
  return out;
}

/** The flags without the record keywords (restore, copy out). */
export function withoutRecord(flags: string[]): string[] {
  return flags.filter((f) => !RECORD_PREFIXES.some((p) => f.toLowerCase().startsWith(p)));
}

/** The user's Recently Deleted mailbox, if it was made. */
export async function findDeletedBox(tx: ReadTx, userId: Id): Promise<MailboxRecord | undefined> {
  return tx.get<MailboxRecord>(`${MAILBOX_SELECT} WHERE b.user_id = ? AND b.recently_deleted = 1`, [userId]);
}

/** The user's Recently Deleted mailbox, made on first use (the caller holds the user lock). */
async function deletedBox(tx: Tx, userId: Id, name: string): Promise<MailboxRecord> {
  const found = await findDeletedBox(tx, userId);
  if (found) return found;
  // A mailbox of the user's own may already have the name: take the next free "name 2", "name 3"…
  let candidate = name;
  for (let i = 2; await tx.get(`SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?`, [userId, candidate]); i++) candidate = `${name} ${i}`;
  const box = await createMailboxRow(tx, userId, candidate, null);
  await tx.exec('UPDATE mailboxes SET recently_deleted = 1 WHERE id = ?', [box.id]);
  return requireMailbox(tx, box.id);
}

/**
 * Moves expunged rows of `box` into Recently Deleted with their record. `leaving`: the
 * mailbox itself is being deleted, so it gets no tombstones or counters.
 */
export async function retainRows(
  tx: Tx, box: MailboxRecord, rows: MessageRecord[], by: DeletedBy, settings: RetentionSettings, keep: number, leaving = false,
): Promise<Uid[]> {
  checkBy(by);
  const rd = await deletedBox(tx, box.user_id, settings.mailboxName);
  const uids = rows.map((r) => r.uid);
  const bytes = rows.reduce((sum, r) => sum + r.size, 0);
  const srcModSeq = leaving ? 0 : await tx.modSeq(box.id);
  const rdModSeq = await tx.modSeq(rd.id);
  const record = recordKeywords(by, box.name);
  // \Deleted was only the means of expunging: a restored message must not go at the next EXPUNGE
  const kept = rows.map((r) => joinFlags([...withoutRecord(splitFlags(r.flags)).filter((f) => f !== '\\Deleted'), ...record]));
  if (!leaving) await shrinkMailbox(tx, box.id, tally(rows));
  const first = await takeUids(tx, rd.id, tally(rows.map((r, i) => ({ flags: kept[i], size: r.size }))));
  const now = Date.now();
  for (const [i, r] of rows.entries()) {
    await tx.exec('UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ?, shared_modseq = NULL, save_date = ?, flags = ? WHERE id = ?', [rd.id, first + i, rdModSeq, now, kept[i], r.id]);
  }
  await tx.exec(
    `INSERT INTO deleted_messages (message_id, user_id, deleted_at, mailbox_id, mailbox_name, protocol, actor, charged)
     SELECT value, ?, ?, ?, ?, ?, ?, ? FROM ${tx.d.list('int')}`,
    [box.user_id, now, box.id, box.name, by.protocol, by.actor, settings.countQuota ? 1 : 0, tx.d.listParam(rows.map((r) => r.id))],
  );
  if (!settings.countQuota) await chargeUser(tx, box.user_id, -bytes, -rows.length);
  if (!leaving) {
    await logExpunged(tx, box.id, srcModSeq, uids, keep);
    tx.touch('expunge', box.user_id, box.id);
  }
  tx.touch('append', rd.user_id, rd.id);
  return uids as Uid[];
}

/** Of the given rows, those still counted against quota (a row outside Recently Deleted always is). */
async function chargedRows<T extends { id: number }>(tx: ReadTx, rows: T[]): Promise<T[]> {
  const free = await tx.query<{ message_id: number }>(
    `SELECT message_id FROM deleted_messages WHERE charged = 0 AND message_id ${tx.d.inList('int')}`,
    [tx.d.listParam(rows.map((r) => r.id))],
  );
  const uncharged = new Set(free.map((f) => Number(f.message_id)));
  return rows.filter((r) => !uncharged.has(Number(r.id)));
}

/** Removes rows for good: tombstones, counters, quota of the counted ones, content references. */
export async function removeRows(tx: Tx, box: MailboxRecord, rows: MessageRecord[], keep: number): Promise<Uid[]> {
  const counted = box.recently_deleted ? await chargedRows(tx, rows) : rows;
  const gone = rows.map((r) => r.uid);
  const modSeq = await tx.modSeq(box.id);
  await tx.exec(`DELETE FROM messages WHERE mailbox_id = ? AND uid ${tx.d.inList('int')}`, [box.id, tx.d.listParam(gone)]);
  await logExpunged(tx, box.id, modSeq, gone, keep);
  await shrinkMailbox(tx, box.id, tally(rows));
  await chargeUser(tx, box.user_id, -counted.reduce((sum, r) => sum + r.size, 0), -counted.length);
  await releaseContents(tx, countContents(rows));
  tx.touch('expunge', box.user_id, box.id);
  return gone as Uid[];
}

/**
 * Moves rows of Recently Deleted (`rd`) back into `dst` (same user): record keywords
 * dropped, quota charged for rows that were not counted ('overquota' when it has no room).
 */
export async function restoreRows(tx: Tx, rd: MailboxRecord, rows: MessageRecord[], dst: MailboxRecord, keep: number): Promise<{ from: Uid; to: Uid }[]> {
  if (dst.user_id !== rd.user_id || dst.recently_deleted) throw new StoreError('invalid', 'a deleted message is restored into another mailbox of the same user');
  const counted = new Set((await chargedRows(tx, rows)).map((r) => r.id));
  const free = rows.filter((r) => !counted.has(r.id));
  if (free.length > 0) await chargeWithinQuota(tx, rd.user_id, free.reduce((sum, r) => sum + r.size, 0), free.length);
  const rdModSeq = await tx.modSeq(rd.id);
  const dstModSeq = await tx.modSeq(dst.id);
  const back = rows.map((r) => joinFlags(withoutRecord(splitFlags(r.flags))));
  await shrinkMailbox(tx, rd.id, tally(rows));
  const first = await takeUids(tx, dst.id, tally(rows.map((r, i) => ({ flags: back[i], size: r.size }))));
  const now = Date.now();
  const mapping = [];
  for (const [i, r] of rows.entries()) {
    await tx.exec('UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ?, shared_modseq = NULL, save_date = ?, flags = ? WHERE id = ?', [dst.id, first + i, dstModSeq, now, back[i], r.id]);
    mapping.push({ from: r.uid as Uid, to: (first + i) as Uid });
  }
  await tx.exec(`DELETE FROM deleted_messages WHERE message_id ${tx.d.inList('int')}`, [tx.d.listParam(rows.map((r) => r.id))]);
  await logExpunged(tx, rd.id, rdModSeq, rows.map((r) => r.uid), keep);
  tx.touch('expunge', rd.user_id, rd.id);
  tx.touch('append', dst.user_id, dst.id);
  return mapping;
}

type DeletedRecord = MessageRecord & { deleted_at: number; from_id: number; from_name: string; protocol: string; actor: string };

const DELETED_SELECT = `${MESSAGE_SELECT.replace('SELECT ', 'SELECT d.deleted_at, d.mailbox_id AS from_id, d.mailbox_name AS from_name, d.protocol, d.actor, ')}
  JOIN deleted_messages d ON d.message_id = m.id`;

export async function listDeleted(tx: ReadTx, userId: Id, since?: Date): Promise<DeletedMessage[]> {
  if (since !== undefined && (!(since instanceof Date) || Number.isNaN(since.getTime()))) throw new StoreError('invalid', 'since is not a valid date');
  const rows = await tx.query<DeletedRecord>(
    `${DELETED_SELECT} WHERE d.user_id = ? AND d.deleted_at >= ? ORDER BY d.deleted_at, m.uid`,
    [userId, userId, since?.getTime() ?? 0],
  );
  return rows.map((r) => ({
    row: toMessage(r, userId),
    deletedAt: new Date(Number(r.deleted_at)),
    fromMailboxId: Number(r.from_id),
    fromMailboxName: r.from_name,
    protocol: r.protocol,
    actor: r.actor,
  }));
}

/** Where a kept message goes back to: the mailbox it left (by id, else by name), else INBOX. */
async function homeOf(tx: Tx, userId: Id, r: DeletedRecord): Promise<MailboxRecord> {
  const byId = await tx.get<MailboxRecord>(`${MAILBOX_SELECT} WHERE b.id = ? AND b.user_id = ? AND b.recently_deleted = 0`, [r.from_id, userId]);
  if (byId) return byId;
  const byName = await tx.get<MailboxRecord>(`${MAILBOX_SELECT} WHERE b.name = ? AND b.user_id = ? AND b.recently_deleted = 0`, [r.from_name, userId]);
  if (byName) return byName;
  const inbox = await tx.get<MailboxRecord>(`${MAILBOX_SELECT} WHERE b.name = 'INBOX' AND b.user_id = ?`, [userId]);
  if (!inbox) throw new StoreError('notfound', `user ${userId} has no INBOX to restore into`);
  return inbox;
}

export async function restoreDeleted(tx: Tx, userId: Id, uids: Uid[] | null, toMailboxId: Id | undefined, keep: number): Promise<RestoredMessage[]> {
  if (uids !== null) checkUids(uids);
  await tx.lockUsers([userId]);
  const rd = await findDeletedBox(tx, userId);
  if (!rd || (uids !== null && uids.length === 0)) return [];
  const to = toMailboxId === undefined ? undefined : await requireMailbox(tx, toMailboxId);
  if (to && (to.user_id !== userId || to.recently_deleted)) throw new StoreError('invalid', 'a deleted message is restored into another mailbox of the same user');
  const rows = uids === null
    ? await tx.query<DeletedRecord>(`${DELETED_SELECT} WHERE m.mailbox_id = ? ORDER BY m.uid`, [0, rd.id])
    : await tx.query<DeletedRecord>(`${DELETED_SELECT} WHERE m.mailbox_id = ? AND m.uid ${tx.d.inList('int')} ORDER BY m.uid`, [0, rd.id, tx.d.listParam(uids)]);
  const groups = new Map<Id, { box: MailboxRecord; rows: DeletedRecord[] }>();
  for (const r of rows) {
    const box = to ?? (await homeOf(tx, userId, r));
    const g = groups.get(box.id) ?? { box, rows: [] };
    g.rows.push(r);
    groups.set(box.id, g);
  }
  const out: RestoredMessage[] = [];
  for (const id of [...groups.keys()].sort((a, b) => a - b)) {
    const g = groups.get(id)!;
    const fresh = await requireMailbox(tx, g.box.id); // counters changed by an earlier group of this call
    for (const m of await restoreRows(tx, await requireMailbox(tx, rd.id), g.rows, fresh, keep)) out.push({ ...m, mailboxId: id });
  }
  return out.sort((a, b) => a.from - b.from);
}

/**
 * Removes the user's kept messages deleted before `before`, at most `limit`. Under the user
 * lock and re-read after it: two nodes purging at once remove each row once.
 */
export async function purgeUser(tx: Tx, userId: Id, before: Date, limit: number, keep: number): Promise<number> {
  await tx.lockUsers([userId]);
  const rd = await findDeletedBox(tx, userId);
  if (!rd) return 0;
  const rows = await tx.query<MessageRecord>(
    `${MESSAGE_SELECT} JOIN deleted_messages d ON d.message_id = m.id WHERE m.mailbox_id = ? AND d.deleted_at < ? ORDER BY m.uid LIMIT ?`,
    [0, rd.id, before.getTime(), limit],
  );
  if (rows.length === 0) return 0;
  return (await removeRows(tx, rd, rows, keep)).length;
}

/** Users with kept messages deleted before `before` (the purge job's work list). */
export async function usersWithDue(tx: ReadTx, before: Date, limit: number): Promise<Id[]> {
  const rows = await tx.query<{ user_id: number }>(
    'SELECT DISTINCT user_id FROM deleted_messages WHERE deleted_at < ? ORDER BY user_id LIMIT ?',
    [before.getTime(), limit],
  );
  return rows.map((r) => Number(r.user_id));
}
