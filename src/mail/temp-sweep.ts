/**
 * Removes spool files a crash left in the data directory's `tmp/`. A file is taken
 * only when nobody has written it for `maxAgeMs`: a live spool (an SMTP DATA in
 * progress, a `mailroom deliver` reading stdin) is written to continuously, so a
 * server starting beside a running CLI command never pulls a file from under it.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const STALE_TEMP_MS = 15 * 60_000;

/** Deletes stale regular files directly in `dir`; returns how many. A missing dir is empty. */
export async function sweepTemp(dir: string, maxAgeMs = STALE_TEMP_MS, now = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    const path = join(dir, name);
    try {
      const st = await stat(path);
      if (!st.isFile() || now - st.mtimeMs < maxAgeMs) continue;
      await unlink(path);
      removed++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // gone meanwhile: fine
    }
  }
  return removed;
}
