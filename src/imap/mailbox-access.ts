/**
 * Which mailbox a client's name means, and what this login may do with it (RFC 4314). Names
 * of the user's own mailboxes are as stored (the personal namespace ""); another user's
 * mailbox is `Other Users/<owner address>/<name>` when an entry of its ACL names the user,
 * and `Shared/<owner address>/<name>` when only `anyone` has rights on it (RFC 2342
 * NAMESPACE). Both prefixes resolve the same way; LIST shows each mailbox under one of them.
 *
 * A personal mailbox whose name happens to lie under one of those prefixes (made before
 * sharing existed) still resolves to the user's own; new ones cannot be made there.
 *
 * Invariant: a mailbox on which the user has neither `l` nor `r` resolves exactly as a name
 * that does not exist (RFC 4314 4: no information leaks), so every command answers the same
 * for both.
 */
import { ALL_RIGHTS, granteeViewerId, type Id, type Mailbox, type SharedMailbox } from '../store/types.js';
import { isUndecodableName, normalizeMailboxName } from './protocol/index.js';
import type { ImapSession } from './session.js';

export const OTHER_USERS = 'Other Users';
export const SHARED = 'Shared';

/**
 * A mailbox as this session sees it: `name` is the name the client uses (with its namespace
 * prefix for another user's), `userId` the owner, `rights` this login's rights on it.
 */
export interface AccessibleMailbox extends Mailbox {
  rights: string;
  /** The name in its owner's account (the store's name). */
  path: string;
  /** The user's own mailbox (not shared with him). */
  own: boolean;
  /** Whose `\Seen` this session reads and writes in it. */
  viewerId: Id;
}

/** `Other Users/owner/rest` or `Shared/owner/rest` split; null for a name in the personal namespace. */
export function splitSharedName(name: string): { prefix: string; owner: string; rest: string } | null {
  for (const prefix of [OTHER_USERS, SHARED]) {
    if (!name.startsWith(`${prefix}/`)) continue;
    const tail = name.slice(prefix.length + 1);
    const slash = tail.indexOf('/');
    return { prefix, owner: slash < 0 ? tail : tail.slice(0, slash), rest: slash < 0 ? '' : tail.slice(slash + 1) };
  }
  return null;
}

/** True when the name lies in a shared namespace (or is one of their roots), never a personal mailbox. */
export function isSharedNamespaceName(name: string): boolean {
  return name === OTHER_USERS || name === SHARED || splitSharedName(name) !== null;
}

/** The name a client sees for another user's mailbox. */
export function sharedName(s: SharedMailbox): string {
  return `${s.personal ? OTHER_USERS : SHARED}/${s.owner}/${s.name}`;
}

/** Whose `\Seen` a session reads and writes in another user's mailbox: a member keeps its own, an owner login its grantee viewer. */
export function sharedViewerId(s: ImapSession): Id {
  const v = s.login?.viewerId;
  return v !== undefined && v < 0 ? v : granteeViewerId(s.user().id);
}

/**
 * The mailbox a client's name means, with this login's rights; null when there is none, or
 * when it is another user's and the user has neither `l` nor `r` on it (it does not exist
 * for him). Recently Deleted is never shared.
 */
export async function resolveMailbox(s: ImapSession, raw: string): Promise<AccessibleMailbox | null> {
  if (raw === '' || isUndecodableName(raw)) return null;
  const name = normalizeMailboxName(raw);
  const store = s.services.store;
  const user = s.user();
  // The user's own mailbox first: one made before sharing existed may be called "Shared/..."
  const own = await store.getMailbox(user.id, name);
  if (own) return { ...own, rights: ALL_RIGHTS, path: own.name, own: true, viewerId: s.login?.viewerId ?? user.id };
  const shared = splitSharedName(name);
  if (!shared || shared.rest === '') return null;
  const owner = await store.getUser(shared.owner);
  if (!owner || owner.id === user.id) return null;
  const box = await store.getMailbox(owner.id, shared.rest);
  if (!box || box.recentlyDeleted) return null;
  const rights = await store.rightsOn(box.id, user.id);
  if (!rights.includes('l') && !rights.includes('r')) return null; // RFC 4314 4: as if it did not exist
  return { ...box, name: `${shared.prefix}/${owner.address}/${box.name}`, path: box.name, rights, own: false, viewerId: sharedViewerId(s) };
}

/** Rights of `need` missing from `rights` ('' when all are there). */
export function missingRights(rights: string, need: string): string {
  return [...need].filter((c) => !rights.includes(c)).join('');
}

/** Whose `\Seen` this session reads and writes in a mailbox: its own viewer in the user's mailboxes, a private one in another's. */
export function viewerFor(s: ImapSession, box: Pick<Mailbox, 'userId'>): Id {
  return box.userId === s.user().id ? (s.login?.viewerId ?? box.userId) : sharedViewerId(s);
}

/**
 * The flags a login may set on a mailbox (RFC 4314 4: \Seen needs s, \Deleted t, every other
 * flag and keyword w); the others are left out, as APPEND and REPLACE drop them.
 */
export function permittedFlags(rights: string, flags: string[]): string[] {
  if (rights.includes('s') && rights.includes('w') && rights.includes('t')) return flags;
  return flags.filter((f) => rights.includes(rightForFlag(f)));
}

/** The right a flag needs (RFC 4314 4). */
export function rightForFlag(flag: string): string {
  const f = flag.toLowerCase();
  return f === '\\seen' ? 's' : f === '\\deleted' ? 't' : 'w';
}

/** The parent's name of a hierarchical name ('' at the top level). */
export function parentName(name: string): string {
  const i = name.lastIndexOf('/');
  return i < 0 ? '' : name.slice(0, i);
}
