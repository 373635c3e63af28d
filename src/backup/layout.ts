/** What a SQLite data directory holds, as backup and restore see it. */
import fs from 'node:fs';
import path from 'node:path';

/** Not copied as plain files: the database (copied as a snapshot), blobs (by hash), the spool. */
const SPECIAL = new Set(['mailroom.db', 'mailroom.db-wal', 'mailroom.db-shm', 'mailroom.db-journal', 'blobs', 'tmp']);

const BLOB = /^[0-9a-f]{64}(\.br)?$/;

/** A blob file's name: its sha256 hex, `.br` when kept compressed (store/blob/compressed.ts). */
export function isBlobName(name: string): boolean {
  return BLOB.test(name);
}

/** Names of the blob files under `dir` (`ab/cd/<name>`); temp files are skipped. */
export function walkBlobs(dir: string): string[] {
  const out: string[] = [];
  const list = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : []);
  for (const a of list(dir)) {
    for (const b of list(path.join(dir, a))) {
      for (const name of list(path.join(dir, a, b))) if (isBlobName(name)) out.push(name);
    }
  }
  return out;
}

/** The data directory's other regular files ('/'-separated relative paths). */
export function dataFiles(dataDir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dataDir, rel), { withFileTypes: true })) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      if (rel === '' && SPECIAL.has(d.name)) continue;
      if (d.isDirectory()) walk(r);
      else if (d.isFile()) out.push(r);
    }
  };
  walk('');
  return out;
}

/** The data directory entries a restore replaces (and --force removes first). */
export function isSpecialEntry(name: string): boolean {
  return SPECIAL.has(name);
}
