/**
 * The outbound queue on PostgreSQL, with the rules of ../sqlite/queue.ts. Claims use
 * `FOR UPDATE SKIP LOCKED`: queue workers on every node poll at once and each due entry
 * goes to exactly one of them, without waiting on each other's row locks. A node that
 * dies mid-delivery holds only a lease, which expires, so its entries are claimed again.
 */
import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import type {
  DsnNotify, EnqueueRequest, QueueEntry, QueueParams, QueueRecipient, QueueRecipientResult, QueueRecipientState, QueueReschedule,
} from '../types.js';
import type { PgBlobBackend } from './blobs.js';
import { acquireContent, releaseContents } from './contents.js';
import type { PgTx } from './tx.js';

interface EntryRecord {
  id: string;
  content_id: string;
  size: number;
  sender: string;
  params: string;
  created_at: number;
  next_attempt_at: number;
  attempts: number;
  last_error: string | null;
  delay_notified_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
}

interface RecipientRecord {
  queue_id: string;
  address: string;
  notify: string | null;
  orcpt: string | null;
  state: QueueRecipientState;
  attempts: number;
  status: string | null;
  last_result: string | null;
  remote_mta: string | null;
  updated_at: number | null;
  dsn_pending: number;
}

const NOTIFY = new Set<DsnNotify>(['SUCCESS', 'FAILURE', 'DELAY', 'NEVER']);
const STATES = new Set<QueueRecipientState>(['pending', 'delivered', 'failed']);

function ms(d: Date, what: string): number {
  const t = d instanceof Date ? d.getTime() : NaN;
  if (!Number.isFinite(t)) throw new StoreError('invalid', `${what} must be a valid Date`);
  return t;
}

function checkAddress(address: unknown): string {
  if (typeof address !== 'string' || address.length > 320 || /[\s<>]/.test(address) || !/.@[^@]+$/.test(address)) {
    throw new StoreError('invalid', `invalid recipient address ${JSON.stringify(String(address).slice(0, 80))}`);
  }
  return address;
}

export async function enqueue(tx: PgTx, blobs: PgBlobBackend, req: EnqueueRequest, now = new Date()): Promise<QueueEntry> {
  if (typeof req.from !== 'string' || /[\s<>]/.test(req.from)) throw new StoreError('invalid', 'invalid envelope sender');
  if (!Array.isArray(req.recipients) || req.recipients.length === 0) throw new StoreError('invalid', 'a queued message needs at least one recipient');
  const seen = new Set<string>();
  const recipients = req.recipients.filter((r) => {
    const key = checkAddress(r.address).toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    for (const n of r.notify ?? []) if (!NOTIFY.has(n)) throw new StoreError('invalid', `invalid NOTIFY value ${JSON.stringify(n)}`);
    return true;
  });
  const size = await acquireContent(tx, blobs, req.content);
  const id = randomBytes(8).toString('hex');
  const due = req.nextAttemptAt ? ms(req.nextAttemptAt, 'nextAttemptAt') : now.getTime();
  await tx.run(
    'INSERT INTO queue (id, content_id, size, sender, params, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [id, req.content.id, size, req.from, JSON.stringify(req.params ?? {}), now.getTime(), due],
  );
  for (const [i, r] of recipients.entries()) {
    await tx.run('INSERT INTO queue_recipients (queue_id, position, address, notify, orcpt) VALUES ($1, $2, $3, $4, $5)',
      [id, i, r.address, r.notify?.length ? r.notify.join(',') : null, r.orcpt ?? null]);
  }
  return (await getEntry(tx, id))!;
}

export async function getEntry(tx: PgTx, id: string): Promise<QueueEntry | null> {
  const r = await tx.one<EntryRecord>('SELECT * FROM queue WHERE id = $1', [String(id)]);
  return r ? (await toEntries(tx, [r]))[0] : null;
}

export async function listEntries(tx: PgTx): Promise<QueueEntry[]> {
  return toEntries(tx, await tx.rows<EntryRecord>('SELECT * FROM queue ORDER BY created_at, id COLLATE "C"'));
}

export async function claim(tx: PgTx, owner: string, now: Date, leaseMs: number, limit: number): Promise<QueueEntry[]> {
  if (typeof owner !== 'string' || owner === '') throw new StoreError('invalid', 'lease owner must be a non-empty string');
  if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0 || !Number.isSafeInteger(limit) || limit <= 0) {
    throw new StoreError('invalid', 'leaseMs and limit must be positive integers');
  }
  const t = ms(now, 'now');
  const rows = await tx.rows<EntryRecord>(
    `UPDATE queue SET lease_owner = $1, lease_until = $2 + $3
     WHERE id IN (SELECT id FROM queue WHERE next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
                  ORDER BY next_attempt_at, id COLLATE "C" LIMIT $4 FOR UPDATE SKIP LOCKED)
     RETURNING *`,
    [owner, t, leaseMs, limit],
  );
  rows.sort((x, y) => x.next_attempt_at - y.next_attempt_at || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return toEntries(tx, rows);
}

