/** `mailroom quota set|show`: storage and message-count limits per user. */
import type { Command } from 'commander';
import { requireUser } from '../mail/accounts.js';
import { formatSize, parseCount, parseSize } from './sizes.js';
import { CliError, globalOptions, runWithStore } from './context.js';

export function registerQuotaCommands(program: Command): void {
  const quota = program.command('quota').description('storage and message-count limits');

  quota
    .command('set <address>')
    .description('set limits (e.g. --storage 2G --messages 100000; "unlimited" removes a limit)')
    .option('--storage <size>', 'storage limit: 500M, 2G, bytes, or unlimited')
    .option('--messages <count>', 'message-count limit, or unlimited')
    .action((address: string, opts: { storage?: string; messages?: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        if (opts.storage === undefined && opts.messages === undefined) throw new CliError('give --storage and/or --messages');
        const user = await requireUser(store, address);
        const current = await store.getQuota(user.id);
        const limits = {
          bytes: opts.storage === undefined ? current.bytes : parse(() => parseSize(opts.storage!)),
          messages: opts.messages === undefined ? current.messages : parse(() => parseCount(opts.messages!)),
        };
        await store.setQuota(user.id, limits);
        console.log(`quota for ${user.address}: storage ${formatSize(limits.bytes)}, messages ${limits.messages ?? 'unlimited'}`);
      }),
    );

  quota
    .command('show <address>')
    .description('show limits and current use')
    .action((address: string, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const user = await requireUser(store, address);
        const q = await store.getQuota(user.id);
        console.log(`storage\t${q.usedBytes}\t${q.bytes ?? 'unlimited'}\t(${formatSize(q.usedBytes)} of ${formatSize(q.bytes)})`);
        console.log(`messages\t${q.usedMessages}\t${q.messages ?? 'unlimited'}`);
      }),
    );
}

function parse<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
