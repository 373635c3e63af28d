/** Domains, users and aliases on PostgreSQL; the same rules as ../sqlite/users.ts (whose pure parsers it reuses). */
import { StoreError } from '../errors.js';
import { normalizeDomain, parseAddress } from '../sqlite/users.js';
import { toDomain, toUser, type DomainRecord, type UserRecord } from '../sqlite/rows.js';
import type { Alias, Domain, Id, QuotaLimits, QuotaUsage, SpecialUse, User } from '../types.js';
import { createMailboxRow } from './mailboxes.js';
import { deleteMailboxRow } from './messages.js';
import type { PgBlobBackend } from './blobs.js';
import type { PgTx } from './tx.js';

// Domains

export async function addDomain(tx: PgTx, name: string): Promise<Domain> {
  const d = normalizeDomain(name);
  const r = await tx.one<DomainRecord>('INSERT INTO domains (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING *', [d]);
  if (!r) throw new StoreError('exists', `domain ${d} exists`);
  return toDomain(r);
}

export async function getDomain(tx: PgTx, name: string): Promise<Domain | null> {
  const r = await tx.one<DomainRecord>('SELECT * FROM domains WHERE name = $1', [String(name).trim().toLowerCase()]);
  return r ? toDomain(r) : null;
}

export async function listDomains(tx: PgTx): Promise<Domain[]> {
  return (await tx.rows<DomainRecord>('SELECT * FROM domains ORDER BY name COLLATE "C"')).map(toDomain);
}

export async function deleteDomain(tx: PgTx, name: string): Promise<void> {
  const d = await tx.one<DomainRecord>('SELECT * FROM domains WHERE name = $1 FOR UPDATE', [String(name).trim().toLowerCase()]);
  if (!d) throw new StoreError('notfound', `no domain ${name}`);
  if (await tx.one('SELECT 1 FROM users WHERE domain_id = $1 LIMIT 1', [d.id])) throw new StoreError('conflict', `domain ${d.name} still has users`);
  if (await tx.one('SELECT 1 FROM aliases WHERE source_domain = $1 LIMIT 1', [d.name])) throw new StoreError('conflict', `domain ${d.name} still has aliases`);
  await tx.run('DELETE FROM domains WHERE id = $1', [d.id]);
}

// Users

export async function addUser(tx: PgTx, address: string, passwordHash: string, mailboxes: { name: string; specialUse: SpecialUse | null }[]): Promise<User> {
  const a = parseAddress(address);
  if (typeof passwordHash !== 'string') throw new StoreError('invalid', 'password hash must be a string');
  // FOR SHARE: a concurrent deleteDomain waits for us (and then sees our user).
  const domain = await tx.one<DomainRecord>('SELECT * FROM domains WHERE name = $1 FOR SHARE', [a.domain]);
  if (!domain) throw new StoreError('notfound', `no domain ${a.domain}`);
  const r = await tx.one<UserRecord>(
    `INSERT INTO users (address, address_key, domain_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (address_key) DO NOTHING RETURNING *`,
    [a.address, a.key, domain.id, passwordHash, Date.now()],
  );
  if (!r) throw new StoreError('exists', `user ${a.address} exists`);
  const rest = mailboxes.filter((m) => m.name.toLowerCase() !== 'inbox');
  const inbox = mailboxes.find((m) => m.name.toLowerCase() === 'inbox') ?? { name: 'INBOX', specialUse: null };
  for (const m of [inbox, ...rest]) await createMailboxRow(tx, r.id, m.name, m.specialUse);
  return toUser(r);
}

export async function getUser(tx: PgTx, address: string): Promise<User | null> {
  if (typeof address !== 'string') return null;
  const r = await tx.one<UserRecord>('SELECT * FROM users WHERE address_key = $1', [address.trim().toLowerCase()]);
  return r ? toUser(r) : null;
}

export async function getUserById(tx: PgTx, id: Id): Promise<User | null> {
  if (!Number.isSafeInteger(id) || id > 2 ** 31 - 1) return null;
  const r = await tx.one<UserRecord>('SELECT * FROM users WHERE id = $1', [id]);
  return r ? toUser(r) : null;
}

export async function listUsers(tx: PgTx, domain?: string): Promise<User[]> {
  const rows = domain === undefined
    ? await tx.rows<UserRecord>('SELECT * FROM users ORDER BY address_key COLLATE "C"')
    : await tx.rows<UserRecord>('SELECT u.* FROM users u JOIN domains d ON d.id = u.domain_id WHERE d.name = $1 ORDER BY u.address_key COLLATE "C"', [domain.trim().toLowerCase()]);
  return rows.map(toUser);
}

export async function requireUser(tx: PgTx, id: Id): Promise<UserRecord> {
  const r = Number.isSafeInteger(id) && id <= 2 ** 31 - 1 ? await tx.one<UserRecord>('SELECT * FROM users WHERE id = $1', [id]) : undefined;
  if (!r) throw new StoreError('notfound', `no user with id ${id}`);
  return r;
}

