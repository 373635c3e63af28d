/**
 * Who holds a lease: `node:<node id>:<pid>:<session>`. The node id is stable per data
 * directory (`<data>/node-id`, made on first start), so a server restarted after a crash
 * recognises the leases it held before (a POP3 maildrop lock would otherwise answer
 * `-ERR [IN-USE]` until it expires) and clears them at start: those of a process that is
 * gone, or of its own pid (a container's server is often pid 1 every time). A second
 * server running on the same data directory keeps its leases: its pid is alive.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Leases } from '../store/types.js';

/** This data directory's node id, made on first use. */
export function nodeId(dataDir: string): string {
  const file = join(dataDir, 'node-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{8,64}$/.test(id)) return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = randomBytes(8).toString('hex');
  writeFileSync(file, `${id}\n`, { mode: 0o600 });
  return id;
}

/** The owner prefix of this process's leases; a session appends its id. */
export function leaseOwnerPrefix(node: string, pid = process.pid): string {
  return `node:${node}:${pid}:`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Releases the leases this node held in an earlier life; returns how many. */
export async function clearStaleLeases(store: Pick<Leases, 'listLeases' | 'releaseLease'>, node: string, pid = process.pid): Promise<number> {
  let cleared = 0;
  for (const lease of await store.listLeases(`node:${node}:`)) {
    const holder = Number(lease.owner.slice(`node:${node}:`.length).split(':')[0]);
    if (!Number.isSafeInteger(holder) || holder <= 0) continue;
    if (holder !== pid && alive(holder)) continue;
    await store.releaseLease(lease.key, lease.owner);
    cleared++;
  }
  return cleared;
}
