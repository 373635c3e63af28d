/**
 * `mailroom store copy --from sqlite:DIR --to postgres://…` (and the reverse): moves a
 * whole installation with UIDs, UIDVALIDITY and MODSEQs unchanged, so clients need not
 * resync. Stop the servers on both sides first. A progress bar goes to stderr.
 */
import type { Command } from 'commander';
import type { Store } from '../store/types.js';
import { reportError } from './context.js';

/** One line, redrawn in place on a terminal; a line per phase otherwise (logs, tests). */
function progressBar(out: NodeJS.WriteStream = process.stderr): (phase: string, done: number, total: number) => void {
  let lastPhase = '';
  let lastDraw = 0;
  return (phase, done, total) => {
    const now = Date.now();
    const finished = done >= total;
    if (phase === lastPhase && !finished && now - lastDraw < 100) return;
    lastDraw = now;
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const line = `${phase.padEnd(16)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
    if (out.isTTY) out.write(`\r${line}${finished ? '\n' : ''}`);
    else if (finished) out.write(`${line}\n`);
    lastPhase = phase;
  };
}

/** Hides the password of a database URL in messages. */
function redact(spec: string): string {
  return spec.replace(/^(postgres(?:ql)?:\/\/[^:/@]+:)[^@]*@/i, '$1***@');
}

export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('whole-installation operations on the mail store');
  store
    .command('copy')
    .description('copy everything from one store to another (sqlite:DIR or postgres://…), keeping UIDs, UIDVALIDITY and MODSEQs')
    .requiredOption('--from <location>', 'source: sqlite:DIR (a data directory) or postgres://user@host/db')
    .requiredOption('--to <location>', 'target: sqlite:DIR or postgres://user@host/db')
    .option('--force', 'replace whatever the target holds')
    .action(async (opts: { from: string; to: string; force?: boolean }) => {
      let from: Store | undefined;
      let to: Store | undefined;
      try {
        const { copyStore, openLocation } = await import('../store/copy.js'); // both drivers: only for this command
        from = await openLocation(opts.from);
        to = await openLocation(opts.to);
        const summary = await copyStore(from, to, { force: opts.force, progress: progressBar() });
        const messages = summary.rows.messages ?? 0;
        console.log(`copied ${summary.rows.users ?? 0} users, ${summary.rows.mailboxes ?? 0} mailboxes, ${messages} messages, ${summary.blobs} blobs from ${redact(opts.from)} to ${redact(opts.to)}`);
      } catch (err) {
        process.exitCode = reportError(err);
      } finally {
        await from?.close();
        await to?.close();
      }
    });
}
