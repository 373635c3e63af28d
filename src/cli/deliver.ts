/**
 * `mailroom deliver --to ADDR [--to ADDR …] [--from SENDER] [FILE|-]`: delivery of one
 * message, as an MDA would: into the INBOX of each local user, and through the
 * outbound queue to alias targets on other servers (src/mail/forward.ts decides the
 * envelope sender). The running server's queue worker sends what was queued.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
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
        // The bytes are read twice (local copies, then the queue): stdin is spooled to a file first.
        const path = file && file !== '-' ? await readable(file) : await spoolStdin(ctx.ingest.spoolDir);
        try {
          const outcomes = await deliver(ctx, createReadStream(path), opts.to);
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
                const id = await forwardRemote({ store, config }, createReadStream(path), opts.from ?? null, o.remote, { via: o.recipient });
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
          if (path !== file) await rm(path, { force: true });
        }
      }),
    );
}

async function readable(path: string): Promise<string> {
  try {
    await access(path);
  } catch {
    throw new CliError(`cannot read ${path}`);
  }
  return path;
}

async function spoolStdin(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `deliver-${process.pid}-${randomBytes(6).toString('hex')}.eml`);
  await pipeline(process.stdin, createWriteStream(path));
  return path;
}
