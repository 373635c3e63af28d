/**
 * Dropping root: the server binds its listeners as root (ports below 1024), hands the
 * data directory to the configured user, then switches group and user for good
 * (setgroups, setgid, setuid: in that order, or the later calls would be refused).
 * Names are resolved with getent, so NSS sources (LDAP, systemd-userdb) work as for
 * any daemon. Refusing to run only happens when `user` is configured: a failed switch
 * is an error, never a silent root server.
 */
import { execFileSync } from 'node:child_process';
import { chown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export class PrivilegeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrivilegeError';
  }
}

/** One getent entry's fields, or null when the database has no such name or id. */
function getent(db: 'passwd' | 'group', key: string): string[] | null {
  try {
    return execFileSync('getent', [db, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0].split(':');
  } catch {
    return null;
  }
}

/** The numeric uid and gid for the configured names (or numbers). */
export function resolveIds(user: string, group: string): { uid: number; gid: number } {
  const pw = getent('passwd', user);
  if (!pw && !/^\d+$/.test(user)) throw new PrivilegeError(`user: no such user ${user}`);
  const uid = pw ? Number(pw[2]) : Number(user);
  let gid: number;
  if (group !== '') {
    const gr = getent('group', group);
    if (!gr && !/^\d+$/.test(group)) throw new PrivilegeError(`group: no such group ${group}`);
    gid = gr ? Number(gr[2]) : Number(group);
  } else if (pw) gid = Number(pw[3]);
  else throw new PrivilegeError(`group: needed when user is a bare uid (${user})`);
  return { uid, gid };
}

/** Gives every entry under `dir` (itself included) to uid:gid, without following symlinks. */
async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  const st = await lstat(dir);
  if (st.uid !== uid || st.gid !== gid) await chown(dir, uid, gid);
  if (!st.isDirectory()) return;
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    const s = await lstat(p);
    if (s.isSymbolicLink()) continue;
    if (s.isDirectory()) await chownTree(p, uid, gid);
    else if (s.uid !== uid || s.gid !== gid) await chown(p, uid, gid);
  }
}

export interface DropOptions {
  user: string;
  group: string;
  dataDir: string;
}

/**
 * Switches to the configured user; returns what the process runs as afterwards, and whether
 * it changed anything. Without `user` nothing happens (the caller warns about root).
 */
export async function dropPrivileges(o: DropOptions): Promise<{ uid: number; gid: number; dropped: boolean }> {
  if (o.user === '' || !process.setuid || !process.getuid) return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, dropped: false };
  const { uid, gid } = resolveIds(o.user, o.group);
  try {
    if (process.getuid() === 0) {
      await chownTree(o.dataDir, uid, gid);
      process.setgroups!([gid]);
    }
    process.setgid!(gid);
    process.setuid(uid);
  } catch (err) {
    throw new PrivilegeError(`cannot switch to user ${o.user} (uid ${uid}, gid ${gid}): ${(err as Error).message}`, { cause: err });
  }
  if (process.getuid() !== uid || process.geteuid!() !== uid || process.getgid!() !== gid) throw new PrivilegeError(`still running as uid ${process.getuid()} after switching to ${o.user}`);
  return { uid, gid, dropped: true };
}
