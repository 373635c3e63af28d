/** `mailroom dkim generate DOMAIN [--selector S] [--algorithm rsa|ed25519]`: make a signing key and print its DNS record. */
import type { Command } from 'commander';
import type { DkimAlgorithm } from '../mail/dkim.js';
import { AddressError } from '../mail/address.js';
import { loadCliConfig, reportError, globalOptions, CliError } from './context.js';

export function registerDkimCommands(program: Command): void {
  const dkim = program.command('dkim').description('DKIM signing keys for outgoing mail');
  dkim
    .command('generate <domain>')
    .description('create a key (RSA 2048 by default) under <data>/dkim/ and print the DNS TXT record to publish')
    .option('--selector <name>', 'selector (the DNS label before ._domainkey)', 'mailroom')
    .option('--algorithm <alg>', 'rsa or ed25519', 'rsa')
    .action(async (domain: string, opts: { selector: string; algorithm: string }, cmd: Command) => {
      const { DkimError, generateDkimKey } = await import('../mail/dkim.js'); // its crypto and DNS code only for this command
      try {
        if (opts.algorithm !== 'rsa' && opts.algorithm !== 'ed25519') throw new CliError(`--algorithm must be rsa or ed25519, not ${opts.algorithm}`);
        const config = loadCliConfig(globalOptions(cmd));
        const { record, file } = await generateDkimKey(config.data, domain, opts.selector, opts.algorithm as DkimAlgorithm);
        console.log(`key written to ${file}; outgoing mail from ${domain} is signed from now on.`);
        console.log('Publish this DNS TXT record:');
        console.log(record.zoneLine);
      } catch (err) {
        process.exitCode = reportError(err instanceof DkimError || err instanceof AddressError ? new CliError(err.message) : err);
      }
    });
}
