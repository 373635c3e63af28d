/**
 * `mailroom quota set|show|check`: storage and message-count limits per user, and the
 * recount of the counters from the messages. `mailroom usage`: what the mail takes on disk.
 */
import type { Command } from 'commander';
import { requireUser } from '../mail/accounts.js';
import { drifted } from '../mail/quota-check-job.js';
import type { QuotaCheck, Store } from '../store/types.js';
import { formatSize, parseCount, parseSize } from './sizes.js';
import { CliError, globalOptions, runWithStore } from './context.js';

export function registerQuotaCommands(program: Command): void {
  const quota = program.command('quota').description('storage and message-count limits');
  registerQuotaCheck(quota);

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

async function checks(store: Store, address: string | undefined, fix: boolean): Promise<QuotaCheck[]> {
  if (address !== undefined) return [await store.checkQuota((await requireUser(store, address)).id, fix)];
  const out = [];
  for (const u of await store.listUsers()) out.push(await store.checkQuota(u.id, fix));
  return out;
}

function registerQuotaCheck(quota: Command): void {
  quota
    .command('check')
    .description('recount usage from the messages and compare with the quota counters (exit 1 when they drifted and --fix was not given)')
    .option('--user <address>', 'only this user')
    .option('--fix', 'set drifted counters to the recount')
    .action((opts: { user?: string; fix?: boolean }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const results = await checks(store, opts.user, opts.fix === true);
        console.log(['USER', 'BYTES', 'RECOUNTED', 'MESSAGES', 'RECOUNTED', 'STATE'].join('\t'));
        for (const c of results) {
          const state = c.fixed ? 'fixed' : drifted(c) ? 'drifted' : 'ok';
          console.log([c.address, c.recorded.bytes, c.actual.bytes, c.recorded.messages, c.actual.messages, state].join('\t'));
        }
        const bad = results.filter(drifted).length;
        const fixed = results.filter((c) => c.fixed).length;
        console.log(`${results.length} checked, ${bad} drifted${fixed > 0 ? `, ${fixed} fixed` : ''}`);
        if (bad > fixed) process.exitCode = 1;
      }),
    );
}

export function registerUsageCommand(program: Command): void {
  program
    .command('usage')
    .description("what mail takes: logical size, stored size, saved by deduplication and by compression (all users, or one)")
    .option('--user <address>', 'only this user (blobs shared with others count in full)')
    .action((opts: { user?: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const userId = opts.user === undefined ? null : (await requireUser(store, opts.user)).id;
        const u = await store.usage(userId);
        const line = (label: string, n: number) => console.log(`${label}\t${n}\t${formatSize(n)}`);
        console.log(`messages\t${u.messages}`);
        line('logical', u.logicalBytes);
        line('stored', u.storedBytes);
        line('saved-by-dedup', u.logicalBytes - u.uniqueBytes);
        line('saved-by-compression', u.uniqueBytes - u.storedBytes);
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
