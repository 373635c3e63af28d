/**
 * `mailroom vacation set ADDRESS (--message TEXT | --message-file FILE) [--subject S] [--until DATE] [--days N]`,
 * `vacation off ADDRESS`, `vacation show ADDRESS`: the per-user auto-reply (src/mail/vacation.ts).
 * Setting a vacation forgets whom the previous one answered.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { requireUser } from '../mail/accounts.js';
import { activeVacation, DEFAULT_VACATION_DAYS, VACATION_KEYS } from '../mail/vacation.js';
import { CliError, globalOptions, runWithStore } from './context.js';

interface SetOptions {
  message?: string;
  messageFile?: string;
  subject?: string;
  until?: string;
  days?: string;
}

function untilDate(text: string): Date {
  // A plain day means "back on that day": replies stop at its start, UTC.
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime())) throw new CliError(`--until: not a date: ${text} (use YYYY-MM-DD or an ISO 8601 time)`);
  return d;
}

export function registerVacationCommands(program: Command): void {
  const vacation = program.command('vacation').description('automatic "away" replies (RFC 3834), per user');
  vacation
    .command('set <address>')
    .description('answer personal mail automatically, each sender once every --days days')
    .option('--message <text>', 'the reply text')
    .option('--message-file <file>', 'the reply text from a file (UTF-8)')
    .option('--subject <text>', 'the reply subject (default "Auto: " + the original subject)')
    .option('--until <date>', 'stop replying from this day or time on')
    .option('--days <n>', `days before the same sender is answered again (default ${DEFAULT_VACATION_DAYS})`)
    .action((address: string, opts: SetOptions, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        if ((opts.message === undefined) === (opts.messageFile === undefined)) throw new CliError('give --message or --message-file');
        const message = opts.message ?? readFileSync(opts.messageFile!, 'utf8');
        if (message.trim() === '') throw new CliError('the message is empty');
        const days = opts.days === undefined ? DEFAULT_VACATION_DAYS : Number(opts.days);
        if (!Number.isInteger(days) || days < 1 || days > 365) throw new CliError('--days must be a whole number from 1 to 365');
        const until = opts.until === undefined ? null : untilDate(opts.until);
        if (until && until.getTime() <= Date.now()) throw new CliError('--until is in the past');
        const user = await requireUser(store, address);
        await store.setUserSetting(user.id, VACATION_KEYS.message, message);
        await store.setUserSetting(user.id, VACATION_KEYS.subject, opts.subject ?? null);
        await store.setUserSetting(user.id, VACATION_KEYS.until, until ? until.toISOString() : null);
        await store.setUserSetting(user.id, VACATION_KEYS.days, String(days));
        await store.clearVacationReplies(user.id);
        console.log(`${user.address}: vacation on${until ? ` until ${until.toISOString()}` : ''}, each sender answered once every ${days} day(s)`);
      }),
    );
  vacation
    .command('off <address>')
    .description('stop the automatic replies')
    .action((address: string, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const user = await requireUser(store, address);
        for (const key of Object.values(VACATION_KEYS)) await store.setUserSetting(user.id, key, null);
        console.log(`${user.address}: vacation off`);
      }),
    );
  vacation
    .command('show <address>')
    .description('whether replies are sent, until when, and the text')
    .action((address: string, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const user = await requireUser(store, address);
        const v = activeVacation(user.settings, new Date());
        if (!v) return console.log(`${user.address}: vacation off`);
        console.log(`${user.address}: vacation on${v.until ? ` until ${v.until.toISOString()}` : ''}, every ${v.days} day(s)`);
        console.log(`subject\t${v.subject ?? 'Auto: <original subject>'}`);
        console.log(v.message);
      }),
    );
}
