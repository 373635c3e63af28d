/**
 * `mailroom export --user U [--mailbox M] [--before DATE] --format mbox|maildir --out PATH`
 * `mailroom import --user U --format mbox|maildir [--mailbox M] PATH`
 *
 * Export writes the stored bytes unchanged with flags and keywords (src/mail/archive/);
 * import reads them back through the one ingest path (src/ingest.ts), with the flags and
 * the INTERNALDATE, so export → import → export gives the same bytes.
 *
 * mbox: with --mailbox, PATH is one mbox file; without, PATH is a directory holding
 * `NAME.mbox` per mailbox (`A/B` as `A/B.mbox`). maildir: PATH is a tree of maildirs
 * (src/mail/archive/maildir.ts). Recently Deleted is never exported.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ingest } from '../ingest.js';
import { requireUser } from '../mail/accounts.js';
import { deliveryContext } from '../mail/delivery-context.js';
import { MessageSource } from '../mail/message-source.js';
import { encodeMessage, parseMbox, type MailEntry } from '../mail/archive/mbox.js';
import { findMaildirs, readMaildir, writeMaildir } from '../mail/archive/maildir.js';
import { isStoreError } from '../store/errors.js';
import type { Mailbox, Store, User } from '../store/types.js';
import { CliError, globalOptions, runWithStore } from './context.js';

type Format = 'mbox' | 'maildir';

function format(text: string): Format {
  if (text !== 'mbox' && text !== 'maildir') throw new CliError(`--format: expected mbox or maildir, got ${text}`);
  return text;
}

function parseDate(text: string): Date {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime())) throw new CliError(`--before: not a date: ${text} (use YYYY-MM-DD or an ISO 8601 time)`);
  return d;
}

async function readAll(store: Store, contentId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.openContent(contentId)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The mailboxes to export: the named one, or all but Recently Deleted. */
async function exportBoxes(store: Store, user: User, name: string | undefined): Promise<Mailbox[]> {
  if (name === undefined) return (await store.listMailboxes(user.id)).filter((b) => !b.recentlyDeleted);
  const box = await store.getMailbox(user.id, name);
  if (!box) throw new CliError(`no mailbox ${name} for ${user.address}`);
  return [box];
}

async function entriesOf(store: Store, user: User, box: Mailbox, before: Date | undefined): Promise<(MailEntry & { name: string })[]> {
  const out = [];
  for (const row of await store.listMessages(box.id, user.id)) {
    if (before && row.internalDate.getTime() >= before.getTime()) continue;
    const name = `${Math.floor(row.internalDate.getTime() / 1000)}.M${box.uidValidity}U${row.uid}.mailroom,S=${row.size}`;
    out.push({ raw: await readAll(store, row.contentId), flags: row.flags, internalDate: row.internalDate, name });
  }
  return out;
}

function registerExport(program: Command): void {
  program
    .command('export')
    .description("write a user's mail to mbox or maildir, byte for byte, with flags and keywords")
    .requiredOption('--user <address>', 'the user')
    .option('--mailbox <name>', 'only this mailbox')
    .option('--before <date>', 'only messages received before this date (YYYY-MM-DD or ISO 8601)')
    .requiredOption('--format <format>', 'mbox or maildir')
    .requiredOption('--out <path>', 'mbox: a file with --mailbox, else a directory; maildir: a directory')
    .action((opts: { user: string; mailbox?: string; before?: string; format: string; out: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const fmt = format(opts.format);
        const before = opts.before === undefined ? undefined : parseDate(opts.before);
        const user = await requireUser(store, opts.user);
        let messages = 0;
        const boxes = await exportBoxes(store, user, opts.mailbox);
        for (const box of boxes) {
          const entries = await entriesOf(store, user, box, before);
          messages += entries.length;
          if (fmt === 'maildir') {
            const dropped = writeMaildir(path.join(opts.out, ...box.name.split('/')), entries);
            if (dropped.length > 0) console.error(`${box.name}: more than 26 keywords; not kept: ${dropped.join(' ')}`);
            continue;
          }
          const file = opts.mailbox !== undefined ? opts.out : path.join(opts.out, ...`${box.name}.mbox`.split('/'));
          fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
          fs.writeFileSync(file, Buffer.concat(entries.map(encodeMessage)));
        }
        console.log(`exported ${messages} messages from ${boxes.length} mailboxes to ${opts.out}`);
      }),
    );
}

/** mailbox name → entries, from PATH. */
function readSource(fmt: Format, from: string, mailbox: string | undefined): Map<string, MailEntry[]> {
  if (!fs.existsSync(from)) throw new CliError(`cannot read ${from}`);
  const out = new Map<string, MailEntry[]>();
  const add = (name: string, e: MailEntry[]) => out.set(name, [...(out.get(name) ?? []), ...e]);
  if (fmt === 'maildir') {
    const dirs = findMaildirs(from);
    if (dirs.length === 0) throw new CliError(`no maildir under ${from} (a maildir has a cur/ directory)`);
    for (const d of dirs) add(mailbox ?? (d === '' ? 'INBOX' : d), readMaildir(path.join(from, d)));
    return out;
  }
  if (fs.statSync(from).isFile()) {
    add(mailbox ?? 'INBOX', parseMbox(fs.readFileSync(from)));
    return out;
  }
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
      const r = path.join(rel, d.name);
      if (d.isDirectory()) walk(r);
      else if (d.name.endsWith('.mbox')) add(mailbox ?? r.slice(0, -5).split(path.sep).join('/'), parseMbox(fs.readFileSync(path.join(from, r))));
    }
  };
  walk('');
  return out;
}

function registerImport(program: Command): void {
  program
    .command('import')
    .description('read mbox or maildir (as written by export, mutt, Thunderbird, Dovecot or python) into a user\'s mailboxes, with flags')
    .requiredOption('--user <address>', 'the user')
    .requiredOption('--format <format>', 'mbox or maildir')
    .option('--mailbox <name>', 'put everything into this mailbox (made if missing)')
    .argument('<path>', 'an mbox file, a directory of .mbox files, or a maildir tree')
    .action((from: string, opts: { user: string; format: string; mailbox?: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store, config }) => {
        const fmt = format(opts.format);
        const user = await requireUser(store, opts.user);
        const ctx = deliveryContext(store, config);
        let messages = 0;
        for (const [name, entries] of readSource(fmt, from, opts.mailbox)) {
          const box = (await store.getMailbox(user.id, name)) ?? (await store.createMailbox(user.id, name));
          if (box.recentlyDeleted) throw new CliError(`cannot import into ${box.name}: Recently Deleted is read-only`);
          for (const e of entries) {
            await importOne(store, ctx.ingest, box.id, e);
            messages++;
          }
        }
        console.log(`imported ${messages} messages`);
      }),
    );
}

async function importOne(store: Store, opts: Parameters<typeof ingest>[2], mailboxId: number, e: MailEntry): Promise<void> {
  const source = MessageSource.fromBuffer(e.raw);
  let item = await ingest(store, source, opts);
  for (let attempt = 0; ; attempt++) {
    try {
      await store.appendMessage({ mailboxId, content: item.content, flags: e.flags, internalDate: e.internalDate, threadKeys: item.index.threadKeys });
      return;
    } catch (err) {
      if (!isStoreError(err, 'notfound') || attempt >= 2) throw err; // content released meanwhile: write it again
      item = await item.fresh();
    }
  }
}

export function registerArchiveCommands(program: Command): void {
  registerExport(program);
  registerImport(program);
}
