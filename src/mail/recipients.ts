/**
 * Who gets a message sent to an address: local users (for INBOX delivery) and
 * remote addresses (forwarding through the outbound queue, a later issue).
 * Order, first match wins: the user itself; an exact alias; the sub-address base
 * (`user+tag@` → `user@`, as user or alias); the domain's catch-all (`@domain`).
 */
import type { Store, User } from '../store/types.js';
import { AddressError, parseAddress, subaddressBase } from './address.js';

export interface Resolution {
  users: User[];
  /** Alias targets outside this server's domains. */
  remote: string[];
}

const MAX_ALIAS_DEPTH = 8;

export interface ResolveOptions {
  subaddressSeparator?: string; // default '+'
}

/** Resolves one recipient; null when nobody here takes it (SMTP 550 5.1.1). Throws AddressError on a malformed address. */
export async function resolveRecipient(store: Store, address: string, opts: ResolveOptions = {}): Promise<Resolution | null> {
  const acc = new Accumulator();
  const found = await resolveInto(store, parseAddress(address).address, opts.subaddressSeparator ?? '+', acc, 0, new Set());
  return found ? acc.result() : null;
}

class Accumulator {
  private readonly users = new Map<number, User>();
  private readonly remote = new Set<string>();
  addUser(u: User): void {
    this.users.set(u.id, u);
  }
  addRemote(a: string): void {
    this.remote.add(a.toLowerCase());
  }
  result(): Resolution {
    return { users: [...this.users.values()], remote: [...this.remote] };
  }
}

async function resolveInto(store: Store, address: string, sep: string, acc: Accumulator, depth: number, seen: Set<string>): Promise<boolean> {
  const key = address.toLowerCase();
  if (seen.has(key)) return false; // an alias loop reaches nobody new; what it already reached is kept
  if (depth > MAX_ALIAS_DEPTH) return false;
  seen.add(key);
  const { local, domain } = parseAddress(address);
  for (const candidate of candidates(local, domain, sep)) {
    if (await expandOne(store, candidate, sep, acc, depth, seen)) return true;
  }
  return false;
}

function candidates(local: string, domain: string, sep: string): string[] {
  const base = subaddressBase(local, sep);
  const list = [`${local}@${domain}`];
  if (base) list.push(`${base}@${domain}`);
  list.push(`@${domain}`);
  return list;
}

async function expandOne(store: Store, candidate: string, sep: string, acc: Accumulator, depth: number, seen: Set<string>): Promise<boolean> {
  if (!candidate.startsWith('@')) {
    const user = await store.getUser(candidate);
    if (user) {
      acc.addUser(user);
      return true;
    }
  }
  const targets = await store.aliasTargets(candidate);
  if (targets.length === 0) return false;
  let any = false;
  for (const target of targets) {
    if (await isLocalDomain(store, target)) {
      if (await resolveInto(store, target, sep, acc, depth + 1, seen)) any = true;
    } else {
      acc.addRemote(target);
      any = true;
    }
  }
  return any;
}

async function isLocalDomain(store: Store, address: string): Promise<boolean> {
  try {
    return (await store.getDomain(parseAddress(address).domain)) !== null;
  } catch (err) {
    if (err instanceof AddressError) return false;
    throw err;
  }
}
