/**
 * `mailroom import-imap --from imaps://user@old.example[:port] --password-file F --user U
 *    [--mailboxes A,B] [--pop3 pop3s://[user@]old.example[:port]] [--insecure] [--limit N]`
 *
 * Moves a user from another server: every mailbox with flags, keywords and INTERNALDATE,
 * byte for byte (src/mail/archive/imap-import.ts); with --pop3 also the old POP3 UIDLs
 * (src/mail/archive/pop3-uidl-import.ts). Resumable: what was copied is journaled under
 * `<data>/imports/` (the data directory holds the copies, so the record lives with them).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { requireUser } from '../mail/accounts.js';
import { deliveryContext } from '../mail/delivery-context.js';
import { ImportJournal } from '../mail/archive/import-journal.js';
import { importFromImap, type ImportProgress, type RemoteAccount } from '../mail/archive/imap-import.js';
import { importPop3Uidls } from '../mail/archive/pop3-uidl-import.js';
import { CliError, globalOptions, runWithStore } from './context.js';

const DEFAULT_PORTS: Record<string, [number, boolean]> = { 'imaps:': [993, true], 'imap:': [143, false], 'pop3s:': [995, true], 'pop3:': [110, false] };

/** imap[s]://user@host[:port] or pop3[s]://[user@]host[:port] → where and how to connect (password added later). */
export function parseServerUrl(text: string, schemes: string[], defaultUser?: string): Omit<RemoteAccount, 'password' | 'insecure'> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`not a URL: ${text} (expected ${schemes.map((s) => `${s}//user@host[:port]`).join(' or ')})`);
  }
  if (!schemes.includes(url.protocol)) throw new CliError(`${text}: expected ${schemes.join(' or ')} URL`);
  if (url.password) throw new CliError(`${text}: put the password in --password-file, not in the URL`);
  const user = url.username ? decodeURIComponent(url.username) : defaultUser;
  if (!user) throw new CliError(`${text}: no user (write ${url.protocol}//user@${url.hostname})`);
  if (url.pathname !== '' && url.pathname !== '/') throw new CliError(`${text}: no path expected after the host`);
  const [port, tls] = DEFAULT_PORTS[url.protocol];
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : port, tls, user };
}

function readPassword(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`--password-file: cannot read ${file}: ${(err as Error).message}`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new CliError(`--password-file: ${file} is empty`);
  return password;
}

/** On a terminal one line redrawn per message; otherwise a line per finished mailbox (logs, tests). */
function progress(out: NodeJS.WriteStream = process.stderr): ImportProgress {
  let lastDraw = 0;
  return {
    message(box, done, total) {
      const now = Date.now();
      if (!out.isTTY || (now - lastDraw < 100 && done < total)) return;
      lastDraw = now;
      out.write(`\r\x1b[K${box}: ${done}/${total}`);
    },
    mailbox(box, copied, already, total) {
      out.write(`${out.isTTY ? '\r\x1b[K' : ''}${box}: ${copied} copied, ${already} already here, ${total} on the old server\n`);
    },
    warn(text) {
      out.write(`${out.isTTY ? '\r\x1b[K' : ''}warning: ${text}\n`);
    },
  };
}

function journalFile(dataDir: string, from: RemoteAccount, user: string): string {
  const id = createHash('sha256').update(`${from.user}@${from.host}:${from.port}\n${user.toLowerCase()}`).digest('hex').slice(0, 16);
  return path.join(dataDir, 'imports', `${from.host.replace(/[^\w.-]/g, '_')}-${id}.journal`);
}

interface Options {
  from: string;
  passwordFile: string;
  user: string;
  mailboxes?: string;
  pop3?: string;
  insecure?: boolean;
  limit?: string;
}

export function registerImportImapCommand(program: Command): void {
  program
    .command('import-imap')
    .description("copy a user's mail from another IMAP server (flags, keywords, dates, byte for byte); run again to resume")
    .requiredOption('--from <url>', 'the old server: imaps://user@host[:port] (TLS) or imap://user@host[:port] (STARTTLS when offered)')
    .requiredOption('--password-file <file>', "file holding the old account's password (first line)")
    .requiredOption('--user <address>', 'the Mailroom user to copy into')
    .option('--mailboxes <names>', "only these old mailboxes, comma-separated, as the old server names them (default: all)")
    .option('--pop3 <url>', "also take the old server's POP3 UIDLs for INBOX: pop3s://[user@]host[:port] or pop3://… (STLS when offered)")
    .option('--insecure', "accept the old server's certificate even if it does not verify (self-signed)")
    .option('--limit <n>', 'copy at most n messages this run (try it out; run again to go on)')
    .action((opts: Options, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store, config }) => {
        const password = readPassword(opts.passwordFile);
        const insecure = opts.insecure === true;
        const from: RemoteAccount = { ...parseServerUrl(opts.from, ['imaps:', 'imap:']), password, insecure };
        const pop3: RemoteAccount | undefined = opts.pop3 === undefined ? undefined : { ...parseServerUrl(opts.pop3, ['pop3s:', 'pop3:'], from.user), password, insecure };
        const mailboxes = opts.mailboxes?.split(',').map((s) => s.trim()).filter((s) => s !== '');
        if (pop3 && mailboxes && !mailboxes.some((m) => m.toUpperCase() === 'INBOX')) throw new CliError('--pop3 needs INBOX among --mailboxes');
        if (opts.limit !== undefined && !/^\d+$/.test(opts.limit)) throw new CliError(`--limit: not a number: ${opts.limit}`);
        const limit = opts.limit === undefined ? undefined : Number(opts.limit);
        const user = await requireUser(store, opts.user);
        const journal = ImportJournal.open(journalFile(config.data, from, user.address));
        try {
          const summary = await importFromImap(from, { store, userId: user.id, ingest: deliveryContext(store, config).ingest, journal, mailboxes, limit, progress: progress() });
          const rest = summary.stopped ? ' (stopped at --limit; run again to copy the rest)' : '';
          console.log(`imported ${summary.copied} messages from ${summary.mailboxes} mailboxes, ${summary.already} were already here${rest}`);
          if (!pop3 || summary.stopped) return;
          const inbox = await store.getMailbox(user.id, 'INBOX');
          if (!inbox) throw new CliError(`${user.address} has no INBOX`);
          const u = await importPop3Uidls(pop3, store, user.id, inbox.id, summary.inboxUids);
          console.log(`POP3: ${u.set} UIDLs taken over, ${u.already} already, ${u.unmatched} old POP3 messages not found in INBOX`);
        } finally {
          journal.close();
        }
      }),
    );
}
