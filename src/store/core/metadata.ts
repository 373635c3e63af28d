/**
 * Annotations on mailboxes and on the server (RFC 5464 METADATA): entry names are
 * `/private/...` (one value per viewer: the account owner and each member apart) or
 * `/shared/...` (one value for the whole account). Rows are keyed by the mailbox id, so
 * they stay with a renamed mailbox and go with a deleted one (deleteMailboxRow), a
 * deleted member (its private entries) and a deleted user.
 *
 * Names are stored lower-cased: RFC 5464 3.2 makes them case-insensitive.
 */
import { StoreError } from '../errors.js';
import type { Id, MetadataChange, MetadataDepth, MetadataEntry, MetadataLimits, MetadataScope } from '../types.js';
import { requireMailbox } from './mailboxes.js';
import { validId } from './names.js';
import type { ReadTx, Tx } from './tx.js';

/** The mailbox_id of server entries (mailbox ids start at 1). */
const SERVER = 0;
/** The owner of /shared entries (the owner's viewer id is the user id, a member's is negative). */
const SHARED = 0;
/** Longest entry name accepted. */
export const MAX_ENTRY_NAME = 1024;

/**
 * Why `name` is not a valid entry name (RFC 5464 3.2), or null. `allowRoot` admits the bare
 * `/private` and `/shared` a GETMETADATA with DEPTH may ask for.
 */
export function metadataNameProblem(name: string, allowRoot = false): string | null {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_ENTRY_NAME) return `entry name must be 1 to ${MAX_ENTRY_NAME} characters`;
  // eslint-disable-next-line no-control-regex -- RFC 5464 3.2: no CTL, no 8-bit, no wildcards
  if (/[\x00-\x19\x7f-\uffff*%]/.test(name)) return 'entry name contains a control, non-ASCII, "*" or "%" character';
  const lower = name.toLowerCase();
  if (lower === '/private' || lower === '/shared') return allowRoot ? null : 'entry name needs a level under /private or /shared';
  if (!lower.startsWith('/private/') && !lower.startsWith('/shared/')) return 'entry name must start with /private/ or /shared/';
  if (name.endsWith('/') || name.includes('//')) return 'entry name has an empty level';
  return null;
}

function checkName(name: string, allowRoot: boolean): string {
  const why = metadataNameProblem(name, allowRoot);
  if (why) throw new StoreError('invalid', `${why}: ${JSON.stringify(String(name).slice(0, 80))}`);
  return name.toLowerCase();
}

const ownerOf = (scope: MetadataScope, name: string): Id => (name.startsWith('/private') ? scope.viewerId : SHARED);

async function scopeBox(tx: ReadTx, scope: MetadataScope): Promise<Id> {
  // A member's viewer id is negative (people.memberViewer); 0 is /shared
  if (!validId(scope.userId) || !Number.isSafeInteger(scope.viewerId) || scope.viewerId === 0) throw new StoreError('invalid', 'metadata needs a user id and a viewer id');
  if (scope.mailboxId === null) return SERVER;
  const box = await requireMailbox(tx, scope.mailboxId);
  if (Number(box.user_id) !== scope.userId) throw new StoreError('notfound', `no mailbox ${scope.mailboxId}`);
  return Number(box.id);
}

/** Levels below `root` of `name` (a descendant or the entry itself: 0). */
const levelsBelow = (root: string, name: string): number => (name === root ? 0 : name.slice(root.length).split('/').length - 1);

/**
 * The values of the named entries and, with `depth`, of their descendants, in name order
 * (each entry once). Entries without a value are left out.
 */
export async function getMetadata(tx: ReadTx, scope: MetadataScope, names: string[], depth: MetadataDepth): Promise<MetadataEntry[]> {
  const roots = names.map((n) => checkName(n, true));
  const box = await scopeBox(tx, scope);
  const found = new Map<string, Buffer>();
  for (const root of new Set(roots)) {
    const rows = await tx.query<{ name: string; value: Buffer }>(
      `SELECT name, value FROM metadata WHERE user_id = ? AND mailbox_id = ? AND owner = ? AND (name = ? OR substr(name, 1, ?) = ?)`,
      [scope.userId, box, ownerOf(scope, root), root, root.length + 1, `${root}/`],
    );
    for (const r of rows) {
      const below = levelsBelow(root, r.name);
      if (depth === 'infinity' || below <= depth) found.set(r.name, Buffer.from(r.value));
    }
  }
  return [...found.keys()].sort().map((name) => ({ name, value: found.get(name)! }));
}

/**
 * Sets (value) or removes (null) entries, all or nothing. 'invalid' for a bad name or a
 * value over `limits.maxValueSize`; 'toomany' (nothing changed) when the mailbox or the
 * server would hold more than `limits.maxEntries` entries this viewer sees.
 */
export async function setMetadata(tx: Tx, scope: MetadataScope, changes: MetadataChange[], limits: MetadataLimits): Promise<'ok' | 'toomany'> {
  const checked = changes.map((c) => ({ name: checkName(c.name, false), value: c.value === null ? null : Buffer.from(c.value) }));
  for (const c of checked) {
    if (c.value && c.value.length > limits.maxValueSize) throw new StoreError('invalid', `value of ${c.name} is over ${limits.maxValueSize} bytes`);
  }
  await tx.lockUsers([scope.userId]);
  const box = await scopeBox(tx, scope);
  // The count after the change, checked before writing anything
  const held = await tx.query<{ owner: number; name: string }>('SELECT owner, name FROM metadata WHERE user_id = ? AND mailbox_id = ? AND owner IN (?, ?)', [
    scope.userId, box, SHARED, scope.viewerId,
  ]);
  const after = new Set(held.map((r) => `${Number(r.owner)} ${r.name}`));
  for (const c of checked) {
    const key = `${ownerOf(scope, c.name)} ${c.name}`;
    if (c.value === null) after.delete(key);
    else after.add(key);
  }
  if (after.size > limits.maxEntries && after.size > held.length) return 'toomany';
  for (const c of checked) {
    const owner = ownerOf(scope, c.name);
    if (c.value === null) await tx.exec('DELETE FROM metadata WHERE user_id = ? AND mailbox_id = ? AND owner = ? AND name = ?', [scope.userId, box, owner, c.name]);
    else {
      await tx.exec(
        `INSERT INTO metadata (user_id, mailbox_id, owner, name, value) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, mailbox_id, owner, name) DO UPDATE SET value = excluded.value`,
        [scope.userId, box, owner, c.name, c.value],
      );
    }
  }
  return 'ok';
}
