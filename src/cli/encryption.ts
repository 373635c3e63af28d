/**
 * `mailroom encryption set ADDRESS --key FILE` / `encryption off ADDRESS` / `encryption show ADDRESS`:
 * opt-in encryption at rest of the mail delivered to an account, to the account's OpenPGP
 * public key (src/mail/encryption/pgp-mime.ts). Mail already stored stays as it is.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { requireUser } from '../mail/accounts.js';
import { ENCRYPTION_KEY_SETTING, encryptionKeyOf, inspectPublicKey } from '../mail/encryption/pgp-mime.js';
import { CliError, globalOptions, runWithStore } from './context.js';

export function registerEncryptionCommands(program: Command): void {
  const enc = program.command('encryption').description("encrypt new mail at rest to an account's OpenPGP public key");
  enc
    .command('set <address>')
    .description('encrypt mail delivered from now on to this public key (armored, e.g. gpg --armor --export ADDRESS > key.asc)')
    .requiredOption('--key <file>', 'the armored OpenPGP public key ("-" for stdin)')
    .action((address: string, opts: { key: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const armored = readFileSync(opts.key === '-' ? 0 : opts.key, 'utf8');
        const facts = await inspectPublicKey(armored).catch((e: Error) => {
          throw new CliError(e.message);
        });
        const user = await requireUser(store, address);
        await store.setUserSetting(user.id, ENCRYPTION_KEY_SETTING, armored.trim() + '\n');
        console.log(`${user.address}: new mail is encrypted to ${facts.fingerprint} (${facts.userIds.join(', ') || 'no user id'})`);
        console.log('Mail already stored is not changed. Keep the private key safe: without it the stored mail cannot be read.');
      }),
    );
  enc
    .command('off <address>')
    .description('store new mail unencrypted again (encrypted mail stays encrypted)')
    .action((address: string, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const user = await requireUser(store, address);
        await store.setUserSetting(user.id, ENCRYPTION_KEY_SETTING, null);
        console.log(`${user.address}: new mail is stored unencrypted`);
      }),
    );
  enc
    .command('show <address>')
    .description('the key new mail is encrypted to, if any')
    .action((address: string, _opts: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const user = await requireUser(store, address);
        const key = encryptionKeyOf(user);
        if (!key) return console.log(`${user.address}: off`);
        const facts = await inspectPublicKey(key);
        console.log(`${user.address}: on\t${facts.fingerprint}\t${facts.algorithm}\t${facts.userIds.join(', ')}`);
      }),
    );
}
