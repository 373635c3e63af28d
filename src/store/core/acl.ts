/**
 * Mailbox sharing between accounts (RFC 4314 access control lists): one `acl` row per
 * (mailbox, grantee) with the rights granted, the grantee a user id or 0 for `anyone`.
 * The owner of a mailbox always holds every right and has no row; a user's rights on
 * another user's mailbox are the union of the rows naming him and `anyone`.
 *
 * Rows are keyed by mailbox id, so they stay with a renamed mailbox and go with a deleted
 * one (deleteMailboxRow); deleting a user removes the rows granting to him (users.ts).
 * Rights are stored canonical: each letter once, in the order of ALL_RIGHTS.
 */
import { StoreError } from '../errors.js';
import { ACL_ANYONE, ALL_RIGHTS, type AclEntry, type AclChange, type Id, type SharedMailbox } from '../types.js';
import { requireMailbox } from './mailboxes.js';
import { parseAddress, validId } from './names.js';
import type { ReadTx, Tx } from './tx.js';

/** The grantee id of `anyone` (user ids start at 1). */
const ANYONE = 0;

/** Rights in canonical order; 'invalid' for a letter that is no right. */
export function canonicalRights(rights: string): string {
  if (typeof rights !== 'string') throw new StoreError('invalid', 'rights must be a string');
  for (const c of rights) if (!ALL_RIGHTS.includes(c)) throw new StoreError('invalid', `unknown right ${JSON.stringify(c)}`);
  return [...ALL_RIGHTS].filter((c) => rights.includes(c)).join('');
}

interface AclRecord {
  mailbox_id: number;
  owner_id: number;
  grantee_id: number;
  rights: string;
  address: string | null;
}

const ACL_SELECT = 'SELECT a.mailbox_id, a.owner_id, a.grantee_id, a.rights, u.address FROM acl a LEFT JOIN users u ON u.id = a.grantee_id';

function toEntry(r: AclRecord): AclEntry {
  const grantee = Number(r.grantee_id);
  return { mailboxId: Number(r.mailbox_id), ownerId: Number(r.owner_id), grantee: grantee === ANYONE ? ACL_ANYONE : r.address!, granteeId: grantee === ANYONE ? null : grantee, rights: r.rights };
}

/** The grantee id of an identifier: 0 for `anyone`, else the user with that address ('notfound' without one). */
async function granteeId(tx: ReadTx, identifier: string): Promise<number> {
  if (identifier === ACL_ANYONE) return ANYONE;
  const key = parseAddress(identifier).key;
  const u = await tx.get<{ id: number }>('SELECT id FROM users WHERE address_key = ?', [key]);
  if (!u) throw new StoreError('notfound', `no user ${identifier.slice(0, 80)}`);
  return Number(u.id);
}

/** The entries of a mailbox (its owner not among them: he has no row), `anyone` first, then by address. */
export async function getAcl(tx: ReadTx, mailboxId: Id): Promise<AclEntry[]> {
  await requireMailbox(tx, mailboxId);
  const rows = await tx.query<AclRecord>(`${ACL_SELECT} WHERE a.mailbox_id = ? ORDER BY a.grantee_id`, [mailboxId]);
  return rows.map(toEntry).sort((a, b) => (a.granteeId ?? 0) - (b.granteeId ?? 0));
}

/**
 * Changes one grantee's rights on a mailbox (`set` replaces, `add`/`remove` modify) and
 * returns them; an entry left without rights is removed. 'invalid' for the owner as grantee
 * (he always holds every right) or an unknown right; 'notfound' for an unknown mailbox or user.
 */
export async function setAcl(tx: Tx, change: AclChange): Promise<string> {
  const box = await requireMailbox(tx, change.mailboxId);
  const owner = Number(box.user_id);
  await tx.lockUsers([owner]);
  const grantee = await granteeId(tx, change.identifier);
  if (grantee === owner) throw new StoreError('invalid', 'the owner of a mailbox always has every right');
  const given = canonicalRights(change.rights);
  const row = await tx.get<{ rights: string }>('SELECT rights FROM acl WHERE mailbox_id = ? AND grantee_id = ?', [box.id, grantee]);
  const now = row?.rights ?? '';
  const next = change.mode === 'set' ? given : change.mode === 'add' ? canonicalRights(now + given) : [...now].filter((c) => !given.includes(c)).join('');
  if (next === '') await tx.exec('DELETE FROM acl WHERE mailbox_id = ? AND grantee_id = ?', [box.id, grantee]);
  else if (row) await tx.exec('UPDATE acl SET rights = ? WHERE mailbox_id = ? AND grantee_id = ?', [next, box.id, grantee]);
  else await tx.exec('INSERT INTO acl (mailbox_id, owner_id, grantee_id, rights) VALUES (?, ?, ?, ?)', [box.id, owner, grantee, next]);
  return next;
}

/** A user's rights on a mailbox: every right for its owner, else the union of his entry and `anyone`'s ('' for none). */
export async function rightsOn(tx: ReadTx, mailboxId: Id, userId: Id): Promise<string> {
  if (!validId(userId)) throw new StoreError('invalid', 'rightsOn needs a user id');
  const box = await requireMailbox(tx, mailboxId);
  if (Number(box.user_id) === userId) return ALL_RIGHTS;
  const rows = await tx.query<{ rights: string }>('SELECT rights FROM acl WHERE mailbox_id = ? AND grantee_id IN (?, ?)', [mailboxId, userId, ANYONE]);
  return canonicalRights(rows.map((r) => r.rights).join(''));
}

/**
 * Other users' mailboxes the user has an entry on, or `anyone` has one on, with his rights
 * (the union) and whether an entry names him; ordered by owner address, then mailbox name.
 */
export async function sharedWith(tx: ReadTx, userId: Id): Promise<SharedMailbox[]> {
  if (!validId(userId)) throw new StoreError('invalid', 'sharedWith needs a user id');
  const rows = await tx.query<{ mailbox_id: number; name: string; owner_id: number; owner: string; grantee_id: number; rights: string }>(
    `SELECT a.mailbox_id, b.name, a.owner_id, u.address AS owner, a.grantee_id, a.rights
     FROM acl a JOIN mailboxes b ON b.id = a.mailbox_id JOIN users u ON u.id = a.owner_id
     WHERE a.grantee_id IN (?, ?) AND a.owner_id <> ? ORDER BY a.mailbox_id`,
    [userId, ANYONE, userId],
  );
  const byBox = new Map<number, SharedMailbox>();
  for (const r of rows) {
    const id = Number(r.mailbox_id);
    const seen = byBox.get(id) ?? { mailboxId: id, name: r.name, ownerId: Number(r.owner_id), owner: r.owner, rights: '', personal: false };
    seen.rights = canonicalRights(seen.rights + r.rights);
    if (Number(r.grantee_id) === userId) seen.personal = true;
    byBox.set(id, seen);
  }
  return [...byBox.values()].sort((a, b) => (a.owner === b.owner ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.owner < b.owner ? -1 : 1));
}

/** Removes the entries naming a user (his account is being deleted). */
export async function deleteGrantsTo(tx: Tx, userId: Id): Promise<void> {
  await tx.exec('DELETE FROM acl WHERE grantee_id = ?', [userId]);
}
