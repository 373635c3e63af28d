/** Domains, users and aliases. Addresses are looked up case-insensitively; the domain part is stored lower-case. */
import { StoreError } from '../errors.js';
import { granteeViewerId, type Alias, type Domain, type Id, type QuotaLimits, type QuotaUsage, type SpecialUse, type User } from '../types.js';
import { createMailboxRow } from './mailboxes.js';
import { deleteMailboxRow } from './messages.js';
import { deleteGrantsTo } from './acl.js';
import { normalizeDomain, parseAddress, parseTarget, validId } from './names.js';
import { toDomain, toUser, type DomainRecord, type UserRecord } from './rows.js';
import { rearmQuotaWarning } from './quota-warning.js';
import type { ReadTx, Tx } from './tx.js';

// Domains

export async function addDomain(tx: Tx, name: string): Promise<Domain> {
  const d = normalizeDomain(name);
  const r = await tx.get<DomainRecord>('INSERT INTO domains (name) VALUES (?) ON CONFLICT (name) DO NOTHING RETURNING *', [d]);
  if (!r) throw new StoreError('exists', `domain ${d} exists`);
  return toDomain(r);
}

export async function getDomain(tx: ReadTx, name: string): Promise<Domain | null> {
  const r = await tx.get<DomainRecord>('SELECT * FROM domains WHERE name = ?', [String(name).trim().toLowerCase()]);
  return r ? toDomain(r) : null;
}

export async function listDomains(tx: ReadTx): Promise<Domain[]> {
  return (await tx.query<DomainRecord>(`SELECT * FROM domains ORDER BY name${tx.d.byteOrder}`)).map(toDomain);
}

export async function deleteDomain(tx: Tx, name: string): Promise<void> {
  const d = await tx.get<DomainRecord>(`SELECT * FROM domains WHERE name = ?${tx.d.lock('update')}`, [String(name).trim().toLowerCase()]);
  if (!d) throw new StoreError('notfound', `no domain ${name}`);
  if (await tx.get('SELECT 1 FROM users WHERE domain_id = ? LIMIT 1', [d.id])) throw new StoreError('conflict', `domain ${d.name} still has users`);
  if (await tx.get('SELECT 1 FROM aliases WHERE source_domain = ? LIMIT 1', [d.name])) throw new StoreError('conflict', `domain ${d.name} still has aliases`);
  await tx.exec('DELETE FROM domains WHERE id = ?', [d.id]);
}

// Users

export async function addUser(tx: Tx, address: string, passwordHash: string, mailboxes: { name: string; specialUse: SpecialUse | null }[], scramKeys = ''): Promise<User> {
  const a = parseAddress(address);
  if (typeof passwordHash !== 'string') throw new StoreError('invalid', 'password hash must be a string');
  if (typeof scramKeys !== 'string') throw new StoreError('invalid', 'SCRAM keys must be a string');
  // FOR SHARE: a concurrent deleteDomain waits for us (and then sees our user).
  const domain = await tx.get<DomainRecord>(`SELECT * FROM domains WHERE name = ?${tx.d.lock('share')}`, [a.domain]);
  if (!domain) throw new StoreError('notfound', `no domain ${a.domain}`);
  const r = await tx.get<UserRecord>(
    `INSERT INTO users (address, address_key, domain_id, password_hash, scram_keys, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (address_key) DO NOTHING RETURNING *`,
    [a.address, a.key, domain.id, passwordHash, scramKeys, Date.now()],
  );
  if (!r) throw new StoreError('exists', `user ${a.address} exists`);
  // INBOX always first, even when the caller did not name it.
  const rest = mailboxes.filter((m) => m.name.toLowerCase() !== 'inbox');
  const inbox = mailboxes.find((m) => m.name.toLowerCase() === 'inbox') ?? { name: 'INBOX', specialUse: null };
  for (const m of [inbox, ...rest]) await createMailboxRow(tx, r.id, m.name, m.specialUse);
  return toUser(r);
}

export async function getUser(tx: ReadTx, address: string): Promise<User | null> {
  if (typeof address !== 'string') return null;
  const r = await tx.get<UserRecord>('SELECT * FROM users WHERE address_key = ?', [address.trim().toLowerCase()]);
  return r ? toUser(r) : null;
}

export async function getUserById(tx: ReadTx, id: Id): Promise<User | null> {
  if (!validId(id)) return null;
  const r = await tx.get<UserRecord>('SELECT * FROM users WHERE id = ?', [id]);
  return r ? toUser(r) : null;
}

export async function listUsers(tx: ReadTx, domain?: string): Promise<User[]> {
  const o = tx.d.byteOrder;
  const rows = domain === undefined
    ? await tx.query<UserRecord>(`SELECT * FROM users ORDER BY address_key${o}`)
    : await tx.query<UserRecord>(`SELECT u.* FROM users u JOIN domains d ON d.id = u.domain_id WHERE d.name = ? ORDER BY u.address_key${o}`, [domain.trim().toLowerCase()]);
  return rows.map(toUser);
}

/** The user row or 'notfound'. */
export async function requireUser(tx: ReadTx, id: Id): Promise<UserRecord> {
  const r = validId(id) ? await tx.get<UserRecord>('SELECT * FROM users WHERE id = ?', [id]) : undefined;
  if (!r) throw new StoreError('notfound', `no user with id ${id}`);
  return r;
}

