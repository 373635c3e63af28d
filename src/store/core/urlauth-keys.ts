/**
 * URLAUTH mailbox access keys (RFC 4467 2.2): one unpredictable key per user per mailbox,
 * made on first use (GENURLAUTH needs no RESETKEY first, RFC 4467 7) and replaced or
 * dropped by RESETKEY, which revokes every URL signed with the old key. Keys are keyed by
 * mailbox id, so a mailbox deleted and created again under the same name gets a new one
 * (its old URLs stay dead); they go with the mailbox (deleteMailboxRow) and the user.
 *
 * Keys never leave the store except to the code that signs and checks URLs.
 */
import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import type { Id } from '../types.js';
import { requireMailbox } from './mailboxes.js';
import { validId } from './names.js';
import type { ReadTx, Tx } from './tx.js';

/** 256 bits: RFC 4467 2.2 asks for at least 128 bits of entropy. */
export const ACCESS_KEY_BYTES = 32;

async function ownMailbox(tx: ReadTx, userId: Id, mailboxId: Id): Promise<void> {
  if (!validId(userId) || !validId(mailboxId)) throw new StoreError('invalid', 'URLAUTH keys need a user id and a mailbox id');
  const box = await requireMailbox(tx, mailboxId);
  if (Number(box.user_id) !== userId) throw new StoreError('notfound', `no mailbox ${mailboxId}`);
}

/** The user's key for the mailbox, or null when none was made (or it was reset away). */
export async function getUrlAuthKey(tx: ReadTx, userId: Id, mailboxId: Id): Promise<Buffer | null> {
  if (!validId(userId) || !validId(mailboxId)) return null;
  const row = await tx.get<{ access_key: Buffer }>('SELECT access_key FROM urlauth_keys WHERE user_id = ? AND mailbox_id = ?', [userId, mailboxId]);
  return row ? Buffer.from(row.access_key) : null;
}

/** The user's key for the mailbox, made now when there is none. 'notfound' for a mailbox not the user's. */
export async function ensureUrlAuthKey(tx: Tx, userId: Id, mailboxId: Id): Promise<Buffer> {
  await ownMailbox(tx, userId, mailboxId);
  // Two sessions asking at once keep the first key: ON CONFLICT leaves it, both read it back.
  await tx.exec('INSERT INTO urlauth_keys (user_id, mailbox_id, access_key) VALUES (?, ?, ?) ON CONFLICT (user_id, mailbox_id) DO NOTHING', [
    userId, mailboxId, randomBytes(ACCESS_KEY_BYTES),
  ]);
  const key = await getUrlAuthKey(tx, userId, mailboxId);
  if (!key) throw new StoreError('conflict', 'URLAUTH key vanished after insert');
  return key;
}

/**
 * RESETKEY (RFC 4467 7): a new key for one mailbox (replacing the old one), or with
 * `mailboxId` null every key of the user removed. 'notfound' for a mailbox not the user's.
 */
export async function resetUrlAuthKeys(tx: Tx, userId: Id, mailboxId: Id | null): Promise<void> {
  if (mailboxId === null) {
    if (!validId(userId)) throw new StoreError('invalid', 'URLAUTH keys need a user id');
    await tx.exec('DELETE FROM urlauth_keys WHERE user_id = ?', [userId]);
    return;
  }
  await ownMailbox(tx, userId, mailboxId);
  await tx.exec(
    'INSERT INTO urlauth_keys (user_id, mailbox_id, access_key) VALUES (?, ?, ?) ON CONFLICT (user_id, mailbox_id) DO UPDATE SET access_key = excluded.access_key',
    [userId, mailboxId, randomBytes(ACCESS_KEY_BYTES)],
  );
}
