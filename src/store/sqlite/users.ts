/** Domains, users and aliases. Addresses are looked up case-insensitively; the domain part is stored lower-case. */
import { StoreError } from '../errors.js';
import type { Alias, Domain, Id, QuotaLimits, QuotaUsage, SpecialUse, User } from '../types.js';
import type { Statements } from './db.js';
import { createMailboxRow } from './mailboxes.js';
import { deleteMailboxRow } from './messages.js';
import { toDomain, toUser, type DomainRecord, type UserRecord } from './rows.js';
import type { Tx } from './tx.js';

/** Lower-case domain; 'invalid' when empty or containing characters no domain has. */
export function normalizeDomain(name: string): string {
  const d = typeof name === 'string' ? name.trim().toLowerCase() : '';
  if (d === '' || d.length > 253 || /[\s@/\\]/.test(d) || d.startsWith('.') || d.endsWith('.')) {
    throw new StoreError('invalid', `invalid domain name ${JSON.stringify(String(name).slice(0, 80))}`);
  }
  return d;
}

/** Splits `local@domain`; `allowEmptyLocal` admits the catch-all form `@domain`. */
export function parseAddress(address: string, allowEmptyLocal = false): { local: string; domain: string; address: string; key: string } {
  const a = typeof address === 'string' ? address.trim() : '';
  const at = a.lastIndexOf('@');
  const local = a.slice(0, Math.max(at, 0));
  if (at < 0 || (local === '' && !allowEmptyLocal) || /[\s]/.test(local) || a.length > 320) {
    throw new StoreError('invalid', `invalid address ${JSON.stringify(String(address).slice(0, 80))}`);
  }
  const domain = normalizeDomain(a.slice(at + 1));
  const full = `${local}@${domain}`;
  return { local, domain, address: full, key: full.toLowerCase() };
}

// Domains

export function addDomain(tx: Tx, name: string): Domain {
  const d = normalizeDomain(name);
  if (tx.s.get('SELECT 1 FROM domains WHERE name = ?').get(d)) throw new StoreError('exists', `domain ${d} exists`);
  return toDomain(tx.s.get('INSERT INTO domains (name) VALUES (?) RETURNING *').get(d) as DomainRecord);
}

export function getDomain(s: Statements, name: string): Domain | null {
  const r = s.get('SELECT * FROM domains WHERE name = ?').get(String(name).trim().toLowerCase()) as DomainRecord | undefined;
  return r ? toDomain(r) : null;
}

export function listDomains(s: Statements): Domain[] {
  return (s.get('SELECT * FROM domains ORDER BY name').all() as DomainRecord[]).map(toDomain);
}

export function deleteDomain(tx: Tx, name: string): void {
  const d = getDomain(tx.s, name);
  if (!d) throw new StoreError('notfound', `no domain ${name}`);
  if (tx.s.get('SELECT 1 FROM users WHERE domain_id = ? LIMIT 1').get(d.id)) throw new StoreError('conflict', `domain ${d.name} still has users`);
  if (tx.s.get('SELECT 1 FROM aliases WHERE source_domain = ? LIMIT 1').get(d.name)) throw new StoreError('conflict', `domain ${d.name} still has aliases`);
  tx.s.get('DELETE FROM domains WHERE id = ?').run(d.id);
}

// Users

export function addUser(tx: Tx, address: string, passwordHash: string, mailboxes: { name: string; specialUse: SpecialUse | null }[]): User {
  const a = parseAddress(address);
  if (typeof passwordHash !== 'string') throw new StoreError('invalid', 'password hash must be a string');
  const domain = getDomain(tx.s, a.domain);
  if (!domain) throw new StoreError('notfound', `no domain ${a.domain}`);
  if (tx.s.get('SELECT 1 FROM users WHERE address_key = ?').get(a.key)) throw new StoreError('exists', `user ${a.address} exists`);
  const r = tx.s
    .get('INSERT INTO users (address, address_key, domain_id, password_hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *')
    .get(a.address, a.key, domain.id, passwordHash, Date.now()) as UserRecord;
  // INBOX always first, even when the caller did not name it.
  const rest = mailboxes.filter((m) => m.name.toLowerCase() !== 'inbox');
  const inbox = mailboxes.find((m) => m.name.toLowerCase() === 'inbox') ?? { name: 'INBOX', specialUse: null };
  for (const m of [inbox, ...rest]) createMailboxRow(tx, r.id, m.name, m.specialUse);
  return toUser(r);
}

export function getUser(s: Statements, address: string): User | null {
  if (typeof address !== 'string') return null;
  const r = s.get('SELECT * FROM users WHERE address_key = ?').get(address.trim().toLowerCase()) as UserRecord | undefined;
  return r ? toUser(r) : null;
}

export function getUserById(s: Statements, id: Id): User | null {
  const r = s.get('SELECT * FROM users WHERE id = ?').get(id) as UserRecord | undefined;
  return r ? toUser(r) : null;
}

export function listUsers(s: Statements, domain?: string): User[] {
  const rows = domain === undefined
    ? s.get('SELECT * FROM users ORDER BY address_key').all()
    : s.get('SELECT u.* FROM users u JOIN domains d ON d.id = u.domain_id WHERE d.name = ? ORDER BY u.address_key').all(domain.trim().toLowerCase());
  return (rows as UserRecord[]).map(toUser);
}

