/**
 * `mailroom deleted list --user ADDR [--since DATE]`
 * `mailroom deleted restore --user ADDR (--all | ID...)`
 * `mailroom deleted purge [--now DATE]`
 *
 * A message's ID is its UID in the user's Recently Deleted mailbox (what an IMAP client
 * sees there too). The rules live in the store (src/store/core/deleted.ts).
 */
import type { Command } from 'commander';
import { requireUser } from '../mail/accounts.js';
import { purgeCutoff } from '../mail/recently-deleted.js';
import { headerToText } from '../mime/decode.js';
import type { Uid } from '../store/types.js';
import { CliError, globalOptions, runWithStore } from './context.js';

function parseDate(text: string, what: string): Date {
  // A plain day is midnight UTC; anything else Date understands (ISO 8601 with a time and zone).
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime())) throw new CliError(`${what}: not a date: ${text} (use YYYY-MM-DD or an ISO 8601 time)`);
  return d;
}

function parseIds(ids: string[]): Uid[] {
  return ids.map((id) => {
    if (!/^[1-9]\d{0,9}$/.test(id)) throw new CliError(`not a message ID: ${id} (IDs are the numbers shown by "mailroom deleted list")`);
    return Number(id) as Uid;
  });
}

/** One line per field set, tabs between: easy to read and to cut. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\t\r\n\u0000-\u001f]+/g, ' ');
}

export function registerDeletedCommands(program: Command): void {
  const deleted = program.command('deleted').description("a user's Recently Deleted mail: list, restore, purge");
  deleted
    .command('list')
    .description('list kept deleted messages: ID, when, from which mailbox, how (protocol), by whom, size, subject')
    .requiredOption('--user <address>', 'the user')
    .option('--since <date>', 'only those deleted at or after this date (YYYY-MM-DD or ISO 8601)')
    .action((opts: { user: string; since?: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const since = opts.since === undefined ? undefined : parseDate(opts.since, '--since');
        const user = await requireUser(store, opts.user);
        const list = await store.listDeleted(user.id, since);
        const indexes = await store.getIndexes(list.map((d) => d.row.contentId));
        console.log(['ID', 'DELETED', 'MAILBOX', 'VIA', 'BY', 'SIZE', 'SUBJECT'].join('\t'));
        for (const d of list) {
          const subject = indexes.get(d.row.contentId)?.index.envelope.subject;
          const fields = [String(d.row.uid), d.deletedAt.toISOString(), d.fromMailboxName, d.protocol, d.actor || '-', String(d.row.size), subject ? headerToText(subject) : ''];
          console.log(fields.map(clean).join('\t'));
        }
      }),
    );
  deleted
    .command('restore')
    .description('put kept deleted messages back where they came from (else INBOX), with their flags')
    .requiredOption('--user <address>', 'the user')
    .option('--all', 'every kept message of the user')
    .option('--to <mailbox>', 'restore into this mailbox instead')
    .argument('[ids...]', 'IDs from "mailroom deleted list"')
    .action((ids: string[], opts: { user: string; all?: boolean; to?: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        if (opts.all === true && ids.length > 0) throw new CliError('give either --all or IDs, not both');
        if (opts.all !== true && ids.length === 0) throw new CliError('give --all or the IDs of the messages to restore');
        const uids = opts.all === true ? null : parseIds(ids);
        const user = await requireUser(store, opts.user);
        let to: number | undefined;
        if (opts.to !== undefined) {
          const box = await store.getMailbox(user.id, opts.to);
          if (!box) throw new CliError(`no mailbox ${opts.to} for ${user.address}`);
          to = box.id;
        }
        const restored = await store.restoreDeleted(user.id, uids, to);
        const names = new Map((await store.listMailboxes(user.id)).map((b) => [b.id, b.name]));
        for (const r of restored) console.log(`${r.from}\trestored to ${names.get(r.mailboxId) ?? r.mailboxId}\tuid ${r.to}`);
        const missing = uids === null ? [] : uids.filter((u) => !restored.some((r) => r.from === u));
        if (missing.length > 0) throw new CliError(`not in Recently Deleted: ${missing.join(' ')}`);
        if (restored.length === 0) console.log('nothing to restore');
      }),
    );
  deleted
    .command('purge')
    .description('remove kept deleted mail older than retention.deleted_days now (the server also does this by itself)')
    .option('--now <date>', 'pretend it is this time (to see what a later purge will remove)')
    .action((opts: { now?: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store, config }) => {
        const now = opts.now === undefined ? new Date() : parseDate(opts.now, '--now');
        let total = 0;
        for (let n = -1; n !== 0; total += n) n = await store.purgeDeleted(purgeCutoff(config.retention.deleted_days, now), 1000);
        console.log(`purged ${total} messages`);
      }),
    );
}
