/**
 * Quota warnings (80 % and 95 % of a limit), announced once per crossing: `users.quota_warned`
 * holds the level already announced. claimQuotaWarning raises it atomically and says so to
 * exactly one caller (the one that then delivers the warning), on any node; usage that drops
 * below a threshold, or a limit raised past it, lowers it again (rearmQuotaWarning, run by
 * every charge that frees quota and by setQuota), so the next crossing is announced again.
 */
import type { Id } from '../types.js';
import type { Tx } from './tx.js';

/** The thresholds, in percent of a limit, highest first. */
export const QUOTA_WARNING_LEVELS = [95, 80] as const;

/** SQL: usage at or above `pct` % of a set limit (bytes or messages). Integer arithmetic, BIGINT in PostgreSQL. */
function atLeast(pct: number): string {
  return `((quota_bytes IS NOT NULL AND used_bytes * 100 >= quota_bytes * ${pct}) OR (quota_messages IS NOT NULL AND used_messages * 100 >= quota_messages * ${pct}))`;
}

/** SQL: the level the current usage is at (95, 80 or 0). */
const LEVEL = `(CASE WHEN ${atLeast(95)} THEN 95 WHEN ${atLeast(80)} THEN 80 ELSE 0 END)`;

/** The level just crossed upwards (80 or 95) and not yet announced, now marked announced; null otherwise. */
export async function claimQuotaWarning(tx: Tx, userId: Id): Promise<number | null> {
  const r = await tx.get<{ level: number }>(`UPDATE users SET quota_warned = ${LEVEL} WHERE id = ? AND quota_warned < ${LEVEL} RETURNING quota_warned AS level`, [userId]);
  return r ? Number(r.level) : null;
}

/** Lowers the announced level to where usage is now (after quota was freed or a limit raised). */
export async function rearmQuotaWarning(tx: Tx, userId: Id): Promise<void> {
  await tx.exec(`UPDATE users SET quota_warned = ${LEVEL} WHERE id = ? AND quota_warned > ${LEVEL}`, [userId]);
}
