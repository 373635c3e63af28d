/**
 * Mailboxes and subscriptions on PostgreSQL, with the rules of ../sqlite/mailboxes.ts
 * (whose pure name rules it reuses). UIDVALIDITY comes from one locked meta row, so
 * nodes creating mailboxes at the same moment still never repeat a value.
 */
import { StoreError } from '../errors.js';
import { normalizeMailboxName } from '../sqlite/mailboxes.js';
import { toMailbox, type MailboxRecord } from '../sqlite/rows.js';
import type { Id, Mailbox, SpecialUse } from '../types.js';
import type { PgTx } from './tx.js';

const SPECIAL_USES = new Set<string>(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive', '\\All', '\\Flagged']);
const MAX_INT = 2 ** 31 - 1;

const MAILBOX_SELECT = `
  SELECT b.*, (EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = b.user_id AND s.name = b.name))::int AS subscribed
  FROM mailboxes b`;

function checkSpecialUse(specialUse: SpecialUse | null | undefined): SpecialUse | null {
  if (specialUse === null || specialUse === undefined) return null;
  if (!SPECIAL_USES.has(specialUse)) throw new StoreError('invalid', `unknown special-use ${String(specialUse)}`);
  return specialUse;
}

const validId = (id: Id): boolean => Number.isSafeInteger(id) && id > 0 && id <= MAX_INT;

/** Next UIDVALIDITY: max(now in seconds, last + 1), under the meta row lock. */
export async function nextUidValidity(tx: PgTx): Promise<number> {
  const last = await tx.one<{ value: string }>(`SELECT value FROM meta WHERE key = 'uidvalidity' FOR UPDATE`);
  const v = Math.max(Math.floor(Date.now() / 1000), Number(last?.value ?? 0) + 1);
  await tx.run(`INSERT INTO meta (key, value) VALUES ('uidvalidity', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [String(v)]);
  return v;
}

export async function mailboxRecord(tx: PgTx, id: Id): Promise<MailboxRecord | undefined> {
  return validId(id) ? tx.one<MailboxRecord>(`${MAILBOX_SELECT} WHERE b.id = $1`, [id]) : undefined;
}

/** The mailbox row or 'notfound'. */
export async function requireMailbox(tx: PgTx, id: Id): Promise<MailboxRecord> {
  const r = await mailboxRecord(tx, id);
  if (!r) throw new StoreError('notfound', `no mailbox with id ${id}`);
  return r;
}

/**
 * The mailbox row for a write: locks its user first (see PgTx.lockUsers), then re-reads
 * the row, so counters and UIDNEXT seen here are the latest committed ones.
 */
export async function lockMailbox(tx: PgTx, id: Id, alsoLockUser?: Id): Promise<MailboxRecord> {
  const first = await requireMailbox(tx, id);
  await tx.lockUsers(alsoLockUser === undefined ? [first.user_id] : [first.user_id, alsoLockUser]);
  return requireMailbox(tx, id);
}

async function byName(tx: PgTx, userId: Id, name: string): Promise<MailboxRecord | undefined> {
  return tx.one<MailboxRecord>(`${MAILBOX_SELECT} WHERE b.user_id = $1 AND b.name = $2`, [userId, name]);
}

async function requireUserRow(tx: PgTx, userId: Id): Promise<void> {
  if (!validId(userId) || !(await tx.one('SELECT 1 FROM users WHERE id = $1', [userId]))) throw new StoreError('notfound', `no user with id ${userId}`);
}

export async function createMailboxRow(tx: PgTx, userId: Id, name: string, specialUse?: SpecialUse | null): Promise<Mailbox> {
  const n = normalizeMailboxName(name);
  const use = checkSpecialUse(specialUse);
  await requireUserRow(tx, userId);
  await tx.lockUsers([userId]);
  if (await byName(tx, userId, n)) throw new StoreError('exists', `mailbox ${n} exists`);
  const row = await tx.one<{ id: number }>(
    'INSERT INTO mailboxes (user_id, name, special_use, uid_validity) VALUES ($1, $2, $3, $4) RETURNING id',
    [userId, n, use, await nextUidValidity(tx)],
  );
  tx.touch('mailbox-created', userId, row!.id);
  return toMailbox(await requireMailbox(tx, row!.id));
}

export async function getMailbox(tx: PgTx, userId: Id, name: string): Promise<Mailbox | null> {
  let n: string;
  try {
    n = normalizeMailboxName(name);
  } catch {
    return null;
  }
  if (!validId(userId)) return null;
  const r = await byName(tx, userId, n);
  return r ? toMailbox(r) : null;
}

export async function getMailboxById(tx: PgTx, id: Id): Promise<Mailbox | null> {
  const r = await mailboxRecord(tx, id);
  return r ? toMailbox(r) : null;
}

export async function listMailboxes(tx: PgTx, userId: Id): Promise<Mailbox[]> {
  if (!validId(userId)) return [];
  return (await tx.rows<MailboxRecord>(`${MAILBOX_SELECT} WHERE b.user_id = $1 ORDER BY b.name COLLATE "C"`, [userId])).map(toMailbox);
}

export async function renameMailbox(tx: PgTx, userId: Id, fromName: string, toName: string): Promise<void> {
  const from = normalizeMailboxName(fromName);
  const to = normalizeMailboxName(toName);
  if (validId(userId)) await tx.lockUsers([userId]);
  const box = validId(userId) ? await byName(tx, userId, from) : undefined;
  if (!box) throw new StoreError('notfound', `no mailbox ${from}`);
  if (to === from) throw new StoreError('exists', `mailbox ${to} exists`);
  if (to.startsWith(`${from}/`)) throw new StoreError('invalid', `cannot rename ${from} into its own child ${to}`);
  const children = await tx.rows<{ id: number; name: string }>(
    'SELECT id, name FROM mailboxes WHERE user_id = $1 AND starts_with(name, $2) ORDER BY name COLLATE "C"',
    [userId, `${from}/`],
  );
  const moves = [{ id: box.id, name: from }, ...children].map((m) => ({ id: m.id, old: m.name, new: to + m.name.slice(from.length) }));
  const moving = new Set(moves.map((m) => m.id));
  for (const m of moves) {
    const clash = await byName(tx, userId, m.new);
    if (clash && !moving.has(clash.id)) throw new StoreError('exists', `mailbox ${m.new} exists`);
  }
  // Two phases, so a new name may equal an old name of another mailbox in the same move.
  for (const m of moves) await tx.run('UPDATE mailboxes SET name = $1 WHERE id = $2', [`\u0001rename\u0001${m.id}`, m.id]);
  for (const m of moves) await tx.run('UPDATE mailboxes SET name = $1 WHERE id = $2', [m.new, m.id]);
  for (const m of moves) {
    // SQLite's UPDATE OR REPLACE: a subscription already under the new name simply stays.
    if (await tx.run('DELETE FROM subscriptions WHERE user_id = $1 AND name = $2', [userId, m.old]) > 0) {
      await tx.run('INSERT INTO subscriptions (user_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [userId, m.new]);
    }
    tx.touch('mailbox-renamed', userId, m.id);
  }
}

export async function requireMailboxByName(tx: PgTx, userId: Id, name: string): Promise<MailboxRecord> {
  const n = normalizeMailboxName(name);
  const r = validId(userId) ? await byName(tx, userId, n) : undefined;
  if (!r) throw new StoreError('notfound', `no mailbox ${n}`);
  return r;
}

export async function setSubscribed(tx: PgTx, userId: Id, name: string, subscribed: boolean): Promise<void> {
  const n = normalizeMailboxName(name);
  await requireUserRow(tx, userId);
  if (subscribed) await tx.run('INSERT INTO subscriptions (user_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [userId, n]);
  else await tx.run('DELETE FROM subscriptions WHERE user_id = $1 AND name = $2', [userId, n]);
}

export async function listSubscriptions(tx: PgTx, userId: Id): Promise<string[]> {
  if (!validId(userId)) return [];
  return (await tx.rows<{ name: string }>('SELECT name FROM subscriptions WHERE user_id = $1 ORDER BY name COLLATE "C"', [userId])).map((r) => r.name);
}
