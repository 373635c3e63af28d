/**
 * `user add ADDRESS --password P` and `user passwd ADDRESS --password P`: the password hash
 * (scrypt N=2^15 plus the SCRAM keys, ~100 ms of CPU, a security setting) is the longest
 * single part of these commands. main.ts starts it here, in the libuv pool, before it loads
 * the program, so it runs alongside all the rest of the start-up (commander, the command's
 * modules, config, store) instead of after part of it.
 *
 * The command takes the result by its password (takeEarlyHash): whatever this quick look at
 * argv gets wrong, a hash is only ever used for the very password it was computed from.
 * Never imports: commander, config, store.
 */
import { passwordHashes, type PasswordHashes } from '../auth/password-hashes.js';

const started = new Map<string, Promise<PasswordHashes>>();

/** Options whose value is the next word (the global ones, and the password itself). */
const WITH_VALUE = new Set(['--data', '--config', '--password', '--from-file']);

/** The password of a `user add|passwd … --password P` command line, if argv (as process.argv) is one. */
export function earlyPassword(argv: string[]): string | undefined {
  const args = argv.slice(2);
  const words: string[] = [];
  let password: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') break;
    if (a.startsWith('--password=')) password = a.slice('--password='.length);
    else if (WITH_VALUE.has(a)) {
      if (a === '--password') password = args[i + 1];
      i++;
    } else if (!a.startsWith('-')) words.push(a);
  }
  const isPasswordCommand = words[0] === 'user' && (words[1] === 'add' || words[1] === 'passwd');
  return isPasswordCommand && password ? password : undefined;
}

/** Starts hashing the password of argv's command, if it has one. */
export function startEarlyHash(argv: string[]): void {
  const password = earlyPassword(argv);
  if (password === undefined) return;
  const hashing = passwordHashes(password);
  hashing.catch(() => {}); // a failure is the command's to report, when it takes the hash
  started.set(password, hashing);
}

/** The hash started for this password, once; undefined if none was. */
export function takeEarlyHash(password: string): Promise<PasswordHashes> | undefined {
  const hashing = started.get(password);
  started.delete(password);
  return hashing;
}
