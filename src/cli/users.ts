/** `mailroom user add|del|passwd|list` and `mailroom domain add|list|del`. */
import type { Command } from 'commander';
import { changePassword, createUser, passwordHashes, requireUser } from '../mail/accounts.js';
import { normaliseDomain } from '../mail/address.js';
import { formatSize } from './sizes.js';
import { takeEarlyHash } from './early-hash.js';
import { CliError, globalOptions, runWithStore } from './context.js';

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage users (mail accounts)');

  user
    .command('add [address]')
    .description('create a user and its mailboxes (the domain is created if missing); --from-file creates many')
    .option('--password <password>', 'login password')
    .option('--from-file <file>', 'CSV, one user a line: address[,password[,quota]]; an empty password is generated and printed')
    .action((address: string | undefined, opts: { password?: string; fromFile?: string }, cmd: Command) => {
      // The hash (scrypt: its cost is a security setting) is computed in the libuv pool
      // while this thread loads the config and the store, not after: started by main.ts
      // before the program loaded (early-hash.ts), else here.
      const hashing = address !== undefined && opts.fromFile === undefined && opts.password ? (takeEarlyHash(opts.password) ?? passwordHashes(opts.password)) : undefined;
      hashing?.catch(() => {}); // awaited (and any failure reported) by createUser; unused when the command fails first
      return runWithStore(globalOptions(cmd), async ({ store }) => {
        if (opts.fromFile !== undefined) {
          if (address !== undefined || opts.password !== undefined) throw new CliError('--from-file takes no address and no --password');
          const { addUsersFromFile } = await import('./users-add-many.js');
          return addUsersFromFile(store, opts.fromFile);
        }
        if (address === undefined) throw new CliError('missing address (or --from-file FILE)');
        if (opts.password === undefined) throw new CliError("required option '--password <password>' not specified");
        if (await store.getUser(address.trim())) throw new CliError(`user already exists: ${address}`);
        const created = await createUser(store, address, opts.password, hashing);
        console.log(`added user ${created.address}`);
      });
    });

  user
    .command('del <address>')
    .description('delete a user with all its mail')
    .action((address: string, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const found = await requireUser(store, address);
        await store.deleteUser(found.address);
        console.log(`deleted user ${found.address}`);
      }),
    );

  user
    .command('passwd <address>')
    .description("change a user's password")
    .requiredOption('--password <password>', 'new password')
    .action((address: string, opts: { password: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        await changePassword(store, address, opts.password, takeEarlyHash(opts.password));
        console.log(`password changed for ${address}`);
      }),
    );

  user
    .command('list')
    .description('list users with their storage use')
    .option('--domain <domain>', 'only this domain')
    .action((opts: { domain?: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const users = await store.listUsers(opts.domain ? normaliseDomain(opts.domain) : undefined);
        for (const u of users) {
          const q = await store.getQuota(u.id);
          console.log(`${u.address}\t${q.usedMessages} messages\t${formatSize(q.usedBytes)} of ${formatSize(q.bytes)}`);
        }
      }),
    );

  const domain = program.command('domain').description('manage mail domains');
  domain
    .command('add <name>')
    .description('add a domain this server receives mail for, and print the DNS records to publish for it (as `mailroom dns`)')
    .action((name: string, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ config, store }) => {
        const d = await store.addDomain(normaliseDomain(name));
        console.log(`added domain ${d.name}`);
        const { domainRecords, zoneText } = await import('../setup/domain-records.js'); // crypto and DNS code only here
        process.stdout.write(`\n${zoneText(d.name, await domainRecords(config, d.name))}Check them once published: mailroom dns ${d.name} --check\n`);
      }),
    );
  domain
    .command('list')
    .description('list domains')
    .action((_opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        for (const d of await store.listDomains()) console.log(d.name);
      }),
    );
  domain
    .command('del <name>')
    .description('delete a domain that has no users or aliases left')
    .action((name: string, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const n = normaliseDomain(name);
        await store.deleteDomain(n);
        console.log(`deleted domain ${n}`);
      }),
    );
}
