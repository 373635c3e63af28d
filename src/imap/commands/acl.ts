// SETACL mailbox identifier mod-rights / DELETEACL mailbox identifier / GETACL mailbox /
// LISTRIGHTS mailbox identifier / MYRIGHTS mailbox   RFC4314 3.1-3.5, responses RFC4314 3.6-3.8
//
// Identifiers are user addresses and `anyone`; the owner has every right without an entry.
// Negative rights (`-identifier`, RFC 4314 2) are not implemented: NO [CANNOT].
import { ACL_ANYONE, ALL_RIGHTS } from '../../store/types.js';
import { isStoreError } from '../../store/errors.js';
import { formatAstring, formatMailbox, formatRights, parseModRights, type ArgReader } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import type { ImapSession } from '../session.js';
import type { AccessibleMailbox } from '../mailbox-access.js';
import { requireMailbox } from './util.js';
import type { ImapCommand } from './types.js';

const AUTHED = ['authenticated', 'selected'] as const;

/** The ACL identifier argument; NO for negative rights, which this server does not keep. */
function identifier(args: ArgReader): string {
  const id = args.astring('identifier');
  if (id.startsWith('-')) throw new ImapNo('Negative rights are not supported', 'CANNOT');
  return id === ACL_ANYONE ? id : id.toLowerCase();
}

/** `mailbox SP identifier`, how SETACL, DELETEACL and LISTRIGHTS begin (RFC 4314 3). */
function mailboxAndIdentifier(args: ArgReader): { name: string; who: string } {
  const name = args.mailbox();
  args.sp('after mailbox name');
  return { name, who: identifier(args) };
}

/** The mailbox's owner address (the identifier that holds every right). */
async function ownerAddress(s: ImapSession, box: AccessibleMailbox): Promise<string> {
  return box.own ? s.user().address : ((await s.services.store.getUserById(box.userId))?.address ?? '');
}

/** Runs a store ACL change, mapping its refusals to NO with a reason. */
async function changeAcl(s: ImapSession, box: AccessibleMailbox, who: string, mode: 'set' | 'add' | 'remove', rights: string): Promise<void> {
  if (who.toLowerCase() === (await ownerAddress(s, box)).toLowerCase()) throw new ImapNo('The owner always has every right', 'CANNOT');
  try {
    await s.services.store.setAcl({ mailboxId: box.id, identifier: who, mode, rights });
  } catch (err) {
    if (isStoreError(err, 'notfound')) throw new ImapNo(`No user ${who.slice(0, 80)}`, 'NONEXISTENT');
    if (isStoreError(err, 'invalid')) throw new ImapNo('Not a user address or "anyone"', 'CANNOT');
    throw err;
  }
}

export const setacl = {
  name: 'SETACL',
  states: AUTHED,
  async run({ session: s, args }) {
    const { name, who } = mailboxAndIdentifier(args);
    args.sp('after identifier');
    const change = parseModRights(args.astring('rights'));
    args.end();
    const box = await requireMailbox(s, name, 'NONEXISTENT', 'a'); // RFC 4314 4: SETACL needs a
    await changeAcl(s, box, who, change.mode, change.rights);
  },
} as const satisfies ImapCommand;

export const deleteacl = {
  name: 'DELETEACL',
  states: AUTHED,
  async run({ session: s, args }) {
    const { name, who } = mailboxAndIdentifier(args);
    args.end();
    const box = await requireMailbox(s, name, 'NONEXISTENT', 'a');
    await changeAcl(s, box, who, 'remove', ALL_RIGHTS);
  },
} as const satisfies ImapCommand;

export const getacl = {
  name: 'GETACL',
  states: AUTHED,
  async run({ session: s, args }) {
    const name = args.mailbox();
    args.end();
    const box = await requireMailbox(s, name, 'NONEXISTENT', 'a');
    const entries = [{ grantee: await ownerAddress(s, box), rights: ALL_RIGHTS }, ...(await s.services.store.getAcl(box.id))];
    const pairs = entries.map((e) => `${formatAstring(e.grantee, s.utf8)} ${formatRights(e.rights)}`);
    s.send(`* ACL ${formatMailbox(box.name, s.utf8)} ${pairs.join(' ')}\r\n`); // RFC 4314 3.6
  },
} as const satisfies ImapCommand;

export const listrights = {
  name: 'LISTRIGHTS',
  states: AUTHED,
  async run({ session: s, args }) {
    const { name, who } = mailboxAndIdentifier(args);
    args.end();
    const box = await requireMailbox(s, name, 'NONEXISTENT', 'a');
    const owner = who.toLowerCase() === (await ownerAddress(s, box)).toLowerCase();
    // RFC 4314 3.7: the owner's rights are all required; anyone else may get each right on its own
    const rights = owner ? formatRights(ALL_RIGHTS) : `"" ${[...ALL_RIGHTS].join(' ')}`;
    s.send(`* LISTRIGHTS ${formatMailbox(box.name, s.utf8)} ${formatAstring(who, s.utf8)} ${rights}\r\n`);
  },
} as const satisfies ImapCommand;

export const myrights = {
  name: 'MYRIGHTS',
  states: AUTHED,
  async run({ session: s, args }) {
    const name = args.mailbox();
    args.end();
    const box = await requireMailbox(s, name); // RFC 4314 4: any right will do; without l or r it does not exist
    s.send(myRightsLine(s, box));
  },
} as const satisfies ImapCommand;

/** `* MYRIGHTS mailbox rights` (RFC 4314 3.8), also after LIST ... RETURN (MYRIGHTS) (RFC 8440). */
export function myRightsLine(s: ImapSession, box: { name: string; rights: string }): string {
  return `* MYRIGHTS ${formatMailbox(box.name, s.utf8)} ${formatRights(box.rights)}\r\n`;
}
