/**
 * `mailroom export --user U [--mailbox M] [--before DATE] --format F --out PATH`
 * `mailroom import --user U --format F [--mailbox M] PATH`
 * `mailroom archive --user U --older-than AGE [--mailbox M] --out PATH [--format F] [--purge-now]`
 *
 * Export writes the stored bytes unchanged with flags and keywords (src/mail/archive/);
 * import reads them back through the one ingest path (src/ingest.ts), with the flags and
 * the INTERNALDATE, so export → import → export gives the same bytes. Archive is an export
 * that is read back and checked (count and sha256 of every message) before the messages
 * leave the server: through Recently Deleted, or for good with --purge-now. Recently
 * Deleted is never exported.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Command } from 'commander';
import { ingest } from '../ingest.js';
import { requireUser } from '../mail/accounts.js';
import { deliveryContext } from '../mail/delivery-context.js';
import { deletedBy, retentionSettings } from '../mail/recently-deleted.js';
import { MessageSource } from '../mail/message-source.js';
import type { MailEntry } from '../mail/archive/mbox.js';
import { ArchiveFormatError, expectedReadBack, parseFormat, readExport, writeExport, type BoxExport, type Format } from '../mail/archive/formats.js';
import { isStoreError } from '../store/errors.js';
import type { Mailbox, MessageRow, Store, User } from '../store/types.js';
import { CliError, globalOptions, runWithStore } from './context.js';
import { parseAge } from './age.js';
import { progressBar, type ProgressBar } from './progress.js';

function format(text: string): Format {
  try {
    return parseFormat(text);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
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
  if (box.recentlyDeleted) throw new CliError(`${box.name} is Recently Deleted: restore messages first (mailroom deleted restore)`);
  return [box];
}

interface Selected {
  box: Mailbox;
  rows: MessageRow[];
}

/** Rows received before `before` (all when absent), per mailbox. */
async function select(store: Store, user: User, boxes: Mailbox[], before: Date | undefined): Promise<Selected[]> {
  const out: Selected[] = [];
  for (const box of boxes) {
    const rows = (await store.listMessages(box.id, user.id)).filter((r) => !before || r.internalDate.getTime() < before.getTime());
    out.push({ box, rows });
  }
  return out;
}

/** Reads the selected messages (one at a time, progress per message) into export entries. */
async function load(store: Store, selected: Selected[], bar: ProgressBar): Promise<BoxExport[]> {
  const total = selected.reduce((n, s) => n + s.rows.length, 0);
  let done = 0;
  const out: BoxExport[] = [];
  for (const { box, rows } of selected) {
    const entries = [];
    for (const row of rows) {
      const name = `${Math.floor(row.internalDate.getTime() / 1000)}.M${box.uidValidity}U${row.uid}.mailroom,S=${row.size}`;
      entries.push({ raw: await readAll(store, row.contentId), flags: row.flags, internalDate: row.internalDate, name });
      bar.update(++done, total);
    }
    out.push({ mailbox: box.name, entries });
  }
  return out;
}

function count(boxes: BoxExport[]): number {
  return boxes.reduce((n, b) => n + b.entries.length, 0);
}

function registerExport(program: Command): void {
  program
    .command('export')
    .description("write a user's mail to mbox, maildir or a zip of .eml files, byte for byte, with flags and keywords")
    .requiredOption('--user <address>', 'the user')
    .option('--mailbox <name>', 'only this mailbox')
    .option('--before <date>', 'only messages received before this date (YYYY-MM-DD or ISO 8601)')
    .requiredOption('--format <format>', 'mbox, maildir or eml-zip')
    .requiredOption('--out <path>', 'mbox: a file with --mailbox, else a directory; maildir: a directory; eml-zip: a zip file')
    .action((opts: { user: string; mailbox?: string; before?: string; format: string; out: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const fmt = format(opts.format);
        const before = opts.before === undefined ? undefined : parseDate(opts.before);
        const user = await requireUser(store, opts.user);
        const boxes = await exportBoxes(store, user, opts.mailbox);
        const bar = progressBar('export');
        const loaded = await load(store, await select(store, user, boxes, before), bar);
        bar.done();
        for (const w of writeExport(fmt, opts.out, loaded, opts.mailbox !== undefined)) console.error(w);
        console.log(`exported ${count(loaded)} messages from ${boxes.length} mailboxes to ${opts.out}`);
      }),
    );
}

function readSource(fmt: Format, from: string, into: string | undefined): Map<string, MailEntry[]> {
  try {
    return readExport(fmt, from, into);
  } catch (err) {
    if (err instanceof ArchiveFormatError) throw new CliError(err.message);
    throw err;
  }
}

