/** `mailroom mailbox list --user ADDR` */
import type { Command } from 'commander';
import { requireUser } from '../mail/accounts.js';
import { globalOptions, runWithStore } from './context.js';

export function registerMailboxCommands(program: Command): void {
  const mailbox = program.command('mailbox').description("inspect a user's mailboxes");
  mailbox
    .command('list')
    .description('list mailboxes with message counts, sizes and special use')
    .requiredOption('--user <address>', 'the user')
    .action((opts: { user: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const user = await requireUser(store, opts.user);
        const subscribed = new Set(await store.listSubscriptions(user.id));
        for (const m of await store.listMailboxes(user.id)) {
          const flags = [m.specialUse ?? '', subscribed.has(m.name) ? 'subscribed' : ''].filter(Boolean).join(' ');
          console.log(`${m.name}\t${m.messageCount} messages\t${m.totalSize} bytes\tuidvalidity=${m.uidValidity} uidnext=${m.uidNext}${flags ? `\t${flags}` : ''}`);
        }
      }),
    );
}
