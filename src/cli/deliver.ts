/** `mailroom deliver --to ADDR [--to ADDR …] [FILE|-]`: local delivery of one message, as an MDA would. */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Command } from 'commander';
import { deliver } from '../mail/delivery.js';
import { deliveryContext } from '../mail/delivery-context.js';
import { CliError, globalOptions, runWithStore } from './context.js';

export function registerDeliverCommand(program: Command): void {
  program
    .command('deliver [file]')
    .description('deliver a message (from FILE, or stdin when FILE is - or missing) into the INBOX of each recipient')
    .requiredOption('--to <address>', 'recipient (repeat for several)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action((file: string | undefined, opts: { to: string[] }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store, config }) => {
        const source = file && file !== '-' ? await openFile(file) : process.stdin;
        const outcomes = await deliver(deliveryContext(store, config), source, opts.to);
        let failed = 0;
        for (const o of outcomes) {
          if (o.status === 'delivered') {
            const where = o.copies.map((c) => `${c.user} uid ${c.uid}`).join(', ');
            const remote = o.remote.length ? `; not forwarded to ${o.remote.join(', ')} (no outbound queue yet)` : '';
            console.log(`delivered to ${o.recipient}${where ? `: ${where}` : ''}${remote}`);
          } else {
            failed++;
            console.error(`not delivered to ${o.recipient}: ${o.reason}`);
          }
        }
        if (failed > 0) process.exitCode = 1;
      }),
    );
}

async function openFile(path: string) {
  try {
    await access(path);
  } catch {
    throw new CliError(`cannot read ${path}`);
  }
  return createReadStream(path);
}
