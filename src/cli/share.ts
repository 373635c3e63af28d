/**
 * `mailroom share add OWNER MAILBOX GRANTEE RIGHTS`, `share list OWNER [MAILBOX]`,
 * `share del OWNER MAILBOX GRANTEE`: mailbox sharing between accounts (RFC 4314 ACLs,
 * store/core/acl.ts). GRANTEE is a user's address or `anyone`; RIGHTS are letters of
 * `lrswipkxtean` (`+…`/`-…` change the grantee's current rights). The grantee sees the
 * mailbox over IMAP as `Other Users/OWNER/MAILBOX` (`Shared/OWNER/MAILBOX` for `anyone`).
 */
import type { Command } from 'commander';
import { requireUser } from '../mail/accounts.js';
import { ACL_ANYONE, ALL_RIGHTS, type Mailbox, type Store, type User } from '../store/types.js';
import { CliError, globalOptions, runWithStore } from './context.js';

async function requireBox(store: Store, owner: User, name: string): Promise<Mailbox> {
  const box = await store.getMailbox(owner.id, name);
  if (!box) throw new CliError(`${owner.address} has no mailbox ${name}`);
  return box;
}

function grantee(text: string): string {
  return text.toLowerCase() === ACL_ANYONE ? ACL_ANYONE : text;
}

function change(rights: string): { mode: 'set' | 'add' | 'remove'; rights: string } {
  const mode = rights.startsWith('+') ? 'add' : rights.startsWith('-') ? 'remove' : 'set';
  const letters = mode === 'set' ? rights : rights.slice(1);
  const bad = [...letters].find((c) => !ALL_RIGHTS.includes(c));
  if (bad !== undefined || letters === '') throw new CliError(`rights are letters of ${ALL_RIGHTS} (optionally after + or -), e.g. lr or +s`);
  return { mode, rights: letters };
}

export function registerShareCommands(program: Command): void {
  const share = program.command('share').description('share mailboxes between accounts (RFC 4314 ACL): add, list, del');
  share
    .command('add <owner> <mailbox> <grantee> <rights>')
    .description(`give GRANTEE (an address, or "anyone") RIGHTS on OWNER's MAILBOX; rights: ${ALL_RIGHTS} (l list, r read, s keep seen, w flags, i insert, p post, k create, x delete mailbox, t delete messages, e expunge, a administer, n shared annotations); +RIGHTS / -RIGHTS change them`)
    .action((owner: string, mailbox: string, who: string, rights: string, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const user = await requireUser(store, owner);
        const box = await requireBox(store, user, mailbox);
        const now = await store.setAcl({ mailboxId: box.id, identifier: grantee(who), ...change(rights) });
        console.log(`${user.address} ${box.name}: ${grantee(who)} ${now === '' ? 'has no rights now' : now}`);
      }),
    );
  share
    .command('list <owner> [mailbox]')
    .description("OWNER's shared mailboxes (or one mailbox) with each grantee's rights, and what others share with OWNER")
    .action((owner: string, mailbox: string | undefined, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const user = await requireUser(store, owner);
        const boxes = mailbox === undefined ? await store.listMailboxes(user.id) : [await requireBox(store, user, mailbox)];
        for (const box of boxes) for (const e of await store.getAcl(box.id)) console.log(`${box.name}\t${e.grantee}\t${e.rights}`);
        if (mailbox !== undefined) return;
        for (const m of await store.sharedWith(user.id)) console.log(`(shared with ${user.address})\t${m.owner}/${m.name}\t${m.rights}`);
      }),
    );
  share
    .command('del <owner> <mailbox> <grantee>')
    .description("take every right on OWNER's MAILBOX from GRANTEE")
    .action((owner: string, mailbox: string, who: string, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const user = await requireUser(store, owner);
        const box = await requireBox(store, user, mailbox);
        if (!(await store.getAcl(box.id)).some((e) => e.grantee.toLowerCase() === grantee(who).toLowerCase())) throw new CliError(`${box.name} is not shared with ${who}`);
        await store.setAcl({ mailboxId: box.id, identifier: grantee(who), mode: 'remove', rights: ALL_RIGHTS });
        console.log(`${user.address} ${box.name}: no longer shared with ${grantee(who)}`);
      }),
    );
}
