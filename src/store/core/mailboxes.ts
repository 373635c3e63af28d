/**
 * Mailboxes and subscriptions. Names are case-sensitive except INBOX (any case means
 * "INBOX"); the hierarchy delimiter is `/`. UIDVALIDITY comes from one store-wide
 * counter (a locked meta row), so a re-created mailbox never repeats an earlier value,
 * also when several nodes create mailboxes at the same moment. Mailbox ids are never
 * reused either (`nextMailboxId`).
 */
import { StoreError } from '../errors.js';
import type { Id, Mailbox, MailboxByName, SpecialUse } from '../types.js';
import { checkSpecialUse, normalizeMailboxName, validId } from './names.js';
import { MAILBOX_SELECT, toMailbox, type MailboxRecord } from './rows.js';
import type { ReadTx, Tx } from './tx.js';

/** Next UIDVALIDITY: max(now in seconds, last + 1), so it also differs after a clock step back. */
export async function nextUidValidity(tx: Tx): Promise<number> {
  const last = await tx.get<{ value: string }>(`SELECT value FROM meta WHERE key = 'uidvalidity'${tx.d.lock('update')}`);
  const v = Math.max(Math.floor(Date.now() / 1000), Number(last?.value ?? 0) + 1);
  await tx.exec(`INSERT INTO meta (key, value) VALUES ('uidvalidity', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [String(v)]);
  return v;
}

/**
 * The id for a new mailbox on SQLite: max(counter, highest id in use) + 1, and the counter
 * remembers it. `mailboxes.id` there is an INTEGER PRIMARY KEY without AUTOINCREMENT, so
 * SQLite would hand a deleted top id out again; ids must never be reused (MAILBOXID,
 * RFC 8474 4.1, and per-process state keyed by id, e.g. \Recent claims). AUTOINCREMENT
 * would need a rebuild of `mailboxes`, which `messages`, `expunged` and `private_flags`
 * reference: with foreign keys on, that cannot be done inside the migration's transaction.
 * A counter in `meta` (seeded by SQLite migration 5) is the UIDVALIDITY mechanism again.
 * PostgreSQL's SERIAL takes ids from a sequence, which never hands a value out twice:
 * undefined there, and the column default applies.
 */
export async function nextMailboxId(tx: Tx): Promise<number | undefined> {
  if (tx.d.name !== 'sqlite') return undefined;
  const last = await tx.get<{ value: string }>(`SELECT value FROM meta WHERE key = 'mailbox_id'`);
  const max = (await tx.get<{ m: number | null }>('SELECT max(id) AS m FROM mailboxes'))?.m ?? 0;
  const id = Math.max(last ? Number(last.value) : 0, max) + 1;
  await tx.exec(`INSERT INTO meta (key, value) VALUES ('mailbox_id', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [String(id)]);
  return id;
}

export async function mailboxRecord(tx: ReadTx, id: Id): Promise<MailboxRecord | undefined> {
  return validId(id) ? tx.get<MailboxRecord>(`${MAILBOX_SELECT} WHERE b.id = ?`, [id]) : undefined;
}

/** The mailbox row or 'notfound'. */
export async function requireMailbox(tx: ReadTx, id: Id): Promise<MailboxRecord> {
  const r = await mailboxRecord(tx, id);
  if (!r) throw new StoreError('notfound', `no mailbox with id ${id}`);
  return r;
}

/**
 * The mailbox row for a write: locks its user first (see Tx.lockUsers), then re-reads
 * the row, so counters and UIDNEXT seen here are the latest committed ones.
 */
export async function lockMailbox(tx: Tx, id: Id, alsoLockUser?: Id): Promise<MailboxRecord> {
  const first = await requireMailbox(tx, id);
  if (!tx.d.rowLocks) return first;
  await tx.lockUsers(alsoLockUser === undefined ? [first.user_id] : [first.user_id, alsoLockUser]);
  return requireMailbox(tx, id);
}

/**
 * Like lockMailbox for a write that uses only what never changes in a mailbox row (id,
 * user_id, uid_validity) and moves counters with UPDATE … RETURNING: one statement fewer
 * (no re-read after the lock). The caller must treat a missing row at that UPDATE as
 * 'notfound' (the mailbox was deleted while it waited for the lock). The mailbox by id or
 * by owner and name (then no lookup before the transaction either).
 */
export async function lockMailboxIdentity(tx: Tx, ref: Id | MailboxByName): Promise<MailboxRecord> {
  const named = typeof ref === 'object' && ref !== null ? { userId: ref.userId, name: normalizeMailboxName(ref.name) } : undefined;
  const where = named ? 'b.user_id = ? AND b.name = ?' : 'b.id = ?';
  const params = named ? [named.userId, named.name] : [ref];
  const what = named ? `mailbox ${named.name}` : `mailbox with id ${String(ref)}`;
  if (!tx.d.rowLocks || !(named ? validId(named.userId) : validId(ref as Id))) {
    const first = named ? await requireMailboxByName(tx, named.userId, named.name) : await requireMailbox(tx, ref as Id);
    await tx.lockUsers([first.user_id]);
    return first;
  }
  // The row and its user's lock in one statement (a round trip fewer per delivery); the user is
  // locked as lockUsers would, and the row read is as unlocked as before.
  const r = await tx.get<MailboxRecord>(`${MAILBOX_SELECT} JOIN users lu ON lu.id = b.user_id WHERE ${where} FOR UPDATE OF lu`, params);
  if (!r) throw new StoreError('notfound', `no ${what}`);
  tx.lockedByCaller(r.user_id);
  return r;
}

async function byName(tx: ReadTx, userId: Id, name: string): Promise<MailboxRecord | undefined> {
  return validId(userId) ? tx.get<MailboxRecord>(`${MAILBOX_SELECT} WHERE b.user_id = ? AND b.name = ?`, [userId, name]) : undefined;
}

async function requireUserRow(tx: ReadTx, userId: Id): Promise<void> {
  if (!validId(userId) || !(await tx.get('SELECT 1 FROM users WHERE id = ?', [userId]))) throw new StoreError('notfound', `no user with id ${userId}`);
}

/** Inserts a mailbox (used by addUser and createMailbox). */
export async function createMailboxRow(tx: Tx, userId: Id, name: string, specialUse?: SpecialUse | null): Promise<Mailbox> {
  const n = normalizeMailboxName(name);
  const use = checkSpecialUse(specialUse);
  await requireUserRow(tx, userId);
  await tx.lockUsers([userId]);
  if (await byName(tx, userId, n)) throw new StoreError('exists', `mailbox ${n} exists`);
  const id = await nextMailboxId(tx);
  const uidValidity = await nextUidValidity(tx);
  const row =
    id === undefined
      ? await tx.get<{ id: number }>('INSERT INTO mailboxes (user_id, name, special_use, uid_validity) VALUES (?, ?, ?, ?) RETURNING id', [userId, n, use, uidValidity])
      : await tx.get<{ id: number }>('INSERT INTO mailboxes (id, user_id, name, special_use, uid_validity) VALUES (?, ?, ?, ?, ?) RETURNING id', [id, userId, n, use, uidValidity]);
  tx.touch('mailbox-created', userId, row!.id);
  return toMailbox(await requireMailbox(tx, row!.id));
}

export async function getMailbox(tx: ReadTx, userId: Id, name: string): Promise<Mailbox | null> {
  let n: string;
  try {
    n = normalizeMailboxName(name);
  } catch {
    return null; // a name that cannot exist is simply not found
  }
  const r = await byName(tx, userId, n);
  return r ? toMailbox(r) : null;
}

export async function getMailboxById(tx: ReadTx, id: Id): Promise<Mailbox | null> {
  const r = await mailboxRecord(tx, id);
  return r ? toMailbox(r) : null;
}

export async function listMailboxes(tx: ReadTx, userId: Id): Promise<Mailbox[]> {
  if (!validId(userId)) return [];
  return (await tx.query<MailboxRecord>(`${MAILBOX_SELECT} WHERE b.user_id = ? ORDER BY b.name${tx.d.byteOrder}`, [userId])).map(toMailbox);
}

/** Renames `from` and its children; subscriptions move along; UIDVALIDITY and UIDs stay. */
export async function renameMailbox(tx: Tx, userId: Id, fromName: string, toName: string): Promise<void> {
  const from = normalizeMailboxName(fromName);
  const to = normalizeMailboxName(toName);
  if (validId(userId)) await tx.lockUsers([userId]);
  const box = await byName(tx, userId, from);
  if (!box) throw new StoreError('notfound', `no mailbox ${from}`);
  if (to === from) throw new StoreError('exists', `mailbox ${to} exists`);
  if (to.startsWith(`${from}/`)) throw new StoreError('invalid', `cannot rename ${from} into its own child ${to}`);
  const prefix = `${from}/`;
  const children = await tx.query<{ id: number; name: string }>(
    `SELECT id, name FROM mailboxes WHERE user_id = ? AND substr(name, 1, length(CAST(? AS TEXT))) = ? ORDER BY name${tx.d.byteOrder}`,
    [userId, prefix, prefix],
  );
  const moves = [{ id: box.id, name: from }, ...children].map((m) => ({ id: m.id, old: m.name, new: to + m.name.slice(from.length) }));
  const moving = new Set(moves.map((m) => m.id));
  for (const m of moves) {
    const clash = await byName(tx, userId, m.new);
    if (clash && !moving.has(clash.id)) throw new StoreError('exists', `mailbox ${m.new} exists`);
  }
  // Two phases, so a new name may equal an old name of another mailbox in the same move.
  for (const m of moves) await tx.exec('UPDATE mailboxes SET name = ? WHERE id = ?', [`\u0001rename\u0001${m.id}`, m.id]);
  for (const m of moves) await tx.exec('UPDATE mailboxes SET name = ? WHERE id = ?', [m.new, m.id]);
  for (const m of moves) {
    // A subscription already under the new name simply stays.
    if ((await tx.exec('DELETE FROM subscriptions WHERE user_id = ? AND name = ?', [userId, m.old])).changes > 0) {
      await tx.exec('INSERT INTO subscriptions (user_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING', [userId, m.new]);
    }
    tx.touch('mailbox-renamed', userId, m.id);
  }
}

/** The mailbox row of `name` or 'notfound'. */
export async function requireMailboxByName(tx: ReadTx, userId: Id, name: string): Promise<MailboxRecord> {
  const n = normalizeMailboxName(name);
  const r = await byName(tx, userId, n);
  if (!r) throw new StoreError('notfound', `no mailbox ${n}`);
  return r;
}

/** Subscriptions may name mailboxes that do not exist (RFC 9051 6.3.7). */
export async function setSubscribed(tx: Tx, userId: Id, name: string, subscribed: boolean): Promise<void> {
  const n = normalizeMailboxName(name);
  await requireUserRow(tx, userId);
  if (subscribed) await tx.exec('INSERT INTO subscriptions (user_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING', [userId, n]);
  else await tx.exec('DELETE FROM subscriptions WHERE user_id = ? AND name = ?', [userId, n]);
  tx.touch('subscription', userId, 0); // NOTIFY SubscriptionChange, in every process and on every node
}

export async function listSubscriptions(tx: ReadTx, userId: Id): Promise<string[]> {
  if (!validId(userId)) return [];
  return (await tx.query<{ name: string }>(`SELECT name FROM subscriptions WHERE user_id = ? ORDER BY name${tx.d.byteOrder}`, [userId])).map((r) => r.name);
}
