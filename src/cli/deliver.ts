/**
 * `mailroom deliver --to ADDR [--to ADDR …] [--from SENDER] [FILE|-]`: delivery of one
 * message, as an MDA would: into the INBOX of each local user, and through the
 * outbound queue to alias targets on other servers (src/mail/forward.ts decides the
 * envelope sender). The running server's queue worker sends what was queued.
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { MessageSource } from '../mail/message-source.js';
import { deliver } from '../mail/delivery.js';
import { deliveryContext } from '../mail/delivery-context.js';
import { forwardRemote } from '../mail/forward.js';
import { CliError, globalOptions, runWithStore } from './context.js';

export function registerDeliverCommand(program: Command): void {
  program
    .command('deliver [file]')
    .description('deliver a message (from FILE, or stdin when FILE is - or missing) to each recipient: local INBOXes, remote alias targets through the queue')
    .requiredOption('--to <address>', 'recipient (repeat for several)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--from <address>', 'envelope sender, used for bounces of forwarded copies (default: postmaster of the forwarding domain)')
    .action((file: string | undefined, opts: { to: string[]; from?: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store, config }) => {
        const ctx = deliveryContext(store, config);
        // The bytes are read twice (local copies, then the queue): stdin is spooled once; a FILE is read where it is.
        const source = file && file !== '-' ? await fromFile(file) : await MessageSource.fromStream(process.stdin, ctx.ingest.spoolDir, { prefix: 'deliver' });
        try {
          const outcomes = await deliver(ctx, source, opts.to);
          let failed = 0;
          for (const o of outcomes) {
            if (o.status !== 'delivered') {
              failed++;
              console.error(`not delivered to ${o.recipient}: ${o.reason}`);
              continue;
            }
            const where = o.copies.map((c) => `${c.user} uid ${c.uid}`).join(', ');
            let forwarded = '';
            if (o.remote.length) {
              try {
                const id = await forwardRemote({ store, config }, source, opts.from ?? null, o.remote, { via: o.recipient });
                forwarded = `${where ? '; ' : ''}forwarded to ${o.remote.join(', ')} (queued as ${id})`;
              } catch (err) {
                // The local copies are stored already: report the forward on its own line, exit 1.
                failed++;
                console.error(`not forwarded to ${o.remote.join(', ')}: ${(err as Error).message}`);
              }
            }
            console.log(`delivered to ${o.recipient}${where || forwarded ? ': ' : ''}${where}${forwarded}`);
          }
          if (failed > 0) process.exitCode = 1;
        } finally {
          await source.dispose(); // removes the stdin spool; a FILE is not ours and stays
        }
      }),
    );
}

/** The user's file, read where it is (never linked into the blob store: it may change later). */
async function fromFile(path: string): Promise<MessageSource> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a file');
    return MessageSource.fromFile(path, st.size);
  } catch {
    throw new CliError(`cannot read ${path}`);
  }
}
