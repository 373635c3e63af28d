/**
 * `mailroom user add --from-file FILE`: many users in one process. The file is checked
 * whole first (users-file.ts); password hashes (scrypt, the slow part) are computed
 * several at a time on libuv's pool; then users are created one after another. Users
 * that already exist are skipped and said so; generated passwords are printed once,
 * tab-separated after the address, so the output can be kept or piped.
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { hashPassword } from '../auth/password.js';
import { createUserWithHash } from '../mail/accounts.js';
import { scramKeysFor } from '../auth/scram-keys.js';
import type { Store } from '../store/types.js';
import { CliError } from './context.js';
import { parseUsersFile, type UserLine } from './users-file.js';

/** 16 random bytes, base64url: 22 characters, typeable, no quoting needed in CSV or shells. */
function generatedPassword(): string {
  return randomBytes(16).toString('base64url');
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping order in the result. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

export async function addUsersFromFile(store: Store, file: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const parsed = parseUsersFile(text);
  if (!parsed.ok) throw new CliError(`${file}: nothing created: ${parsed.errors.join('; ')}`);
  const fresh: UserLine[] = [];
  for (const u of parsed.users) {
    if (await store.getUser(u.address)) process.stderr.write(`skipped ${u.address} (line ${u.line}): already exists\n`);
    else fresh.push(u);
  }
  const passwords = fresh.map((u) => u.password ?? generatedPassword());
  const hashes = await mapLimited(passwords, Math.max(2, availableParallelism()), (p) => hashPassword(p));
  const scram = await mapLimited(passwords, Math.max(2, availableParallelism()), (p) => scramKeysFor(p));
  for (let i = 0; i < fresh.length; i++) {
    const u = fresh[i];
    const created = await createUserWithHash(store, u.address, hashes[i], scram[i]);
    if (u.quota !== undefined) {
      const q = await store.getQuota(created.id);
      await store.setQuota(created.id, { bytes: u.quota, messages: q.messages });
    }
    console.log(u.password === null ? `added user ${created.address}\t${passwords[i]}` : `added user ${created.address}`);
  }
  process.stderr.write(`${fresh.length} users added, ${parsed.users.length - fresh.length} skipped\n`);
}
