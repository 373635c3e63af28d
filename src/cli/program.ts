/**
 * The `mailroom` command line: global options, --version, and the list of commands.
 *
 * Never imports: protocol internals, SQL. Commands reach the store only through
 * context.ts (runWithStore), which owns error reporting and exit codes.
 */
import { readFileSync } from 'node:fs';
import { Command, Help } from 'commander';

/** Adds one command (with its subcommands) to the program. */
export type CommandRegistration = (program: Command) => void;

/** A top-level command as --help lists it, without loading its module. */
export interface CommandSummary {
  name: string;
  /** Arguments shown after the name in --help (commander's usage), when not just subcommands. */
  usage?: string;
  summary: string;
}

/**
 * Commands are loaded only when asked for: each group's module (and what it imports: the
 * store, MIME, DKIM…) is imported by its loader, so `--help` loads none and `user add` loads
 * one. The summaries here are what --help shows; src/cli/program.test.ts checks them
 * against the modules. To add a command: add a group (order = order in --help).
 */
export interface CommandGroup {
  commands: CommandSummary[];
  load: () => Promise<CommandRegistration[]>;
}

export const COMMAND_GROUPS: CommandGroup[] = [
  { commands: [{ name: 'serve', summary: 'run the mail server (IMAP, POP3, SMTP, LMTP, HTTP) until SIGTERM or Ctrl+C' }], load: async () => [(await import('./serve.js')).registerServe] },
  {
    commands: [
      { name: 'user', summary: 'manage users (mail accounts)' },
      { name: 'domain', summary: 'manage mail domains' },
    ],
    // user-settings adds `user set|show` to the `user` command users.ts makes.
    load: async () => [(await import('./users.js')).registerUserCommands, (await import('./user-settings.js')).registerUserSettingCommands],
  },
  {
    commands: [
      { name: 'member', summary: 'people sharing an account (each with a private read state)' },
      { name: 'device', summary: 'device passwords: one per phone, laptop or app' },
    ],
    load: async () => [(await import('./people.js')).registerPeopleCommands],
  },
  { commands: [{ name: 'alias', summary: 'manage aliases (source@domain or @domain for a catch-all)' }], load: async () => [(await import('./aliases.js')).registerAliasCommands] },
  {
    commands: [
      { name: 'quota', summary: 'storage and message-count limits' },
      { name: 'usage', usage: '[options]', summary: 'what mail takes: logical size, stored size, saved by deduplication and by compression (all users, or one)' },
    ],
    load: async () => { const m = await import('./quota.js'); return [m.registerQuotaCommands, m.registerUsageCommand]; },
  },
  { commands: [{ name: 'mailbox', summary: "inspect a user's mailboxes" }], load: async () => [(await import('./mailboxes.js')).registerMailboxCommands] },
  { commands: [{ name: 'deleted', summary: "a user's Recently Deleted mail: list, restore, purge" }], load: async () => [(await import('./deleted.js')).registerDeletedCommands] },
  {
    commands: [
      { name: 'export', usage: '[options]', summary: "write a user's mail to mbox, maildir or a zip of .eml files, byte for byte, with flags and keywords" },
      { name: 'import', usage: '[options] <path>', summary: "read mbox, maildir or eml-zip (as written by export, mutt, Thunderbird, Dovecot or python) into a user's mailboxes, with flags" },
      { name: 'archive', usage: '[options]', summary: 'export mail older than AGE, verify the export, then remove it from the server (through Recently Deleted unless --purge-now)' },
    ],
    load: async () => [(await import('./archive.js')).registerArchiveCommands],
  },
  { commands: [{ name: 'encryption', summary: "encrypt new mail at rest to an account's OpenPGP public key" }], load: async () => [(await import('./encryption.js')).registerEncryptionCommands] },
  { commands: [{ name: 'share', summary: 'share mailboxes between accounts (RFC 4314 ACL): add, list, del' }], load: async () => [(await import('./share.js')).registerShareCommands] },
  { commands: [{ name: 'vacation', summary: 'automatic "away" replies (RFC 3834), per user' }], load: async () => [(await import('./vacation.js')).registerVacationCommands] },
  {
    commands: [{ name: 'import-imap', usage: '[options]', summary: "copy a user's mail from another IMAP server (flags, keywords, dates, byte for byte); run again to resume" }],
    load: async () => [(await import('./import-imap.js')).registerImportImapCommand],
  },
  {
    commands: [{ name: 'deliver', usage: '[options] [file]', summary: 'deliver a message (from FILE, or stdin when FILE is - or missing) to each recipient: local INBOXes, remote alias targets through the queue' }],
    load: async () => [(await import('./deliver.js')).registerDeliverCommand],
  },
  { commands: [{ name: 'queue', summary: 'outbound queue: list, show, retry or delete queued messages' }], load: async () => [(await import('./queue.js')).registerQueueCommands] },
  { commands: [{ name: 'dkim', summary: 'DKIM signing keys for outgoing mail' }], load: async () => [(await import('./dkim.js')).registerDkimCommands] },
  {
    commands: [{ name: 'dns', usage: '[options] <domain>', summary: 'print the DNS records to publish for a domain (MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV, autoconfig); --check compares them with DNS' }],
    load: async () => [(await import('./dns.js')).registerDnsCommand],
  },
  { commands: [{ name: 'store', summary: 'whole-installation operations on the mail store' }], load: async () => [(await import('./store-copy.js')).registerStoreCommands] },
  {
    commands: [
      { name: 'backup', usage: '[options]', summary: 'consistent online backup of the data directory into DIR (incremental when DIR holds a previous backup)' },
      { name: 'restore-backup', usage: '[options] <dir>', summary: 'verify a backup against its manifest and restore it into the data directory (server stopped)' },
    ],
    load: async () => [(await import('./backup.js')).registerBackupCommands],
  },
  {
    commands: [{ name: 'status', usage: '[options]', summary: 'ask the running server (over <data>/admin.sock) what it listens on and how many sessions are open' }],
    load: async () => [(await import('./status.js')).registerStatusCommand],
  },
  {
    commands: [{ name: 'install-service', usage: '[options]', summary: 'write the systemd unit (standard ports, unprivileged user, sandboxed); --dry-run prints it' }],
    load: async () => [(await import('./install-service.js')).registerInstallServiceCommand],
  },
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The program with global options and no commands yet. */
function baseProgram(): Command {
  return new Command('mailroom')
    .description('Mailroom: a self-hosted mail server (IMAP, POP3, SMTP, LMTP) over one mailbox store')
    .version(version(), '-V, --version')
    .option('--data <dir>', 'data directory (overrides MAILROOM_DATA and the config file)')
    .option('--config <file>', 'TOML config file (default: ./mailroom.toml if it exists)')
    .addHelpText('after', '\nEvery config key can also be set by an environment variable; see docs/config.md.');
}

/** The command named in argv (after `help`, if that comes first), skipping global options and their values. */
export function commandNameIn(args: string[]): string | undefined {
  const withValue = new Set(['--data', '--config']);
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') break;
    if (withValue.has(a)) i++;
    else if (!a.startsWith('-')) words.push(a);
    if (words.length === 2) break;
  }
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * Builds the program for argv (as in process.argv): the named command's group loaded and
 * registered, every other command a placeholder that shows in --help. Separate from
 * running it so tests can inspect it.
 */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = baseProgram();
  const name = commandNameIn(argv.slice(2));
  const wanted = COMMAND_GROUPS.find((g) => g.commands.some((c) => c.name === name));
  const placeholders = new Map<Command, string>();
  for (const group of COMMAND_GROUPS) {
    if (group === wanted) {
      for (const register of await group.load()) register(program);
      continue;
    }
    for (const c of group.commands) placeholders.set(program.command(c.name).description(c.summary), c.usage ? `${c.name} ${c.usage}` : c.name);
  }
  // A placeholder has no options or arguments of its own: --help shows the loaded command's usage instead.
  const term = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => placeholders.get(cmd) ?? term.subcommandTerm(cmd) });
  return program;
}

/** Parses argv (as in process.argv) and runs the chosen command. */
export async function runProgram(argv: string[]): Promise<void> {
  const program = await buildProgram(argv);
  if (argv.length <= 2) {
    program.outputHelp();
    return;
  }
  await program.parseAsync(argv);
}
