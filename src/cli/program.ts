/**
 * The `mailroom` command line: global options, --version, and the list of commands.
 *
 * Never imports: protocol internals, SQL. Commands reach the store only through
 * context.ts (runWithStore), which owns error reporting and exit codes.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerServe } from './serve.js';
import { registerUserCommands } from './users.js';
import { registerUserSettingCommands } from './user-settings.js';
import { registerPeopleCommands } from './people.js';
import { registerAliasCommands } from './aliases.js';
import { registerQuotaCommands } from './quota.js';
import { registerMailboxCommands } from './mailboxes.js';
import { registerDeliverCommand } from './deliver.js';
import { registerQueueCommands } from './queue.js';
import { registerDkimCommands } from './dkim.js';
import { registerStoreCommands } from './store-copy.js';
import { registerDeletedCommands } from './deleted.js';
import { registerArchiveCommands } from './archive.js';
import { registerImportImapCommand } from './import-imap.js';

/** Adds one command (with its subcommands) to the program. */
export type CommandRegistration = (program: Command) => void;

// To add a command: import its register function above and add it here. Order = order in --help.
const commands: CommandRegistration[] = [
  registerServe,
  registerUserCommands,
  registerUserSettingCommands,
  registerPeopleCommands,
  registerAliasCommands,
  registerQuotaCommands,
  registerMailboxCommands,
  registerDeletedCommands,
  registerArchiveCommands,
  registerImportImapCommand,
  registerDeliverCommand,
  registerQueueCommands,
  registerDkimCommands,
  registerStoreCommands,
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Builds the program; separate from running it so tests can inspect it. */
export function buildProgram(): Command {
  const program = new Command('mailroom')
    .description('Mailroom: a self-hosted mail server (IMAP, POP3, SMTP, LMTP) over one mailbox store')
    .version(version(), '-V, --version')
    .option('--data <dir>', 'data directory (overrides MAILROOM_DATA and the config file)')
    .option('--config <file>', 'TOML config file (default: ./mailroom.toml if it exists)')
    .addHelpText('after', '\nEvery config key can also be set by an environment variable; see docs/config.md.');
  for (const register of commands) register(program);
  return program;
}

/** Parses argv (as in process.argv) and runs the chosen command. */
export async function runProgram(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    return;
  }
  await program.parseAsync(argv);
}
