/** `mailroom dns DOMAIN [--check]`: the DNS records to publish for a hosted domain, or how DNS differs from them. */
import type { Command } from 'commander';
import { normaliseDomain } from '../mail/address.js';
import { CliError, globalOptions, runWithStore } from './context.js';

export function registerDnsCommand(program: Command): void {
  program
    .command('dns <domain>')
    .description('print the DNS records to publish for a domain (MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV, autoconfig); --check compares them with DNS')
    .option('--check', 'resolve every record (through smtp.dns_file when set) and list the missing or wrong ones; exit 1 if any')
    .action((name: string, opts: { check?: boolean }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ config, store }) => {
        const domain = normaliseDomain(name);
        if (!(await store.getDomain(domain))) throw new CliError(`unknown domain ${domain}: add it first (mailroom domain add ${domain})`);
        const { domainRecords, zoneText } = await import('../setup/domain-records.js'); // crypto and DNS code only for this command
        const records = await domainRecords(config, domain);
        if (!opts.check) {
          process.stdout.write(zoneText(domain, records));
          return;
        }
        const [{ checkRecords }, { configuredResolver }, { zoneLine }] = await Promise.all([import('../setup/dns-check.js'), import('../net/dns-resolver.js'), import('../setup/dns-records.js')]);
        const results = await checkRecords(records.records, configuredResolver(config.smtp.dns_file));
        for (const w of records.warnings) process.stdout.write(`; warning: ${w}\n`);
        for (const r of results) {
          const label = `${r.record.name} ${r.record.expected.type}`;
          if (r.status === 'ok') process.stdout.write(`ok       ${label}\n`);
          else process.stdout.write(`${r.status === 'missing' ? 'MISSING ' : 'WRONG   '} ${label}${r.detail ? `: ${r.detail}` : ''}\n         publish: ${zoneLine(r.record)}\n`);
        }
        const bad = results.filter((r) => r.status !== 'ok');
        if (bad.length) throw new CliError(`${bad.length} of ${results.length} records are missing or wrong`);
        process.stdout.write(`all ${results.length} records are in place\n`);
      }),
    );
}
