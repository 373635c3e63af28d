/**
 * Vacation replies (RFC 3834 2, 5.1): at most one automatic reply to the same sender per
 * interval. The claim is one statement, so two deliveries racing for the same sender (two
 * processes, two PostgreSQL nodes) give exactly one reply.
 */
import { StoreError } from '../errors.js';
import type { Id } from '../types.js';
import { validId } from './names.js';
import type { Tx } from './tx.js';

/** True (and the time recorded) when no reply went to `sender` within `everyMs` before `now`. */
export async function claimVacationReply(tx: Tx, userId: Id, sender: string, now: Date, everyMs: number): Promise<boolean> {
  if (!validId(userId)) throw new StoreError('invalid', 'claimVacationReply needs a user id');
  if (!sender || sender.length > 512) throw new StoreError('invalid', 'claimVacationReply needs a sender address');
  const at = now.getTime();
  const { changes } = await tx.exec(
    `INSERT INTO vacation_replies (user_id, sender, replied_at) SELECT id, ?, ? FROM users WHERE id = ?
     ON CONFLICT (user_id, sender) DO UPDATE SET replied_at = excluded.replied_at WHERE vacation_replies.replied_at <= ?`,
    [sender.toLowerCase(), at, userId, at - everyMs],
  );
  return changes > 0;
}

/** Forgets every sender replied to (a new vacation answers everyone again). */
export async function clearVacationReplies(tx: Tx, userId: Id): Promise<void> {
  if (!validId(userId)) throw new StoreError('invalid', 'clearVacationReplies needs a user id');
  await tx.exec('DELETE FROM vacation_replies WHERE user_id = ?', [userId]);
}
