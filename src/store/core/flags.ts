/**
 * Flag rules shared by every write path: system flags are case-insensitive and stored
 * canonical (`\Seen`), keywords keep the case of their first use on a message but
 * compare case-insensitively, `\Recent` is session state and never stored.
 */
import { StoreError } from '../errors.js';
import type { FlagOp } from '../types.js';

const SYSTEM = new Map(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'].map((f) => [f.toLowerCase(), f]));
const RECENT = '\\recent';
// RFC 9051 9: flag-keyword is an atom; atom-specials are ( ) { SP CTL % * " \ ]
const ATOM = /^[\x21\x23\x24\x26-\x27\x2b-\x5b\x5e-\x7a\x7c-\x7e]+$/;

/** Validates and canonicalises a flag list: duplicates (case-insensitive) and \Recent dropped. */
export function normalizeFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of flags) {
    if (typeof raw !== 'string') throw new StoreError('invalid', 'flags must be strings');
    const key = raw.toLowerCase();
    if (key === RECENT) continue; // RFC 9051 2.3.2: \Recent cannot be altered by the client; the store never keeps it
    let flag: string;
    if (raw.startsWith('\\')) {
      const sys = SYSTEM.get(key);
      if (!sys) throw new StoreError('invalid', `unknown system flag ${raw.slice(0, 40)}`);
      flag = sys;
    } else {
      if (!ATOM.test(raw) || raw.length > 200) throw new StoreError('invalid', `invalid keyword ${JSON.stringify(raw.slice(0, 40))}`);
      flag = raw;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(flag);
  }
  return out;
}

/** Stored form: space-separated. */
export function joinFlags(flags: readonly string[]): string {
  return flags.join(' ');
}

export function splitFlags(text: string | null | undefined): string[] {
  return text ? text.split(' ').filter((f) => f !== '') : [];
}

export const SEEN = '\\Seen';

/**
 * Whether `\Seen` is private for this viewer: a member of an account (negative viewer id,
 * see ../types.ts Member). The owner's `\Seen` is the shared column, which members never see.
 */
export function seenIsPrivate(viewerId: number): boolean {
  return viewerId < 0;
}

/** `flags` without `\Seen`. */
export function withoutSeen(flags: string[]): string[] {
  return flags.some((f) => f === SEEN) ? flags.filter((f) => f !== SEEN) : flags;
}

/** The flags a viewer sees: shared plus private, and for a member the shared `\Seen` (the owner's) left out. */
export function viewFlags(shared: string[], priv: string[], viewerId: number): string[] {
  return mergeFlags(seenIsPrivate(viewerId) ? withoutSeen(shared) : shared, priv);
}

/** Union of shared and private flags as the viewer sees them. */
export function mergeFlags(shared: string[], priv: string[]): string[] {
  if (priv.length === 0) return shared;
  const keys = new Set(shared.map((f) => f.toLowerCase()));
  return [...shared, ...priv.filter((f) => !keys.has(f.toLowerCase()))];
}

/**
 * Applies a STORE operation to current flags (already normalised `change`). Keeps the
 * existing spelling of a keyword the message already has ("first use wins").
 */
export function applyFlagOp(current: string[], op: FlagOp, change: string[]): string[] {
  const has = new Set(current.map((f) => f.toLowerCase()));
  switch (op) {
    case 'add':
      return [...current, ...change.filter((f) => !has.has(f.toLowerCase()))];
    case 'remove': {
      const drop = new Set(change.map((f) => f.toLowerCase()));
      return current.filter((f) => !drop.has(f.toLowerCase()));
    }
    case 'set': {
      const byKey = new Map(current.map((f) => [f.toLowerCase(), f]));
      return change.map((f) => byKey.get(f.toLowerCase()) ?? f);
    }
    default:
      throw new StoreError('invalid', `unknown flag operation ${String(op)}`);
  }
}

/** Same set of flags, ignoring order and case. */
export function sameFlags(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => keys.has(f.toLowerCase()));
}
