/**
 * Node 22.1+ keeps the compiled code of the modules a process loads on disk, so the next
 * start skips compiling them (a good part of a CLI command's start-up). Node 20 has no such
 * cache: there this is a no-op.
 *
 * The cache is code the process runs, and `mailroom` may run as root: so the directory is
 * this user's own (`<tmpdir>/mailroom-compile-cache-<uid>`, made 0700), and is used only
 * if nobody else owns or may write it. Node's default, one
 * `node-compile-cache` directory in the temp directory for every user, is not.
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type EnableCompileCache = (dir?: string) => unknown;

/** Where the cache goes, made if missing; undefined when it must not be used. */
export function compileCacheDir(base = tmpdir(), uid = process.getuid?.()): string | undefined {
  if (uid === undefined) return undefined; // Windows: no owner to check
  const dir = join(base, `mailroom-compile-cache-${uid}`);
  try {
    // Made here rather than by node, then checked whoever made it: no window for someone else's.
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  try {
    const st = lstatSync(dir);
    // Someone else's, a link, or writable by others: its contents cannot be trusted.
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) return undefined;
  } catch {
    return undefined;
  }
  return dir;
}

/** Turns the compile cache on where the running node has one; modules loaded afterwards use it. */
export function enableCompileCache(): void {
  const enable = (module as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (!enable) return;
  const dir = compileCacheDir();
  if (dir !== undefined) enable(dir);
}
