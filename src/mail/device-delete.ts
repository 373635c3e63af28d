/**
 * What "delete" means for one device (device setting `delete=`): `everywhere` expunges
 * (Recently Deleted keeps it), `device` hides the messages from that device only (others
 * and members keep them, \Deleted is cleared so nobody else expunges them by accident),
 * `trash` moves them to the account's Trash for everyone. One place for IMAP and POP3.
 *
 * Never imports: protocol code, SQL.
 */
import type { DeviceDeleteMode } from '../auth/device-limits.js';
import type { DeletedBy, Id, MailStore, Mailbox, Uid } from '../store/types.js';

export interface DeleteRequest {
  mode: DeviceDeleteMode;
  deviceId: Id | null;
  userId: Id;
  mailbox: Pick<Mailbox, 'id' | 'specialUse' | 'recentlyDeleted'>;
  uids: Uid[];
  by: DeletedBy;
  /** The messages carry \Deleted (IMAP): cleared where they stay (device) or land (trash). */
  clearDeleted: boolean;
}

/** Removes the messages from the device's sight; returns the UIDs gone from it. */
export async function deleteForDevice(store: MailStore, r: DeleteRequest): Promise<Uid[]> {
  if (r.uids.length === 0) return [];
  if (r.mode === 'device' && r.deviceId !== null) {
    await store.hideFromDevice(r.deviceId, r.mailbox.id, r.uids);
    if (r.clearDeleted) await store.updateFlags({ mailboxId: r.mailbox.id, uids: r.uids, op: 'remove', flags: ['\\Deleted'], viewerId: r.userId });
    return r.uids;
  }
  if (r.mode === 'trash' && r.mailbox.specialUse !== '\\Trash' && !r.mailbox.recentlyDeleted) {
    const trash = (await store.listMailboxes(r.userId)).find((b) => b.specialUse === '\\Trash');
    if (trash) {
      const moved = await store.moveMessages(r.mailbox.id, r.uids, trash.id);
      const landed = moved.mapping.map((m) => m.to);
      if (r.clearDeleted && landed.length > 0) await store.updateFlags({ mailboxId: trash.id, uids: landed, op: 'remove', flags: ['\\Deleted'], viewerId: r.userId });
      return moved.mapping.map((m) => m.from);
    }
  }
  return store.expunge(r.mailbox.id, r.uids, r.by);
}