export function requireUser(s: Statements, id: Id): UserRecord {
  const r = s.get('SELECT * FROM users WHERE id = ?').get(id) as UserRecord | undefined;
  if (!r) throw new StoreError('notfound', `no user with id ${id}`);
  return r;
}

export function deleteUser(tx: Tx, address: string): void {
  const u = getUser(tx.s, address);
  if (!u) throw new StoreError('notfound', `no user ${address}`);
  const boxes = tx.s.get('SELECT id FROM mailboxes WHERE user_id = ?').all(u.id) as { id: number }[];
  for (const b of boxes) deleteMailboxRow(tx, u.id, b.id);
  tx.s.get('DELETE FROM private_flags WHERE user_id = ?').run(u.id);
  tx.s.get('DELETE FROM subscriptions WHERE user_id = ?').run(u.id);
  tx.s.get('DELETE FROM thread_refs WHERE user_id = ?').run(u.id);
  tx.s.get('DELETE FROM user_logins WHERE user_id = ?').run(u.id);
  tx.s.get('DELETE FROM users WHERE id = ?').run(u.id);
}

export function setPassword(tx: Tx, userId: Id, passwordHash: string): void {
  if (typeof passwordHash !== 'string') throw new StoreError('invalid', 'password hash must be a string');
  requireUser(tx.s, userId);
  tx.s.get('UPDATE users SET password_hash = ? WHERE id = ?').run(passwordHash, userId);
}

function checkLimit(v: number | null, what: string): number | null {
  if (v === null) return null;
  if (!Number.isSafeInteger(v) || v < 0) throw new StoreError('invalid', `quota ${what} must be a non-negative integer or null`);
  return v;
}

export function setQuota(tx: Tx, userId: Id, limits: QuotaLimits): void {
  const bytes = checkLimit(limits.bytes, 'bytes');
  const messages = checkLimit(limits.messages, 'messages');
  requireUser(tx.s, userId);
  tx.s.get('UPDATE users SET quota_bytes = ?, quota_messages = ? WHERE id = ?').run(bytes, messages, userId);
}

export function getQuota(s: Statements, userId: Id): QuotaUsage {
  const r = requireUser(s, userId);
  return { bytes: r.quota_bytes, messages: r.quota_messages, usedBytes: r.used_bytes, usedMessages: r.used_messages };
}

export function setUserSetting(tx: Tx, userId: Id, key: string, value: string | null): void {
  if (typeof key !== 'string' || key === '') throw new StoreError('invalid', 'setting key must be a non-empty string');
  if (value !== null && typeof value !== 'string') throw new StoreError('invalid', 'setting value must be a string or null');
  const settings = JSON.parse(requireUser(tx.s, userId).settings) as Record<string, string>;
  if (value === null) delete settings[key];
  else settings[key] = value;
  tx.s.get('UPDATE users SET settings = ? WHERE id = ?').run(JSON.stringify(settings), userId);
}

// Aliases

function parseTarget(target: string): string {
  const t = typeof target === 'string' ? target.trim() : '';
  if (t === '' || t.length > 320 || /\s/.test(t)) throw new StoreError('invalid', `invalid alias target ${JSON.stringify(String(target).slice(0, 80))}`);
  return t;
}

export function addAlias(tx: Tx, source: string, target: string): void {
  const src = parseAddress(source, true);
  const t = parseTarget(target);
  if (!getDomain(tx.s, src.domain)) throw new StoreError('notfound', `no domain ${src.domain}`);
  if (tx.s.get('SELECT 1 FROM aliases WHERE source_key = ? AND target_key = ?').get(src.key, t.toLowerCase())) {
    throw new StoreError('exists', `alias ${src.address} -> ${t} exists`);
  }
  tx.s
    .get('INSERT INTO aliases (source, source_key, source_domain, target, target_key) VALUES (?, ?, ?, ?, ?)')
    .run(src.address, src.key, src.domain, t, t.toLowerCase());
}

export function deleteAlias(tx: Tx, source: string, target?: string): number {
  const src = parseAddress(source, true);
  const r = target === undefined
    ? tx.s.get('DELETE FROM aliases WHERE source_key = ?').run(src.key)
    : tx.s.get('DELETE FROM aliases WHERE source_key = ? AND target_key = ?').run(src.key, parseTarget(target).toLowerCase());
  return r.changes;
}

export function listAliases(s: Statements, domain?: string): Alias[] {
  const rows = domain === undefined
    ? s.get('SELECT source, target FROM aliases ORDER BY source_key, target_key').all()
    : s.get('SELECT source, target FROM aliases WHERE source_domain = ? ORDER BY source_key, target_key').all(domain.trim().toLowerCase());
  return rows as Alias[];
}

export function aliasTargets(s: Statements, source: string): string[] {
  if (typeof source !== 'string') return [];
  const rows = s.get('SELECT target FROM aliases WHERE source_key = ? ORDER BY id').all(source.trim().toLowerCase()) as { target: string }[];
  return rows.map((r) => r.target);
}
