/**
 * Mailboxes and subscriptions. Names are case-sensitive except INBOX (any case means
 * "INBOX"); the hierarchy delimiter is `/`. UIDVALIDITY comes from a store-wide counter,
 * so a re-created mailbox never repeats an earlier value; so do mailbox ids (`nextMailboxId`).
 */
import { StoreError } from '../errors.js';
import type { Id, Mailbox, SpecialUse } from '../types.js';
import type { Statements } from './db.js';
import { MAILBOX_SELECT, toMailbox, type MailboxRecord } from './rows.js';
import type { Tx } from './tx.js';

const SPECIAL_USES = new Set<string>(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive', '\\All', '\\Flagged']);

/** Canonical mailbox name: "inbox" in any case is "INBOX" (also as a hierarchy prefix); 'invalid' for empty or malformed names. */
export function normalizeMailboxName(name: string): string {
  if (typeof name !== 'string' || name === '' || name.length > 1000) throw new StoreError('invalid', 'mailbox name must be 1 to 1000 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) throw new StoreError('invalid', 'mailbox name contains control characters');
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) throw new StoreError('invalid', `mailbox name ${JSON.stringify(name)} has an empty hierarchy level`);
  if (name.toLowerCase() === 'inbox') return 'INBOX'; // RFC 9051 5.1: INBOX is case-insensitive
  if (name.slice(0, 6).toLowerCase() === 'inbox/') return `INBOX${name.slice(5)}`;
  return name;
}

function checkSpecialUse(specialUse: SpecialUse | null | undefined): SpecialUse | null {
  if (specialUse === null || specialUse === undefined) return null;
  if (!SPECIAL_USES.has(specialUse)) throw new StoreError('invalid', `unknown special-use ${String(specialUse)}`);
  return specialUse;
}

/** Next UIDVALIDITY: max(now in seconds, last + 1), so it also differs after a clock step back. */
export function nextUidValidity(tx: Tx): number {
  const last = tx.s.get(`SELECT value FROM meta WHERE key = 'uidvalidity'`).get() as { value: string } | undefined;
  const v = Math.max(Math.floor(Date.now() / 1000), (last ? Number(last.value) : 0) + 1);
  tx.s.get(`INSERT INTO meta (key, value) VALUES ('uidvalidity', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(String(v));
  return v;
}

/**
 * Next mailbox id: max(counter, highest id in use) + 1, and the counter remembers it.
 * `mailboxes.id` is an INTEGER PRIMARY KEY without AUTOINCREMENT, so SQLite would hand a
 * deleted top id out again; ids must never be reused (MAILBOXID, RFC 8474 4.1, and
 * per-process state keyed by id, e.g. \Recent claims). AUTOINCREMENT would need a rebuild
 * of `mailboxes`, which `messages`, `expunged` and `private_flags` chains reference: with
 * foreign keys on, that cannot be done inside the migration's transaction. A counter in
 * `meta` is the same mechanism as UIDVALIDITY above and needs only a seed (migration 5).
 */
export function nextMailboxId(tx: Tx): number {
  const last = tx.s.get(`SELECT value FROM meta WHERE key = 'mailbox_id'`).get() as { value: string } | undefined;
  const max = (tx.s.get('SELECT max(id) AS m FROM mailboxes').get() as { m: number | null }).m ?? 0;
  const id = Math.max(last ? Number(last.value) : 0, max) + 1;
  tx.s.get(`INSERT INTO meta (key, value) VALUES ('mailbox_id', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(String(id));
  return id;
}

export function mailboxRecord(s: Statements, id: Id): MailboxRecord | undefined {
  return s.get(`${MAILBOX_SELECT} WHERE b.id = ?`).get(id) as MailboxRecord | undefined;
}

/** The mailbox row or 'notfound'. */
export function requireMailbox(s: Statements, id: Id): MailboxRecord {
  const r = mailboxRecord(s, id);
  if (!r) throw new StoreError('notfound', `no mailbox with id ${id}`);
  return r;
}

function byName(s: Statements, userId: Id, name: string): MailboxRecord | undefined {
  return s.get(`${MAILBOX_SELECT} WHERE b.user_id = ? AND b.name = ?`).get(userId, name) as MailboxRecord | undefined;
}

/** Inserts a mailbox (used by addUser and createMailbox). */
export function createMailboxRow(tx: Tx, userId: Id, name: string, specialUse?: SpecialUse | null): Mailbox {
  const n = normalizeMailboxName(name);
  const use = checkSpecialUse(specialUse);
  if (!tx.s.get('SELECT 1 FROM users WHERE id = ?').get(userId)) throw new StoreError('notfound', `no user with id ${userId}`);
  if (byName(tx.s, userId, n)) throw new StoreError('exists', `mailbox ${n} exists`);
  const { id } = tx.s
    .get('INSERT INTO mailboxes (id, user_id, name, special_use, uid_validity) VALUES (?, ?, ?, ?, ?) RETURNING id')
    .get(nextMailboxId(tx), userId, n, use, nextUidValidity(tx)) as { id: number };
  tx.touch('mailbox-created', userId, id);
  return toMailbox(requireMailbox(tx.s, id));
}

export function getMailbox(s: Statements, userId: Id, name: string): Mailbox | null {
  let n: string;
  try {
    n = normalizeMailboxName(name);
  } catch {
    return null; // a name that cannot exist is simply not found
  }
  const r = byName(s, userId, n);
  return r ? toMailbox(r) : null;
}

export function getMailboxById(s: Statements, id: Id): Mailbox | null {
  const r = mailboxRecord(s, id);
  return r ? toMailbox(r) : null;
}

export function listMailboxes(s: Statements, userId: Id): Mailbox[] {
  return (s.get(`${MAILBOX_SELECT} WHERE b.user_id = ? ORDER BY b.name`).all(userId) as MailboxRecord[]).map(toMailbox);
}

/** Renames `from` and its children; subscriptions move along; UIDVALIDITY and UIDs stay. */
export function renameMailbox(tx: Tx, userId: Id, fromName: string, toName: string): void {
  const from = normalizeMailboxName(fromName);
  const to = normalizeMailboxName(toName);
  const box = byName(tx.s, userId, from);
  if (!box) throw new StoreError('notfound', `no mailbox ${from}`);
  if (to === from) throw new StoreError('exists', `mailbox ${to} exists`);
  if (to.startsWith(`${from}/`)) throw new StoreError('invalid', `cannot rename ${from} into its own child ${to}`);
  const prefix = `${from}/`;
  const children = tx.s
    .get('SELECT id, name FROM mailboxes WHERE user_id = ? AND substr(name, 1, ?) = ? ORDER BY name')
    .all(userId, prefix.length, prefix) as { id: number; name: string }[];
  const moves = [{ id: box.id, name: from }, ...children].map((m) => ({ id: m.id, old: m.name, new: to + m.name.slice(from.length) }));
  const moving = new Set(moves.map((m) => m.id));
  for (const m of moves) {
    const clash = byName(tx.s, userId, m.new);
    if (clash && !moving.has(clash.id)) throw new StoreError('exists', `mailbox ${m.new} exists`);
  }
  // Two phases, so a new name may equal an old name of another mailbox in the same move.
  const setName = tx.s.get('UPDATE mailboxes SET name = ? WHERE id = ?');
  for (const m of moves) setName.run(`\u0000rename\u0000${m.id}`, m.id);
  for (const m of moves) setName.run(m.new, m.id);
  const moveSub = tx.s.get('UPDATE OR REPLACE subscriptions SET name = ? WHERE user_id = ? AND name = ?');
  for (const m of moves) {
    moveSub.run(m.new, userId, m.old);
    tx.touch('mailbox-renamed', userId, m.id);
  }
}

/** The mailbox id of `name` or 'notfound'. */
export function requireMailboxByName(s: Statements, userId: Id, name: string): MailboxRecord {
  const n = normalizeMailboxName(name);
  const r = byName(s, userId, n);
  if (!r) throw new StoreError('notfound', `no mailbox ${n}`);
  return r;
}

export function setSubscribed(tx: Tx, userId: Id, name: string, subscribed: boolean): void {
  const n = normalizeMailboxName(name);
  if (!tx.s.get('SELECT 1 FROM users WHERE id = ?').get(userId)) throw new StoreError('notfound', `no user with id ${userId}`);
  if (subscribed) tx.s.get('INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)').run(userId, n);
  else tx.s.get('DELETE FROM subscriptions WHERE user_id = ? AND name = ?').run(userId, n);
}

export function listSubscriptions(s: Statements, userId: Id): string[] {
  return (s.get('SELECT name FROM subscriptions WHERE user_id = ? ORDER BY name').all(userId) as { name: string }[]).map((r) => r.name);
}
