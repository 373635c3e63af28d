// GETMETADATA [(MAXSIZE n DEPTH d)] mailbox entries / SETMETADATA mailbox (entry value ...)
//   RFC 5464 (METADATA, METADATA-SERVER); the METADATA response is shared with LIST (RFC 9590)
import { formatMailbox, formatString, parseGetMetadata, parseSetMetadata, type MetadataDepth } from '../protocol/index.js';
import type { MetadataEntry, MetadataScope } from '../../store/types.js';
import { ImapNo } from '../errors.js';
import type { ImapSession } from '../session.js';
import { requireMailbox } from './util.js';
import { viewerFor } from '../mailbox-access.js';
import type { ImapCommand } from './types.js';

const AUTHED = ['authenticated', 'selected'] as const;
/** The server entry the configuration answers (RFC 5464 3.2.1.1); read-only over IMAP. */
const ADMIN = '/shared/admin';

/** Whose entries, where: "" is the server; /private entries belong to the member (or owner) logged in. */
export function metadataScope(s: ImapSession, box: { id: number; userId: number } | null): MetadataScope {
  const user = s.user();
  // another user's mailbox: his account's /shared entries, this user's own /private ones (a grantee viewer)
  if (box) return { userId: box.userId, viewerId: viewerFor(s, box), mailboxId: box.id };
  return { userId: user.id, viewerId: s.login?.viewerId ?? user.id, mailboxId: null };
}

/**
 * The scope of a command's mailbox argument ("" is the server) and the mailbox's name as the
 * client sees it. RFC 4314 4 / RFC 5464 6: reading needs r; writing /shared entries needs n.
 */
async function scopeOf(s: ImapSession, mailbox: string, need: string): Promise<{ scope: MetadataScope; name: string }> {
  if (mailbox === '') return { scope: metadataScope(s, null), name: '' };
  const box = await requireMailbox(s, mailbox, 'NONEXISTENT', need);
  return { scope: metadataScope(s, box), name: box.name };
}

/** True when `name` is `root` or lies within `depth` levels below it. */
function within(root: string, name: string, depth: MetadataDepth): boolean {
  if (name === root) return true;
  if (!name.startsWith(`${root}/`)) return false;
  return depth === 'infinity' || name.slice(root.length + 1).split('/').length <= depth;
}

/**
 * The requested entries with their values: stored ones, the configured /shared/admin on
 * the server, and NIL for a requested entry that has no value (as Dovecot answers).
 */
export async function lookupMetadata(s: ImapSession, scope: MetadataScope, names: string[], depth: MetadataDepth): Promise<Map<string, Buffer | null>> {
  const found = new Map<string, Buffer | null>();
  const roots = names.map((n) => n.toLowerCase());
  const admin = s.services.config.imap.metadata_admin;
  const extra: MetadataEntry[] = scope.mailboxId === null && admin !== '' ? [{ name: ADMIN, value: Buffer.from(admin) }] : [];
  for (const e of [...(await s.services.store.getMetadata(scope, roots, depth)), ...extra]) {
    if (roots.some((r) => within(r, e.name, depth))) found.set(e.name, e.value);
  }
  for (const r of roots) if (r !== '/private' && r !== '/shared' && !found.has(r)) found.set(r, null);
  return found;
}

/** value = nstring / literal8: literal8 when it holds NUL, else quoted or a literal as any string. */
function formatValue(v: Buffer | null): Buffer {
  if (v === null) return Buffer.from('NIL');
  if (v.includes(0)) return Buffer.concat([Buffer.from(`~{${v.length}}\r\n`), v]);
  return Buffer.from(formatString(v.toString('latin1')), 'latin1');
}

/**
 * `* METADATA mailbox (entry value ...)` for the entries not over maxSize, in name order,
 * and the size of the longest one left out (0: none).
 */
export function metadataResponse(s: ImapSession, mailbox: string, entries: Map<string, Buffer | null>, maxSize: number | null): { bytes: Buffer | null; longest: number } {
  let longest = 0;
  const parts: Buffer[] = [];
  for (const name of [...entries.keys()].sort()) {
    const v = entries.get(name)!;
    if (v !== null && maxSize !== null && v.length > maxSize) {
      longest = Math.max(longest, v.length);
      continue;
    }
    parts.push(Buffer.from(`${parts.length > 0 ? ' ' : ''}${name} `), formatValue(v));
  }
  if (parts.length === 0) return { bytes: null, longest };
  const head = Buffer.from(`* METADATA ${mailbox === '' ? '""' : formatMailbox(mailbox, s.utf8)} (`);
  return { bytes: Buffer.concat([head, ...parts, Buffer.from(')\r\n')]), longest };
}

export const getmetadata = {
  name: 'GETMETADATA',
  states: AUTHED,
  async run({ session: s, args }) {
    const cmd = parseGetMetadata(args);
    const { scope, name } = await scopeOf(s, cmd.mailbox, 'r');
    const entries = await lookupMetadata(s, scope, cmd.entries, cmd.depth);
    const { bytes, longest } = metadataResponse(s, name, entries, cmd.maxSize);
    if (bytes) s.sendBytes(bytes);
    // RFC 5464 4.2.1: the size of the longest value MAXSIZE left out
    if (longest > 0) return { code: `METADATA LONGENTRIES ${longest}` };
  },
} as const satisfies ImapCommand;

export const setmetadata = {
  name: 'SETMETADATA',
  states: AUTHED,
  async run({ session: s, args }) {
    const limits = { maxValueSize: s.services.config.imap.metadata_max_size, maxEntries: s.services.config.imap.metadata_max_entries };
    const cmd = parseSetMetadata(args, limits.maxValueSize);
    const { scope } = await scopeOf(s, cmd.mailbox, cmd.items.some((i) => i.name.toLowerCase().startsWith('/shared')) ? 'rn' : 'r');
    if (scope.mailboxId === null && cmd.items.some((i) => i.name.toLowerCase() === ADMIN)) {
      throw new ImapNo('/shared/admin is set in the server configuration (imap.metadata_admin)', 'NOPERM');
    }
    const result = await s.services.store.setMetadata(scope, cmd.items, limits);
    if (result === 'toomany') throw new ImapNo(`Too many entries (limit ${limits.maxEntries})`, 'METADATA TOOMANY');
  },
} as const satisfies ImapCommand;
