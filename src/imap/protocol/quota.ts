/**
 * QUOTA (RFC 9208): the SETQUOTA resource list, and the QUOTA/QUOTAROOT responses.
 * Resources are STORAGE (in units of 1024 octets) and MESSAGE; limits are number64.
 */
import type { ArgReader } from './arg-reader.js';
import { formatString } from './imap-string.js';

export type QuotaResourceName = 'STORAGE' | 'MESSAGE';

export interface QuotaResource {
  name: QuotaResourceName;
  usage: number;
  limit: number;
}

/** What SETQUOTA asks for: each named resource's new limit; a resource left out loses its limit (RFC 9208 4.1.3). */
export type SetQuotaLimits = Partial<Record<QuotaResourceName, number>>;

/** `SETQUOTA` arguments after the command name: quota root SP "(" [resource SP limit *(SP resource SP limit)] ")". */
export function parseSetQuota(r: ArgReader): { root: string; limits: SetQuotaLimits } {
  const root = r.astring('quota root');
  r.sp('after quota root');
  const limits: SetQuotaLimits = {};
  r.list(
    (x) => {
      const name = x.atom('quota resource').toUpperCase();
      x.sp('after quota resource');
      const limit = x.number64('quota limit');
      if (name !== 'STORAGE' && name !== 'MESSAGE') throw x.error(`Unknown quota resource ${name.slice(0, 30)} (STORAGE and MESSAGE are supported)`);
      if (limits[name] !== undefined) throw x.error(`Quota resource ${name} given twice`);
      limits[name] = limit;
    },
    { allowEmpty: true, what: 'quota resources' },
  );
  r.end();
  return { root, limits };
}

/** `* QUOTA root (STORAGE u l MESSAGE u l)\r\n` (RFC 9208 5.1); the list is never empty. */
export function quotaResponse(root: string, resources: readonly QuotaResource[]): string {
  if (resources.length === 0) throw new Error('a QUOTA response needs at least one resource');
  return `* QUOTA ${formatString(root)} (${resources.map((x) => `${x.name} ${x.usage} ${x.limit}`).join(' ')})\r\n`;
}

/** `* QUOTAROOT mailbox root...\r\n` (RFC 9208 5.2); `mailbox` already formatted for the wire. */
export function quotaRootResponse(wireMailbox: string, roots: readonly string[]): string {
  return `* QUOTAROOT ${wireMailbox}${roots.map((r) => ` ${formatString(r)}`).join('')}\r\n`;
}