function registerImport(program: Command): void {
  program
    .command('import')
    .description('read mbox, maildir or eml-zip (as written by export, mutt, Thunderbird, Dovecot or python) into a user\'s mailboxes, with flags')
    .requiredOption('--user <address>', 'the user')
    .requiredOption('--format <format>', 'mbox, maildir or eml-zip')
    .option('--mailbox <name>', 'put everything into this mailbox (made if missing)')
    .argument('<path>', 'an mbox file, a directory of .mbox files, a maildir tree, or a zip of .eml files')
    .action((from: string, opts: { user: string; format: string; mailbox?: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store, config }) => {
        const fmt = format(opts.format);
        const user = await requireUser(store, opts.user);
        const ctx = deliveryContext(store, config);
        const source = readSource(fmt, from, opts.mailbox);
        const total = [...source.values()].reduce((n, e) => n + e.length, 0);
        const bar = progressBar('import');
        let messages = 0;
        for (const [name, entries] of source) {
          const box = (await store.getMailbox(user.id, name)) ?? (await store.createMailbox(user.id, name));
          if (box.recentlyDeleted) throw new CliError(`cannot import into ${box.name}: Recently Deleted is read-only`);
          for (const e of entries) {
            await importOne(store, ctx.ingest, box.id, e);
            bar.update(++messages, total);
          }
        }
        bar.done();
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

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Reads the written archive back and compares it with what was exported: per mailbox, the
 * same number of messages and the same multiset of sha256 (of the bytes the format gives
 * back). Returns the problems (empty: verified).
 */
function verifyArchive(fmt: Format, out: string, loaded: BoxExport[], single: boolean): string[] {
  let back: Map<string, MailEntry[]>;
  try {
    back = readExport(fmt, out, single ? loaded[0]?.mailbox : undefined);
  } catch (err) {
    return [`cannot read the archive back: ${(err as Error).message}`];
  }
  const problems: string[] = [];
  for (const box of loaded) {
    const got = (back.get(box.mailbox) ?? []).map((e) => sha(e.raw)).sort();
    const want = box.entries.map((e) => sha(expectedReadBack(fmt, e.raw))).sort();
    if (got.length !== want.length) problems.push(`${box.mailbox}: ${got.length} messages read back, ${want.length} exported`);
    else if (got.some((h, i) => h !== want[i])) problems.push(`${box.mailbox}: messages read back differ from the stored ones`);
  }
  return problems;
}

function registerArchive(program: Command): void {
  program
    .command('archive')
    .description('export mail older than AGE, verify the export, then remove it from the server (through Recently Deleted unless --purge-now)')
    .requiredOption('--user <address>', 'the user')
    .requiredOption('--older-than <age>', 'e.g. 2y, 18m (months), 6w, 90d, or a date YYYY-MM-DD')
    .option('--mailbox <name>', 'only this mailbox')
    .requiredOption('--out <path>', 'where to write the archive (must not exist yet)')
    .option('--format <format>', 'mbox, maildir or eml-zip', 'maildir')
    .option('--purge-now', 'remove for good instead of keeping the messages in Recently Deleted')
    .action((opts: { user: string; olderThan: string; mailbox?: string; out: string; format: string; purgeNow?: boolean }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store, config }) => {
        const fmt = format(opts.format);
        let cutoff: Date;
        try {
          cutoff = parseAge(opts.olderThan, new Date());
        } catch (err) {
          throw new CliError(`--older-than: ${(err as Error).message}`);
        }
        if (fs.existsSync(opts.out)) throw new CliError(`${opts.out} exists; archive writes a new file or directory`);
        const user = await requireUser(store, opts.user);
        const selected = (await select(store, user, await exportBoxes(store, user, opts.mailbox), cutoff)).filter((s) => s.rows.length > 0);
        const total = selected.reduce((n, s) => n + s.rows.length, 0);
        if (total === 0) {
          console.log(`nothing received before ${cutoff.toISOString()}; no archive written`);
          return;
        }
        const bar = progressBar('archive');
        const loaded = await load(store, selected, bar);
        bar.done();
        const single = opts.mailbox !== undefined && fmt === 'mbox';
        for (const w of writeExport(fmt, opts.out, loaded, single)) console.error(w);
        const problems = verifyArchive(fmt, opts.out, loaded, single);
        if (problems.length > 0) throw new CliError(`archive ${opts.out} does not verify, nothing removed: ${problems.join('; ')}`);
        const retention = retentionSettings(config);
        if (opts.purgeNow) await store.setRetention({ ...retention, keepDeleted: false });
        let removed = 0;
        for (const { box, rows } of selected) removed += (await store.expunge(box.id, rows.map((r) => r.uid), deletedBy('cli', 'archive'))).length;
        const where = opts.purgeNow || !retention.keepDeleted ? 'removed for good' : 'moved to Recently Deleted';
        console.log(`archived ${total} messages received before ${cutoff.toISOString().slice(0, 10)} to ${opts.out} (verified: count and sha256); ${removed} ${where}`);
      }),
    );
}

export function registerArchiveCommands(program: Command): void {
  registerExport(program);
  registerImport(program);
  registerArchive(program);
}
