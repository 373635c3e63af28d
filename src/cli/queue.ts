/** `mailroom queue list|show ID|retry ID|delete ID`: look at and steer the outbound queue. */
import type { Command } from 'commander';
import type { QueueEntry } from '../store/types.js';
import { CliError, globalOptions, runWithStore } from './context.js';

const sender = (e: QueueEntry) => (e.from === '' ? '<>' : e.from);

export function registerQueueCommands(program: Command): void {
  const queue = program.command('queue').description('outbound queue: list, show, retry or delete queued messages');
  queue
    .command('list')
    .description('one line per queued message: id, size, age, sender, pending/total recipients, next attempt')
    .action((_o: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const entries = await store.listQueueEntries();
        if (entries.length === 0) console.log('queue is empty');
        for (const e of entries) {
          const pending = e.recipients.filter((r) => r.state === 'pending').length;
          console.log(`${e.id}  ${e.size}B  ${e.createdAt.toISOString()}  ${sender(e)}  ${pending}/${e.recipients.length} pending  next ${e.nextAttemptAt.toISOString()}${e.lastError ? `  last: ${e.lastError}` : ''}`);
        }
      }),
    );
  queue
    .command('show <id>')
    .description('envelope, attempts and per-recipient state of one queued message')
    .action((id: string, _o: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const e = await store.getQueueEntry(id);
        if (!e) throw new CliError(`no queued message ${id}`);
        console.log(`id: ${e.id}\nfrom: ${sender(e)}\nsize: ${e.size}\nqueued: ${e.createdAt.toISOString()}\nattempts: ${e.attempts}\nnext attempt: ${e.nextAttemptAt.toISOString()}`);
        if (Object.keys(e.params).length) console.log(`params: ${JSON.stringify(e.params)}`);
        if (e.lease) console.log(`being delivered by ${e.lease.owner} (lease until ${e.lease.until.toISOString()})`);
        for (const r of e.recipients) console.log(`rcpt ${r.address}: ${r.state}${r.status ? ` ${r.status}` : ''}${r.remoteMta ? ` via ${r.remoteMta}` : ''}${r.lastResult ? `: ${r.lastResult}` : ''}${r.dsnPending ? ' (DSN owed to the sender)' : ''}`);
      }),
    );
  queue
    .command('retry <id>')
    .description('try the message again now (the running server picks it up within queue.poll_ms)')
    .action((id: string, _o: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        if (!(await store.retryQueueEntry(id, new Date()))) throw new CliError(`no queued message ${id}`);
        console.log(`${id} will be retried now`);
      }),
    );
  queue
    .command('delete <id>')
    .description('remove the message from the queue without a bounce')
    .action((id: string, _o: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        if (!(await store.deleteQueueEntry(id))) throw new CliError(`no queued message ${id}`);
        console.log(`${id} deleted`);
      }),
    );
}
