/**
 * Messages one device no longer sees (device setting `delete=device`): what that device
 * expunges or POP3-deletes is recorded here instead of being removed, so other devices and
 * members keep it. Rows reference the message and the device, so an expunge elsewhere or a
 * revoked device takes its entries with it.
 */
import { StoreError } from '../errors.js';
import type { Id, Uid } from '../types.js';
import { checkUids } from './messages.js';
import { validId } from './names.js';
import type { ReadTx, Tx } from './tx.js';

export async function hideFromDevice(tx: Tx, deviceId: Id, mailboxId: Id, uids: Uid[]): Promise<void> {
  if (!validId(deviceId) || !validId(mailboxId)) throw new StoreError('invalid', 'hideFromDevice needs a device id and a mailbox id');
  if (checkUids(uids).length === 0) return;
  await tx.exec(
    `INSERT INTO device_hidden (device_id, message_id)
       SELECT d.id, m.id FROM devices d, messages m
       WHERE d.id = ? AND m.mailbox_id = ? AND m.uid ${tx.d.inList('int')}
     ON CONFLICT DO NOTHING`,
    [deviceId, mailboxId, tx.d.listParam(uids)],
  );
}

/** UIDs of the mailbox hidden from the device, ascending. */
export async function deviceHiddenUids(tx: ReadTx, deviceId: Id, mailboxId: Id): Promise<Uid[]> {
  if (!validId(deviceId) || !validId(mailboxId)) throw new StoreError('invalid', 'deviceHiddenUids needs a device id and a mailbox id');
  const rows = await tx.query<{ uid: number }>(
    'SELECT m.uid FROM device_hidden h JOIN messages m ON m.id = h.message_id WHERE h.device_id = ? AND m.mailbox_id = ? ORDER BY m.uid',
    [deviceId, mailboxId],
  );
  return rows.map((r) => Number(r.uid) as Uid);
}