export async function deleteUser(tx: PgTx, blobs: PgBlobBackend, address: string): Promise<void> {
  const u = await getUser(tx, address);
  if (!u) throw new StoreError('notfound', `no user ${address}`);
  await tx.lockUsers([u.id]);
  const boxes = await tx.rows<{ id: number }>('SELECT id FROM mailboxes WHERE user_id = $1 ORDER BY id', [u.id]);
  for (const b of boxes) await deleteMailboxRow(tx, blobs, u.id, b.id);
  await tx.run('DELETE FROM private_flags WHERE user_id = $1', [u.id]);
  await tx.run('DELETE FROM subscriptions WHERE user_id = $1', [u.id]);
  await tx.run('DELETE FROM thread_refs WHERE user_id = $1', [u.id]);
  await tx.run('DELETE FROM user_logins WHERE user_id = $1', [u.id]);
  await tx.run('DELETE FROM users WHERE id = $1', [u.id]);
}

export async function setPassword(tx: PgTx, userId: Id, passwordHash: string): Promise<void> {
  if (typeof passwordHash !== 'string') throw new StoreError('invalid', 'password hash must be a string');
  await requireUser(tx, userId);
  await tx.run('UPDATE users SET password_hash = $1 WHERE id = $2', [passwordHash, userId]);
}

function checkLimit(v: number | null, what: string): number | null {
  if (v === null) return null;
  if (!Number.isSafeInteger(v) || v < 0) throw new StoreError('invalid', `quota ${what} must be a non-negative integer or null`);
  return v;
}

export async function setQuota(tx: PgTx, userId: Id, limits: QuotaLimits): Promise<void> {
  const bytes = checkLimit(limits.bytes, 'bytes');
  const messages = checkLimit(limits.messages, 'messages');
  await requireUser(tx, userId);
  await tx.run('UPDATE users SET quota_bytes = $1, quota_messages = $2 WHERE id = $3', [bytes, messages, userId]);
}

export async function getQuota(tx: PgTx, userId: Id): Promise<QuotaUsage> {
  const r = await requireUser(tx, userId);
  return { bytes: r.quota_bytes, messages: r.quota_messages, usedBytes: r.used_bytes, usedMessages: r.used_messages };
}

export async function setUserSetting(tx: PgTx, userId: Id, key: string, value: string | null): Promise<void> {
  if (typeof key !== 'string' || key === '') throw new StoreError('invalid', 'setting key must be a non-empty string');
  if (value !== null && typeof value !== 'string') throw new StoreError('invalid', 'setting value must be a string or null');
  await requireUser(tx, userId);
  await tx.lockUsers([userId]); // read-modify-write of the JSON: no lost update between nodes
  const settings = JSON.parse((await requireUser(tx, userId)).settings) as Record<string, string>;
  if (value === null) delete settings[key];
  else settings[key] = value;
  await tx.run('UPDATE users SET settings = $1 WHERE id = $2', [JSON.stringify(settings), userId]);
}

// Aliases

function parseTarget(target: string): string {
  const t = typeof target === 'string' ? target.trim() : '';
  if (t === '' || t.length > 320 || /\s/.test(t)) throw new StoreError('invalid', `invalid alias target ${JSON.stringify(String(target).slice(0, 80))}`);
  return t;
}

export async function addAlias(tx: PgTx, source: string, target: string): Promise<void> {
  const src = parseAddress(source, true);
  const t = parseTarget(target);
  if (!(await tx.one('SELECT 1 FROM domains WHERE name = $1 FOR SHARE', [src.domain]))) throw new StoreError('notfound', `no domain ${src.domain}`);
  const n = await tx.run(
    `INSERT INTO aliases (source, source_key, source_domain, target, target_key) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (source_key, target_key) DO NOTHING`,
    [src.address, src.key, src.domain, t, t.toLowerCase()],
  );
  if (n === 0) throw new StoreError('exists', `alias ${src.address} -> ${t} exists`);
}

export async function deleteAlias(tx: PgTx, source: string, target?: string): Promise<number> {
  const src = parseAddress(source, true);
  return target === undefined
    ? tx.run('DELETE FROM aliases WHERE source_key = $1', [src.key])
    : tx.run('DELETE FROM aliases WHERE source_key = $1 AND target_key = $2', [src.key, parseTarget(target).toLowerCase()]);
}

export async function listAliases(tx: PgTx, domain?: string): Promise<Alias[]> {
  return domain === undefined
    ? tx.rows<Alias>('SELECT source, target FROM aliases ORDER BY source_key COLLATE "C", target_key COLLATE "C"')
    : tx.rows<Alias>('SELECT source, target FROM aliases WHERE source_domain = $1 ORDER BY source_key COLLATE "C", target_key COLLATE "C"', [domain.trim().toLowerCase()]);
}

export async function aliasTargets(tx: PgTx, source: string): Promise<string[]> {
  if (typeof source !== 'string') return [];
  const rows = await tx.rows<{ target: string }>('SELECT target FROM aliases WHERE source_key = $1 ORDER BY id', [source.trim().toLowerCase()]);
  return rows.map((r) => r.target);
}
