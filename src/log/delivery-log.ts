/**
 * One log line per recipient per delivery attempt, like Postfix's `status=sent|deferred|bounced`
 * lines administrators grep: queue id, from, to, size, relay (`local` or the remote host),
 * result and the server's words. The same call counts `mailroom_messages_total{result}`.
 *
 * Never imports: the store, protocols.
 */
import type { Logger } from 'pino';
import { countMessage } from '../metrics/registry.js';

export type DeliveryResult = 'delivered' | 'deferred' | 'bounced' | 'rejected';

export interface DeliveryLine {
  queueId: string;
  from: string;
  to: string;
  size: number;
  /** `local` for a mailbox here, else the remote host that answered (or null when none did). */
  relay?: string | null;
  result: DeliveryResult;
  /** Enhanced status code, when known (RFC 3463). */
  status?: string | null;
  /** What the receiving side said, or why it failed. */
  detail?: string | null;
}

export function logDelivery(log: Logger, line: DeliveryLine): void {
  countMessage(line.result);
  const fields = { queueId: line.queueId, from: line.from || '<>', to: line.to, size: line.size, relay: line.relay ?? 'none', result: line.result, status: line.status ?? undefined, detail: line.detail ?? undefined };
  if (line.result === 'delivered') log.info(fields, 'delivery');
  else log.warn(fields, 'delivery');
}
