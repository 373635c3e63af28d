/**
 * `mailroom restore-backup DIR`: checks every file of the backup against its manifest,
 * then copies it into the data directory (database, blobs, other files). A directory
 * without a manifest (a backup killed before it finished) or with any mismatch is refused.
 * The server must not be running on the data directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readManifest, verifyManifest, type Manifest } from './manifest.js';
import { isSpecialEntry } from './layout.js';

export class RestoreRefused extends Error {}

export interface RestoreResult {
  manifest: Manifest;
  files: number;
}

/** Verifies DIR's manifest; returns it, or throws RestoreRefused saying why not. */
export function checkBackup(dir: string, onFile?: () => void): Manifest {
  let m: Manifest | null;
  try {
    m = readManifest(dir);
  } catch (err) {
    throw new RestoreRefused((err as Error).message);
  }
  if (!m) throw new RestoreRefused(`no manifest.json in ${dir}: not a backup, or a backup that did not finish`);
  const problems = verifyManifest(dir, m, onFile);
  if (problems.length > 0) throw new RestoreRefused(`backup in ${dir} does not match its manifest: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`);
  return m;
}

export function restoreBackup(dir: string, dataDir: string, opts: { force: boolean; newestSchema: number; progress?: (done: number, total: number) => void }): RestoreResult {
  const m = checkBackup(dir);
  if (m.schemaVersion > opts.newestSchema) throw new RestoreRefused(`the backup has schema version ${m.schemaVersion}; this mailroom knows up to ${opts.newestSchema}`);
  fs.mkdirSync(dataDir, { recursive: true });
  const present = fs.readdirSync(dataDir);
  if (present.length > 0) {
    if (!opts.force) throw new RestoreRefused(`${dataDir} is not empty; stop the server and give --force to replace its contents`);
    for (const name of present) if (isSpecialEntry(name)) fs.rmSync(path.join(dataDir, name), { recursive: true, force: true });
  }
  let done = 0;
  for (const f of m.files) {
    const from = path.join(dir, ...f.path.split('/'));
    const to = f.path === m.database ? path.join(dataDir, 'mailroom.db') : f.path.startsWith('files/') ? path.join(dataDir, ...f.path.split('/').slice(1)) : path.join(dataDir, ...f.path.split('/'));
    // Copied, never linked: SQLite writes its file in place, and the backup must stay as it was.
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
    opts.progress?.(++done, m.files.length);
  }
  return { manifest: m, files: m.files.length };
}
