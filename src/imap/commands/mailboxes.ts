// CREATE mailbox [(USE (attrs))] / DELETE mailbox / RENAME existing new / SUBSCRIBE / UNSUBSCRIBE
//   RFC9051 6.3.4-6.3.8, RFC3501 6.3.3-6.3.7, RFC6154 3 (CREATE-SPECIAL-USE)
import { codes, isUndecodableName, normalizeMailboxName, parseCreateParams } from '../protocol/index.js';
import { isStoreError } from '../../store/errors.js';
import { ImapNo } from '../errors.js';
import { checkNewName, mailboxObjectId, refuseRecentlyDeleted, requireMailbox, shown } from './util.js';
import { isSharedNamespaceName, OTHER_USERS, parentName, resolveMailbox, SHARED, splitSharedName, type AccessibleMailbox } from '../mailbox-access.js';
import { actorOf, deletedBy } from '../../mail/recently-deleted.js';
import type { SpecialUse } from '../../store/types.js';
import type { ImapSession } from '../session.js';
import type { ImapCommand } from './types.js';

const AUTHED = ['authenticated', 'selected'] as const;

/**
 * Special uses CREATE may give: real mailboxes only. \All and \Flagged would promise a
 * virtual mailbox Mailroom does not keep.
 */
const CREATABLE_USES: readonly SpecialUse[] = ['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive'];

/** The one special use CREATE (USE (...)) asks for, or NO [USEATTR] (RFC 6154 3) before anything is created. */
async function specialUseFor(s: ImapSession, use: string[]): Promise<SpecialUse | null> {
  if (use.length === 0) return null;
  if (use.length > 1) throw new ImapNo('Only one special use per mailbox', 'USEATTR');
  const attr = CREATABLE_USES.find((u) => u.toLowerCase() === use[0].toLowerCase());
  if (!attr) throw new ImapNo(`Special use ${shown(use[0])} is not supported; one of ${CREATABLE_USES.join(' ')}`, 'USEATTR');
  const holder = (await s.services.store.listMailboxes(s.user().id)).find((b) => b.specialUse === attr);
  if (holder) throw new ImapNo(`${attr} is already the special use of ${shown(holder.name)}`, 'USEATTR');
  return attr;
}

/** Recently Deleted has no inferiors (LIST shows \Noinferiors): NO [CANNOT] for a name under it. */
async function refuseUnderRecentlyDeleted(s: ImapSession, name: string): Promise<void> {
  const levels = name.split('/');
  for (let i = 1; i < levels.length; i++) refuseRecentlyDeleted(await s.services.store.getMailbox(s.user().id, levels.slice(0, i).join('/')), 'CREATE');
}

/** The existing parent of a new name in a shared namespace on which the user holds k (RFC 4314 4); NO otherwise, alike for a hidden parent and none. */
async function childParent(s: ImapSession, name: string): Promise<AccessibleMailbox> {
  // The namespace roots and the level of owners' addresses name no mailbox anyone can make
  if (name === OTHER_USERS || name === SHARED || splitSharedName(name)?.rest === '') {
    throw new ImapNo(`${shown(name)} is a level of the shared namespaces (see NAMESPACE), not a mailbox name; choose another name`, 'CANNOT');
  }
  const parent = await resolveMailbox(s, parentName(name));
  if (!parent || !parent.rights.includes('k')) throw new ImapNo('Permission denied: the "k" right on the parent mailbox is needed', 'NOPERM');
  return parent;
}

/** RENAME of another user's mailbox: within his account, x on it (checked) and k on the new parent. */
async function renameShared(s: ImapSession, box: AccessibleMailbox, to: string): Promise<void> {
  if (box.path === 'INBOX') throw new ImapNo("Another user's INBOX cannot be renamed", 'CANNOT');
  const parent = await childParent(s, to);
  if (parent.userId !== box.userId) throw new ImapNo('A mailbox cannot move between accounts', 'CANNOT');
  const target = `${parent.path}/${to.slice(to.lastIndexOf('/') + 1)}`;
  if (target.toLowerCase().startsWith(`${box.path.toLowerCase()}/`)) throw new ImapNo('Cannot rename a mailbox into itself', 'CANNOT');
  if (await s.services.store.getMailbox(box.userId, target)) throw new ImapNo(`Mailbox already exists: ${shown(to)}`, 'ALREADYEXISTS');
  await s.services.store.renameMailbox(box.userId, box.path, target);
}

