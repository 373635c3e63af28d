/**
 * Validation and normalisation of names the store is given: domains, addresses, alias
 * targets, mailbox names, special-use attributes. Pure functions; 'invalid' StoreErrors.
 */
import { StoreError } from '../errors.js';
import type { Id, SpecialUse } from '../types.js';

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

/** An alias target: any address-like word without spaces. */
export function parseTarget(target: string): string {
  const t = typeof target === 'string' ? target.trim() : '';
  if (t === '' || t.length > 320 || /\s/.test(t)) throw new StoreError('invalid', `invalid alias target ${JSON.stringify(String(target).slice(0, 80))}`);
  return t;
}

/** Canonical mailbox name: "inbox" in any case is "INBOX" (also as a hierarchy prefix); 'invalid' for empty or malformed names. */
export function normalizeMailboxName(name: string): string {
  if (typeof name !== 'string' || name === '' || name.length > 1000) throw new StoreError('invalid', 'mailbox name must be 1 to 1000 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) throw new StoreError('invalid', 'mailbox name contains control characters');
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) throw new StoreError('invalid', `mailbox name ${JSON.stringify(name)} has an empty hierarchy level`);
  if (name.toLowerCase() === 'inbox') return 'INBOX'; // RFC 9051 5.1: INBOX is case-insensitive
  if (name.slice(0, 6).toLowerCase() === 'inbox/') return `INBOX${name.slice(5)}`;
  return name;
}

const SPECIAL_USES = new Set<string>(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive', '\\All', '\\Flagged']);

/** RFC 6154 attribute or null; 'invalid' for anything else. */
export function checkSpecialUse(specialUse: SpecialUse | null | undefined): SpecialUse | null {
  if (specialUse === null || specialUse === undefined) return null;
  if (!SPECIAL_USES.has(specialUse)) throw new StoreError('invalid', `unknown special-use ${String(specialUse)}`);
  return specialUse;
}

/**
 * Ids are 32-bit serials on PostgreSQL: a larger or non-integer id names nothing, on
 * every backend alike (and never reaches PostgreSQL as an out-of-range error).
 */
export function validId(id: Id): boolean {
  return Number.isSafeInteger(id) && id > 0 && id <= 2 ** 31 - 1;
}
