// GETQUOTA root / GETQUOTAROOT mailbox / SETQUOTA root (resource limit ...)   RFC9208 4.1.1-4.1.3
//
// One quota root per user: "" for the user's own (every mailbox is in it), a user's address
// for the quota admin (src/mail/quota-admin.ts) naming someone else's. Usage is what the
// store counts against the limits (what `mailroom quota show` shows): STORAGE in units of
// 1024 octets, rounded up for usage and down for the limit, and MESSAGE. A root without any
// limit has no resources to show, so it is not listed (RFC 9208 5.1: the list is not empty).
import type { QuotaLimits, QuotaUsage, User } from '../../store/types.js';
import { isQuotaAdmin } from '../../mail/quota-admin.js';
import { formatMailbox, parseSetQuota, quotaResponse, quotaRootResponse, type QuotaResource } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import type { ImapSession } from '../session.js';
import { requireMailbox } from './util.js';
import type { ImapCommand } from './types.js';

const AUTH = ['authenticated', 'selected'] as const;

/** The resources of a usage with a limit; empty when unlimited. */
export function quotaResources(q: QuotaUsage): QuotaResource[] {
  const out: QuotaResource[] = [];
  if (q.bytes !== null) out.push({ name: 'STORAGE', usage: Math.ceil(q.usedBytes / 1024), limit: Math.floor(q.bytes / 1024) });
  if (q.messages !== null) out.push({ name: 'MESSAGE', usage: q.usedMessages, limit: q.messages });
  return out;
}

/** The user a quota root names for this session; NO [NONEXISTENT] for anything else. */
async function rootUser(s: ImapSession, root: string): Promise<User> {
  const me = s.user();
  if (root === '' || (isQuotaAdmin(me, s.login) && root.toLowerCase() === me.address.toLowerCase())) return me;
  const other = isQuotaAdmin(me, s.login) ? await s.services.store.getUser(root) : null;
  if (!other) throw new ImapNo('No such quota root', 'NONEXISTENT');
  return other;
}

function rootName(s: ImapSession, user: User): string {
  return user.id === s.user().id ? '' : user.address;
}

export const getquota = {
  name: 'GETQUOTA',
  states: AUTH,
  async run({ session: s, args }) {
    const root = args.astring('quota root');
    args.end();
    const user = await rootUser(s, root);
    const resources = quotaResources(await s.services.store.getQuota(user.id));
    if (resources.length === 0) throw new ImapNo('No quota limits on this root', 'NONEXISTENT');
    s.send(quotaResponse(rootName(s, user), resources));
  },
} as const satisfies ImapCommand;

export const getquotaroot = {
  name: 'GETQUOTAROOT',
  states: AUTH,
  async run({ session: s, args }) {
    const name = args.mailbox();
    args.end();
    const box = await requireMailbox(s, name);
    // Another user's mailbox counts against his quota, which is not this user's to see: no root (RFC 9208 4.2.2 allows none)
    const resources = box.own ? quotaResources(await s.services.store.getQuota(s.user().id)) : [];
    const roots = resources.length > 0 ? [''] : [];
    s.send(quotaRootResponse(formatMailbox(box.name, s.utf8), roots) + (roots.length > 0 ? quotaResponse('', resources) : ''));
  },
} as const satisfies ImapCommand;

export const setquota = {
  name: 'SETQUOTA',
  states: AUTH,
  async run({ session: s, args }) {
    const { root, limits } = parseSetQuota(args);
    if (!isQuotaAdmin(s.user(), s.login)) throw new ImapNo('Only the quota administrator may change quotas', 'NOPERM');
    const user = await rootUser(s, root);
    const store = s.services.store;
    // RFC 9208 4.1.3: a resource not named has no limit afterwards
    const wanted: QuotaLimits = {
      bytes: limits.STORAGE === undefined ? null : limits.STORAGE * 1024,
      messages: limits.MESSAGE ?? null,
    };
    if (wanted.bytes !== null && !Number.isSafeInteger(wanted.bytes)) throw new ImapNo('STORAGE limit too large', 'LIMIT');
    await store.setQuota(user.id, wanted);
    s.info.log.info({ user: user.address, limits: wanted, by: s.user().address }, 'quota set over IMAP');
    const resources = quotaResources(await store.getQuota(user.id));
    if (resources.length > 0) s.send(quotaResponse(rootName(s, user), resources));
  },
} as const satisfies ImapCommand;