export const create = {
  name: 'CREATE',
  states: AUTHED,
  async run({ session: s, args }) {
    const name = checkNewName(args.mailbox());
    const params = parseCreateParams(args);
    args.end();
    if (name === 'INBOX') throw new ImapNo('INBOX always exists', 'ALREADYEXISTS');
    const store = s.services.store;
    const user = s.user();
    if (isSharedNamespaceName(name)) {
      if (params.use.length > 0) throw new ImapNo('Special use is for your own mailboxes', 'USEATTR');
      // RFC 4314 4: CREATE in another user's hierarchy needs k on the parent; the owner's quota pays
      const parent = await childParent(s, name);
      const leaf = name.slice(name.lastIndexOf('/') + 1);
      if (await store.getMailbox(parent.userId, `${parent.path}/${leaf}`)) throw new ImapNo(`Mailbox already exists: ${shown(name)}`, 'ALREADYEXISTS');
      const box = await store.createMailbox(parent.userId, `${parent.path}/${leaf}`);
      return { code: codes.mailboxId(mailboxObjectId(box)) };
    }
    if (await store.getMailbox(user.id, name)) throw new ImapNo(`Mailbox already exists: ${shown(name)}`, 'ALREADYEXISTS');
    await refuseUnderRecentlyDeleted(s, name);
    const specialUse = await specialUseFor(s, params.use);
    // RFC 9051 6.3.4: superior names needed for the new name are created too
    const levels = name.split('/');
    for (let i = 1; i < levels.length; i++) {
      const parent = levels.slice(0, i).join('/');
      if (!(await store.getMailbox(user.id, parent))) await store.createMailbox(user.id, parent).catch((e) => {
        if (!isStoreError(e, 'exists')) throw e;
      });
    }
    const box = await store.createMailbox(user.id, name, specialUse);
    return { code: codes.mailboxId(mailboxObjectId(box)) }; // RFC 8474 4.1: MUST in the tagged OK of CREATE
  },
} as const satisfies ImapCommand;

export const del = {
  name: 'DELETE',
  states: AUTHED,
  async run({ session: s, args }) {
    const name = normalizeMailboxName(args.mailbox());
    args.end();
    if (name === 'INBOX') throw new ImapNo('INBOX cannot be deleted', 'CANNOT'); // RFC 9051 6.3.5 MUST
    const box = await requireMailbox(s, name, 'NONEXISTENT', 'x'); // RFC 4314 4
    if (!box.own && box.path === 'INBOX') throw new ImapNo('INBOX cannot be deleted', 'CANNOT');
    refuseRecentlyDeleted(box, 'DELETE');
    // Its messages go to Recently Deleted like an expunge (when retention keeps deleted mail)
    await s.services.store.deleteMailbox(box.userId, box.path, deletedBy('imap', actorOf(s.user().address, s.login)));
    if (s.state.kind === 'selected' && s.state.view.mailboxId === box.id) s.state = { kind: 'authenticated', user: s.state.user };
  },
} as const satisfies ImapCommand;

export const rename = {
  name: 'RENAME',
  states: AUTHED,
  async run({ session: s, args }) {
    const from = normalizeMailboxName(args.mailbox());
    args.sp('after existing mailbox name');
    const to = checkNewName(args.mailbox());
    args.end();
    const store = s.services.store;
    const user = s.user();
    const box = await requireMailbox(s, from, 'NONEXISTENT', 'x'); // RFC 4314 4: x on the old name, k on the new parent
    if (!box.own) return renameShared(s, box, to);
    if (isSharedNamespaceName(to) && !(await resolveMailbox(s, parentName(to)))?.own) throw new ImapNo('A mailbox cannot move between accounts', 'CANNOT');
    refuseRecentlyDeleted(box, 'RENAME');
    await refuseUnderRecentlyDeleted(s, to);
    if (to === 'INBOX' || (await store.getMailbox(user.id, to))) throw new ImapNo(`Mailbox already exists: ${shown(to)}`, 'ALREADYEXISTS');
    if (to.toLowerCase().startsWith(`${box.name.toLowerCase()}/`)) throw new ImapNo('Cannot rename a mailbox into itself', 'CANNOT');
    if (box.name !== 'INBOX') {
      await store.renameMailbox(user.id, box.name, to); // children move along (RFC 9051 6.3.6)
      return;
    }
    // RFC 9051 6.3.6: renaming INBOX moves its messages into a new mailbox; INBOX stays, empty
    const target = await store.createMailbox(user.id, to);
    const rows = await store.listMessages(box.id, user.id);
    if (rows.length > 0) await store.moveMessages(box.id, rows.map((r) => r.uid), target.id);
  },
} as const satisfies ImapCommand;

export const subscribe = {
  name: 'SUBSCRIBE',
  states: AUTHED,
  async run({ session: s, args }) {
    const name = normalizeMailboxName(args.mailbox());
    args.end();
    if (isUndecodableName(name)) throw new ImapNo('Mailbox name is not valid modified UTF-7', 'CANNOT'); // RFC 3501 5.1.3
    // RFC 9051 6.3.7 lets a server check: another user's mailbox only once he can see it, so no name probes his
    if (isSharedNamespaceName(name) && !(await resolveMailbox(s, name))) throw new ImapNo(`Mailbox does not exist: ${shown(name)}`, 'NONEXISTENT');
    await s.services.store.setSubscribed(s.user().id, name, true);
  },
} as const satisfies ImapCommand;

export const unsubscribe = {
  name: 'UNSUBSCRIBE',
  states: AUTHED,
  async run({ session: s, args }) {
    const name = normalizeMailboxName(args.mailbox());
    args.end();
    if (isUndecodableName(name)) throw new ImapNo('Not subscribed: the name is not valid modified UTF-7', 'NONEXISTENT'); // it cannot have been subscribed
    await s.services.store.setSubscribed(s.user().id, name, false); // RFC 9051 6.3.8: also for names that no longer exist
  },
} as const satisfies ImapCommand;
