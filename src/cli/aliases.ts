/** `mailroom alias add|del|list`: `sales@d` → targets, `@d` is the domain's catch-all. */
import type { Command } from 'commander';
import { normaliseDomain, parseAddress, parseAliasSource } from '../mail/address.js';
import { CliError, globalOptions, runWithStore } from './context.js';

export function registerAliasCommands(program: Command): void {
  const alias = program.command('alias').description('manage aliases (source@domain or @domain for a catch-all)');

  alias
    .command('add <source> <target>')
    .description('deliver mail for SOURCE to TARGET (a local user, another alias or a remote address)')
    .action((source: string, target: string, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const src = parseAliasSource(source);
        const dst = parseAddress(target).address;
        const domain = src.slice(src.indexOf('@') + 1);
        if (!(await store.getDomain(domain))) throw new CliError(`unknown domain ${domain}: add it first (mailroom domain add ${domain})`);
        if (src.toLowerCase() === dst.toLowerCase()) throw new CliError('an alias cannot point at itself');
        await store.addAlias(src, dst);
        console.log(`added alias ${src} -> ${dst}`);
      }),
    );

  alias
    .command('del <source> [target]')
    .description('remove an alias (all its targets unless TARGET is given)')
    .action((source: string, target: string | undefined, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const src = parseAliasSource(source);
        const removed = await store.deleteAlias(src, target ? parseAddress(target).address : undefined);
        if (removed === 0) throw new CliError(`no such alias: ${source}${target ? ` -> ${target}` : ''}`);
        console.log(`removed ${removed} alias${removed === 1 ? '' : 'es'} for ${src}`);
      }),
    );

  alias
    .command('list')
    .description('list aliases')
    .option('--domain <domain>', 'only this domain')
    .action((opts: { domain?: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        for (const a of await store.listAliases(opts.domain ? normaliseDomain(opts.domain) : undefined)) console.log(`${a.source}\t${a.target}`);
      }),
    );
}
