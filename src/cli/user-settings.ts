/**
 * `mailroom user set <address> key=value…` and `mailroom user show <address>`: per-user
 * policy overrides (today the POP3 ones, see src/mail/pop3-policy.ts). Values are
 * validated before anything is written; `key=` (empty) removes an override.
 * What they do is in user-settings-run.ts, imported when one of them runs: this module is
 * loaded by every `user` command (issue 15, a fast CLI).
 */
import type { Command } from 'commander';
import { globalOptions, runWithStore } from './context.js';

/** Adds `set` and `show` under the existing `user` command. */
export function registerUserSettingCommands(program: Command): void {
  const user = program.commands.find((c) => c.name() === 'user') ?? program.command('user');
  user
    .command('set <address> <assignments...>')
    .description('set per-user policies, e.g. pop3.deleteMode=hide (key= removes the override)')
    .action((address: string, assignments: string[], _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async (ctx) => (await import('./user-settings-run.js')).setUserSettings(ctx, address, assignments)),
    );
  user
    .command('show <address>')
    .description("show a user's storage use, effective policies, members, devices with their last login, and the last 20 failed logins")
    .action((address: string, _opts: unknown, cmd: Command) => runWithStore(globalOptions(cmd), async (ctx) => (await import('./user-settings-run.js')).showUser(ctx, address)));
}