export async function deleteUser(tx: Tx, address: string): Promise<void> {
  const u = await getUser(tx, address);
  if (!u) throw new StoreError('notfound', `no user ${address}`);
  await tx.lockUsers([u.id]);
  const boxes = await tx.query<{ id: number }>('SELECT id FROM mailboxes WHERE user_id = ? ORDER BY id', [u.id]);
  for (const b of boxes) await deleteMailboxRow(tx, u.id, b.id);
  // Members' private flags went with the messages (ON DELETE CASCADE).
  for (const table of ['private_flags', 'metadata', 'urlauth_keys', 'subscriptions', 'thread_refs', 'user_logins', 'devices', 'members', 'login_failures', 'login_origins']) await tx.exec(`DELETE FROM ${table} WHERE user_id = ?`, [u.id]);
  // What others shared with him, and his private \Seen in their mailboxes (core/acl.ts)
  await deleteGrantsTo(tx, u.id);
  await tx.exec('DELETE FROM private_flags WHERE user_id = ?', [granteeViewerId(u.id)]);
  await tx.exec('DELETE FROM users WHERE id = ?', [u.id]);
  tx.touch('credentials', u.id, 0);
}

export async function setPassword(tx: Tx, userId: Id, passwordHash: string, scramKeys = ''): Promise<void> {
  if (typeof passwordHash !== 'string') throw new StoreError('invalid', 'password hash must be a string');
  if (typeof scramKeys !== 'string') throw new StoreError('invalid', 'SCRAM keys must be a string');
  await requireUser(tx, userId);
  await tx.exec('UPDATE users SET password_hash = ?, scram_keys = ? WHERE id = ?', [passwordHash, scramKeys, userId]);
  tx.touch('credentials', userId, 0); // sessions logged in with the old password end (src/auth/live-logins.ts)
}

export async function setScramKeys(tx: Tx, userId: Id, passwordHash: string, scramKeys: string): Promise<boolean> {
  if (typeof passwordHash !== 'string' || typeof scramKeys !== 'string') throw new StoreError('invalid', 'password hash and SCRAM keys must be strings');
  await requireUser(tx, userId);
  // Compare-and-set on the hash: keys derived from an old password must never land on a new one.
  const r = await tx.get<{ id: number }>('UPDATE users SET scram_keys = ? WHERE id = ? AND password_hash = ? RETURNING id', [scramKeys, userId, passwordHash]);
  return r !== undefined;
}

function checkLimit(v: number | null, what: string): number | null {
  if (v === null) return null;
  if (!Number.isSafeInteger(v) || v < 0) throw new StoreError('invalid', `quota ${what} must be a non-negative integer or null`);
  return v;
}

export async function setQuota(tx: Tx, userId: Id, limits: QuotaLimits): Promise<void> {
  const bytes = checkLimit(limits.bytes, 'bytes');
  const messages = checkLimit(limits.messages, 'messages');
  await requireUser(tx, userId);
  await tx.exec('UPDATE users SET quota_bytes = ?, quota_messages = ? WHERE id = ?', [bytes, messages, userId]);
  await rearmQuotaWarning(tx, userId); // a raised limit: usage may be below a threshold again
}

export async function getQuota(tx: ReadTx, userId: Id): Promise<QuotaUsage> {
  const r = await requireUser(tx, userId);
  return { bytes: r.quota_bytes, messages: r.quota_messages, usedBytes: r.used_bytes, usedMessages: r.used_messages };
}

export async function setUserSetting(tx: Tx, userId: Id, key: string, value: string | null): Promise<void> {
  if (typeof key !== 'string' || key === '') throw new StoreError('invalid', 'setting key must be a non-empty string');
  if (value !== null && typeof value !== 'string') throw new StoreError('invalid', 'setting value must be a string or null');
  await requireUser(tx, userId);
  await tx.lockUsers([userId]); // read-modify-write of the JSON: no lost update between nodes
  const settings = JSON.parse((await requireUser(tx, userId)).settings) as Record<string, string>;
  if (value === null) delete settings[key];
  else settings[key] = value;
  await tx.exec('UPDATE users SET settings = ? WHERE id = ?', [JSON.stringify(settings), userId]);
  if (key.startsWith('auth.')) tx.touch('credentials', userId, 0);
}

// Aliases

export async function addAlias(tx: Tx, source: string, target: string): Promise<void> {
  const src = parseAddress(source, true);
  const t = parseTarget(target);
  if (!(await tx.get(`SELECT 1 FROM domains WHERE name = ?${tx.d.lock('share')}`, [src.domain]))) throw new StoreError('notfound', `no domain ${src.domain}`);
  const { changes } = await tx.exec(
    `INSERT INTO aliases (source, source_key, source_domain, target, target_key) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (source_key, target_key) DO NOTHING`,
    [src.address, src.key, src.domain, t, t.toLowerCase()],
  );
  if (changes === 0) throw new StoreError('exists', `alias ${src.address} -> ${t} exists`);
}

export async function deleteAlias(tx: Tx, source: string, target?: string): Promise<number> {
  const src = parseAddress(source, true);
  const r = target === undefined
    ? await tx.exec('DELETE FROM aliases WHERE source_key = ?', [src.key])
    : await tx.exec('DELETE FROM aliases WHERE source_key = ? AND target_key = ?', [src.key, parseTarget(target).toLowerCase()]);
  return r.changes;
}

export async function listAliases(tx: ReadTx, domain?: string): Promise<Alias[]> {
  const o = tx.d.byteOrder;
  return domain === undefined
    ? tx.query<Alias>(`SELECT source, target FROM aliases ORDER BY source_key${o}, target_key${o}`)
    : tx.query<Alias>(`SELECT source, target FROM aliases WHERE source_domain = ? ORDER BY source_key${o}, target_key${o}`, [domain.trim().toLowerCase()]);
}

export async function aliasTargets(tx: ReadTx, source: string): Promise<string[]> {
  if (typeof source !== 'string') return [];
  const rows = await tx.query<{ target: string }>('SELECT target FROM aliases WHERE source_key = ? ORDER BY id', [source.trim().toLowerCase()]);
  return rows.map((r) => r.target);
}
