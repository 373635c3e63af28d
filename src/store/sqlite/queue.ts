/**
 * The outbound queue in SQLite: one `queue` row per message (holding one content
 * reference, like a message row does) and one `queue_recipients` row per recipient.
 * Claims are leases (owner + expiry) taken inside an IMMEDIATE transaction, so two
 * processes never hold one entry at once; PostgreSQL does the same with SKIP LOCKED.
 */
import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import type {
  DsnNotify, EnqueueRequest, QueueEntry, QueueParams, QueueRecipient, QueueRecipientResult, QueueRecipientState, QueueReschedule,
} from '../types.js';
import { acquireContent, releaseContents } from './contents.js';
import type { Statements } from './db.js';
import type { Tx } from './tx.js';

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

export function enqueue(tx: Tx, req: EnqueueRequest, now = new Date()): QueueEntry {
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
  const size = acquireContent(tx, req.content);
  const id = randomBytes(8).toString('hex');
  const due = req.nextAttemptAt ? ms(req.nextAttemptAt, 'nextAttemptAt') : now.getTime();
  tx.s
    .get('INSERT INTO queue (id, content_id, size, sender, params, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(id, req.content.id, size, req.from, JSON.stringify(req.params ?? {}), now.getTime(), due);
  const ins = tx.s.get('INSERT INTO queue_recipients (queue_id, position, address, notify, orcpt) VALUES (?, ?, ?, ?, ?)');
  recipients.forEach((r, i) => ins.run(id, i, r.address, r.notify?.length ? r.notify.join(',') : null, r.orcpt ?? null));
  return getEntry(tx.s, id) as QueueEntry;
}

export function getEntry(s: Statements, id: string): QueueEntry | null {
  const r = s.get('SELECT * FROM queue WHERE id = ?').get(String(id)) as EntryRecord | undefined;
  return r ? toEntry(s, r) : null;
}

export function listEntries(s: Statements): QueueEntry[] {
  return (s.get('SELECT * FROM queue ORDER BY created_at, id').all() as EntryRecord[]).map((r) => toEntry(s, r));
}

export function claim(tx: Tx, owner: string, now: Date, leaseMs: number, limit: number): QueueEntry[] {
  if (typeof owner !== 'string' || owner === '') throw new StoreError('invalid', 'lease owner must be a non-empty string');
  if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0 || !Number.isSafeInteger(limit) || limit <= 0) {
    throw new StoreError('invalid', 'leaseMs and limit must be positive integers');
  }
  const t = ms(now, 'now');
  const due = tx.s
    .get('SELECT * FROM queue WHERE next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id LIMIT ?')
    .all(t, t, limit) as EntryRecord[];
  const take = tx.s.get('UPDATE queue SET lease_owner = ?, lease_until = ? WHERE id = ?');
  for (const r of due) {
    take.run(owner, t + leaseMs, r.id);
    r.lease_owner = owner;
    r.lease_until = t + leaseMs;
  }
  return due.map((r) => toEntry(tx.s, r));
}

export function recordResults(tx: Tx, id: string, results: QueueRecipientResult[], at: Date): void {
  if (!tx.s.get('SELECT 1 FROM queue WHERE id = ?').get(String(id))) throw new StoreError('notfound', `no queue entry ${id}`);
  const t = ms(at, 'at');
  const upd = tx.s.get(
    `UPDATE queue_recipients SET state = ?, status = ?, last_result = ?, remote_mta = ?, updated_at = ?, attempts = attempts + 1,
       dsn_pending = ?
     WHERE queue_id = ? AND lower(address) = lower(?) AND state = 'pending'`,
  );
  for (const r of results) {
    if (!STATES.has(r.state)) throw new StoreError('invalid', `invalid recipient state ${JSON.stringify(r.state)}`);
    upd.run(r.state, r.status ?? null, String(r.result ?? ''), r.remoteMta ?? null, t, r.dsn ? 1 : 0, id, String(r.address));
  }
}

export function clearDsn(tx: Tx, id: string, addresses: string[]): void {
  if (!tx.s.get('SELECT 1 FROM queue WHERE id = ?').get(String(id))) throw new StoreError('notfound', `no queue entry ${id}`);
  const upd = tx.s.get('UPDATE queue_recipients SET dsn_pending = 0 WHERE queue_id = ? AND lower(address) = lower(?)');
  for (const a of addresses) upd.run(String(id), String(a));
}

export function release(tx: Tx, id: string, owner: string, update: QueueReschedule): boolean {
  const next = ms(update.nextAttemptAt, 'nextAttemptAt');
  const notified = update.delayNotifiedAt ? ms(update.delayNotifiedAt, 'delayNotifiedAt') : null;
  const res = tx.s
    .get(
      `UPDATE queue SET lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, attempts = attempts + 1,
         last_error = CASE WHEN ? THEN ? ELSE last_error END, delay_notified_at = coalesce(?, delay_notified_at)
       WHERE id = ? AND lease_owner = ?`,
    )
    .run(next, update.lastError !== undefined ? 1 : 0, update.lastError ?? null, notified, String(id), String(owner));
  return res.changes > 0;
}

export function retry(tx: Tx, id: string, at: Date): boolean {
  return tx.s.get('UPDATE queue SET next_attempt_at = ? WHERE id = ?').run(ms(at, 'at'), String(id)).changes > 0;
}

export function remove(tx: Tx, id: string): boolean {
  tx.s.get('DELETE FROM queue_recipients WHERE queue_id = ?').run(String(id));
  const r = tx.s.get('DELETE FROM queue WHERE id = ? RETURNING content_id').get(String(id)) as { content_id: string } | undefined;
  if (!r) return false;
  releaseContents(tx, new Map([[r.content_id, 1]]));
  return true;
}

function toEntry(s: Statements, r: EntryRecord): QueueEntry {
  const rows = s.get('SELECT * FROM queue_recipients WHERE queue_id = ? ORDER BY position').all(r.id) as RecipientRecord[];
  return {
    id: r.id,
    contentId: r.content_id,
    size: r.size,
    from: r.sender,
    params: JSON.parse(r.params) as QueueParams,
    recipients: rows.map(toRecipient),
    createdAt: new Date(r.created_at),
    nextAttemptAt: new Date(r.next_attempt_at),
    attempts: r.attempts,
    lastError: r.last_error,
    delayNotifiedAt: r.delay_notified_at === null ? null : new Date(r.delay_notified_at),
    lease: r.lease_owner !== null && r.lease_until !== null ? { owner: r.lease_owner, until: new Date(r.lease_until) } : null,
  };
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
