/**
 * The manifest of a backup directory: every file of the backup with its size and sha256.
 * It is written last, by rename, so its presence is the backup's commit point: a backup
 * killed before that has no (new) manifest and restore refuses it (or uses the previous one).
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const MANIFEST = 'manifest.json';
const FORMAT = 'mailroom-backup';

export interface ManifestFile {
  /** Relative to the backup directory, '/'-separated. */
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: typeof FORMAT;
  version: 1;
  createdAt: string;
  /** The database file in the backup (its name changes with each backup, so an old manifest stays valid). */
  database: string;
  schemaVersion: number;
  files: ManifestFile[];
}

export class ManifestError extends Error {}

/** sha256 hex of a file, read in chunks (blobs may be large). */
export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** The manifest in `dir`, or null when there is none; ManifestError when it is not one of ours. */
export function readManifest(dir: string): Manifest | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, MANIFEST), 'utf8');
  } catch {
    return null;
  }
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch {
    throw new ManifestError(`${MANIFEST} in ${dir} is not valid JSON`);
  }
  if (m.format !== FORMAT || m.version !== 1 || !Array.isArray(m.files) || typeof m.database !== 'string') {
    throw new ManifestError(`${MANIFEST} in ${dir} is not a mailroom backup manifest`);
  }
  for (const f of m.files) {
    if (typeof f.path !== 'string' || f.path.startsWith('/') || f.path.split('/').includes('..')) throw new ManifestError(`unsafe path in manifest: ${String(f.path)}`);
  }
  return m;
}

/** Writes the manifest atomically and durably (temp file, fsync, rename, fsync of the directory). */
export function writeManifest(dir: string, m: Manifest): void {
  const tmp = path.join(dir, `.${MANIFEST}.${randomBytes(6).toString('hex')}`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(m, null, 1));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, MANIFEST));
  syncDir(dir);
}

/** Problems found checking every listed file against its size and sha256 (empty: the backup is intact). */
export function verifyManifest(dir: string, m: Manifest, onFile?: () => void): string[] {
  const problems: string[] = [];
  if (!m.files.some((f) => f.path === m.database)) problems.push(`the database ${m.database} is not listed`);
  for (const f of m.files) {
    const file = path.join(dir, ...f.path.split('/'));
    onFile?.();
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      problems.push(`missing: ${f.path}`);
      continue;
    }
    if (size !== f.size) problems.push(`wrong size: ${f.path} (${size}, manifest says ${f.size})`);
    else if (sha256File(file) !== f.sha256) problems.push(`wrong sha256: ${f.path}`);
  }
  return problems;
}

export function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Platforms that cannot fsync a directory still rename atomically.
  }
}
