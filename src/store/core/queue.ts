/**
 * The outbound queue: one `queue` row per message (holding one content reference, like
 * a message row does) and one `queue_recipients` row per recipient. Claims are leases
 * (owner + expiry): on PostgreSQL taken with `FOR UPDATE SKIP LOCKED`, so workers on
 * every node poll at once and each due entry goes to exactly one of them; on SQLite the
 * write transaction already excludes every other writer. A worker that dies holds only
 * a lease, which expires, so its entries are claimed again.
 */
import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import type {
  DsnNotify, EnqueueRequest, QueueEntry, QueueParams, QueueRecipient, QueueRecipientResult, QueueRecipientState, QueueReschedule,
} from '../types.js';
import { acquireContent, releaseContents } from './contents.js';
import type { ReadTx, Tx } from './tx.js';

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
  // The null sender is an envelope sender only; a recipient always has an @.
  if (typeof address !== 'string' || address.length > 320 || /[\s<>]/.test(address) || !/.@[^@]+$/.test(address)) {
    throw new StoreError('invalid', `invalid recipient address ${JSON.stringify(String(address).slice(0, 80))}`);
  }
  return address;
}

async function requireEntry(tx: ReadTx, id: string, lock = ''): Promise<void> {
  if (!(await tx.get(`SELECT 1 FROM queue WHERE id = ?${lock}`, [String(id)]))) throw new StoreError('notfound', `no queue entry ${id}`);
}

export async function enqueue(tx: Tx, req: EnqueueRequest, now = new Date()): Promise<QueueEntry> {
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
  const size = await acquireContent(tx, req.content);
  const id = randomBytes(8).toString('hex');
  const due = req.nextAttemptAt ? ms(req.nextAttemptAt, 'nextAttemptAt') : now.getTime();
  await tx.exec(
    'INSERT INTO queue (id, content_id, size, sender, params, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [id, req.content.id, size, req.from, JSON.stringify(req.params ?? {}), now.getTime(), due],
  );
  for (const [i, r] of recipients.entries()) {
    await tx.exec('INSERT INTO queue_recipients (queue_id, position, address, notify, orcpt) VALUES (?, ?, ?, ?, ?)',
      [id, i, r.address, r.notify?.length ? r.notify.join(',') : null, r.orcpt ?? null]);
  }
  return (await getEntry(tx, id))!;
}

export async function getEntry(tx: ReadTx, id: string): Promise<QueueEntry | null> {
  const r = await tx.get<EntryRecord>('SELECT * FROM queue WHERE id = ?', [String(id)]);
  return r ? (await toEntries(tx, [r]))[0] : null;
}

export async function listEntries(tx: ReadTx): Promise<QueueEntry[]> {
  return toEntries(tx, await tx.query<EntryRecord>(`SELECT * FROM queue ORDER BY created_at, id${tx.d.byteOrder}`));
}

export async function claim(tx: Tx, owner: string, now: Date, leaseMs: number, limit: number): Promise<QueueEntry[]> {
  if (typeof owner !== 'string' || owner === '') throw new StoreError('invalid', 'lease owner must be a non-empty string');
  if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0 || !Number.isSafeInteger(limit) || limit <= 0) {
    throw new StoreError('invalid', 'leaseMs and limit must be positive integers');
  }
  const t = ms(now, 'now');
  const rows = await tx.query<EntryRecord>(
    `UPDATE queue SET lease_owner = ?, lease_until = ?
     WHERE id IN (SELECT id FROM queue WHERE next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
                  ORDER BY next_attempt_at, id${tx.d.byteOrder} LIMIT ?${tx.d.skipLocked})
     RETURNING *`,
    [owner, t + leaseMs, t, t, limit],
  );
  rows.sort((x, y) => x.next_attempt_at - y.next_attempt_at || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return toEntries(tx, rows);
}

export async function recordResults(tx: Tx, id: string, results: QueueRecipientResult[], at: Date): Promise<void> {
  await requireEntry(tx, id, tx.d.lock('update'));
  const t = ms(at, 'at');
  for (const r of results) {
    if (!STATES.has(r.state)) throw new StoreError('invalid', `invalid recipient state ${JSON.stringify(r.state)}`);
    await tx.exec(
      `UPDATE queue_recipients SET state = ?, status = ?, last_result = ?, remote_mta = ?, updated_at = ?, attempts = attempts + 1,
         dsn_pending = ?
       WHERE queue_id = ? AND lower(address) = lower(?) AND state = 'pending'`,
      [r.state, r.status ?? null, String(r.result ?? ''), r.remoteMta ?? null, t, r.dsn ? 1 : 0, String(id), String(r.address)],
    );
  }
}

export async function clearDsn(tx: Tx, id: string, addresses: string[]): Promise<void> {
  await requireEntry(tx, id);
  for (const a of addresses) {
    await tx.exec('UPDATE queue_recipients SET dsn_pending = 0 WHERE queue_id = ? AND lower(address) = lower(?)', [String(id), String(a)]);
  }
}

export async function release(tx: Tx, id: string, owner: string, update: QueueReschedule): Promise<boolean> {
  const next = ms(update.nextAttemptAt, 'nextAttemptAt');
  const notified = update.delayNotifiedAt ? ms(update.delayNotifiedAt, 'delayNotifiedAt') : null;
  const { changes } = await tx.exec(
    `UPDATE queue SET lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, attempts = attempts + 1,
       last_error = CASE WHEN ? = 1 THEN ? ELSE last_error END, delay_notified_at = coalesce(?, delay_notified_at)
     WHERE id = ? AND lease_owner = ?`,
    [next, update.lastError !== undefined ? 1 : 0, update.lastError ?? null, notified, String(id), String(owner)],
  );
  return changes > 0;
}

export async function retry(tx: Tx, id: string, at: Date): Promise<boolean> {
  return (await tx.exec('UPDATE queue SET next_attempt_at = ? WHERE id = ?', [ms(at, 'at'), String(id)])).changes > 0;
}

export async function remove(tx: Tx, id: string): Promise<boolean> {
  await tx.exec('DELETE FROM queue_recipients WHERE queue_id = ?', [String(id)]);
  const r = await tx.get<{ content_id: string }>('DELETE FROM queue WHERE id = ? RETURNING content_id', [String(id)]);
  if (!r) return false;
  await releaseContents(tx, new Map([[r.content_id, 1]]));
  return true;
}

/** Entries with their recipients in one query (no N+1). */
async function toEntries(tx: ReadTx, rows: EntryRecord[]): Promise<QueueEntry[]> {
  if (rows.length === 0) return [];
  const recs = await tx.query<RecipientRecord>(
    `SELECT * FROM queue_recipients WHERE queue_id ${tx.d.inList('text')} ORDER BY queue_id, position`,
    [tx.d.listParam(rows.map((r) => r.id))],
  );
  const byEntry = new Map<string, QueueRecipient[]>();
  for (const r of recs) {
    const list = byEntry.get(r.queue_id) ?? [];
    list.push(toRecipient(r));
    byEntry.set(r.queue_id, list);
  }
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
  if (r.dsn_pending) out.dsnPending = true;
  if (r.notify) out.notify = r.notify.split(',') as DsnNotify[];
  if (r.orcpt) out.orcpt = r.orcpt;
  return out;
}