export async function recordResults(tx: PgTx, id: string, results: QueueRecipientResult[], at: Date): Promise<void> {
  if (!(await tx.one('SELECT 1 FROM queue WHERE id = $1 FOR UPDATE', [String(id)]))) throw new StoreError('notfound', `no queue entry ${id}`);
  const t = ms(at, 'at');
  for (const r of results) {
    if (!STATES.has(r.state)) throw new StoreError('invalid', `invalid recipient state ${JSON.stringify(r.state)}`);
    await tx.run(
      `UPDATE queue_recipients SET state = $1, status = $2, last_result = $3, remote_mta = $4, updated_at = $5, attempts = attempts + 1,
         dsn_pending = $8
       WHERE queue_id = $6 AND lower(address) = lower($7) AND state = 'pending'`,
      [r.state, r.status ?? null, String(r.result ?? ''), r.remoteMta ?? null, t, id, String(r.address), r.dsn ? 1 : 0],
    );
  }
}

export async function clearDsn(tx: PgTx, id: string, addresses: string[]): Promise<void> {
  if (!(await tx.one('SELECT 1 FROM queue WHERE id = $1', [String(id)]))) throw new StoreError('notfound', `no queue entry ${id}`);
  for (const a of addresses) {
    await tx.run('UPDATE queue_recipients SET dsn_pending = 0 WHERE queue_id = $1 AND lower(address) = lower($2)', [String(id), String(a)]);
  }
}

export async function release(tx: PgTx, id: string, owner: string, update: QueueReschedule): Promise<boolean> {
  const next = ms(update.nextAttemptAt, 'nextAttemptAt');
  const notified = update.delayNotifiedAt ? ms(update.delayNotifiedAt, 'delayNotifiedAt') : null;
  const n = await tx.run(
    `UPDATE queue SET lease_owner = NULL, lease_until = NULL, next_attempt_at = $1, attempts = attempts + 1,
       last_error = CASE WHEN $2 THEN $3 ELSE last_error END, delay_notified_at = coalesce($4, delay_notified_at)
     WHERE id = $5 AND lease_owner = $6`,
    [next, update.lastError !== undefined, update.lastError ?? null, notified, String(id), String(owner)],
  );
  return n > 0;
}

export async function retry(tx: PgTx, id: string, at: Date): Promise<boolean> {
  return (await tx.run('UPDATE queue SET next_attempt_at = $1 WHERE id = $2', [ms(at, 'at'), String(id)])) > 0;
}

export async function remove(tx: PgTx, blobs: PgBlobBackend, id: string): Promise<boolean> {
  await tx.run('DELETE FROM queue_recipients WHERE queue_id = $1', [String(id)]);
  const r = await tx.one<{ content_id: string }>('DELETE FROM queue WHERE id = $1 RETURNING content_id', [String(id)]);
  if (!r) return false;
  await releaseContents(tx, blobs, new Map([[r.content_id, 1]]));
  return true;
}

/** Entries with their recipients in one query (no N+1). */
async function toEntries(tx: PgTx, rows: EntryRecord[]): Promise<QueueEntry[]> {
  if (rows.length === 0) return [];
  const recs = await tx.rows<RecipientRecord>('SELECT * FROM queue_recipients WHERE queue_id = ANY($1::text[]) ORDER BY queue_id, position', [rows.map((r) => r.id)]);
  const byEntry = new Map<string, QueueRecipient[]>();
  for (const r of recs) byEntry.set(r.queue_id, [...(byEntry.get(r.queue_id) ?? []), toRecipient(r)]);
  return rows.map((r) => ({
    id: r.id,
    contentId: r.content_id,
    size: r.size,
    from: r.sender,
    params: JSON.parse(r.params) as QueueParams,
    recipients: byEntry.get(r.id) ?? [],
    createdAt: new Date(r.created_at),
    nextAttemptAt: new Date(r.next_attempt_at),
    attempts: r.attempts,
    lastError: r.last_error,
    delayNotifiedAt: r.delay_notified_at === null ? null : new Date(r.delay_notified_at),
    lease: r.lease_owner !== null && r.lease_until !== null ? { owner: r.lease_owner, until: new Date(r.lease_until) } : null,
  }));
}

function toRecipient(r: RecipientRecord): QueueRecipient {
  const out: QueueRecipient = {
    address: r.address,
    state: r.state,
    attempts: r.attempts,
    status: r.status,
    lastResult: r.last_result,
    remoteMta: r.remote_mta,
    updatedAt: r.updated_at === null ? null : new Date(r.updated_at),
  };
  if (r.notify) out.notify = r.notify.split(',') as DsnNotify[];
  if (r.orcpt) out.orcpt = r.orcpt;
  if (r.dsn_pending) out.dsnPending = true;
  return out;
}
