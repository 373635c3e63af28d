/**
 * What a data directory takes on disk, the way `du` counts it (allocated blocks, not
 * file lengths), split by what holds it: blob files, the SQLite main file, its WAL and
 * shared-memory index, and everything else (certificates, spool, sockets). With the
 * database closed, `tables` gives the main file's pages per table and index (dbstat).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export interface DiskUsage {
  total: number;
  blobFiles: number;
  blobFileCount: number;
  db: number;
  wal: number;
  shm: number;
  other: number;
}

function allocated(st: fs.Stats): number {
  return st.blocks * 512;
}

function walk(dir: string, visit: (file: string, st: fs.Stats) => void): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const st = fs.lstatSync(p);
    if (e.isDirectory()) {
      visit(p, st);
      walk(p, visit);
    } else visit(p, st);
  }
}

/** Allocated bytes under `dataDir`, by kind. Directories count (they take blocks too). */
export function diskUsage(dataDir: string): DiskUsage {
  const u: DiskUsage = { total: 0, blobFiles: 0, blobFileCount: 0, db: 0, wal: 0, shm: 0, other: 0 };
  const blobs = path.join(dataDir, 'blobs') + path.sep;
  walk(dataDir, (file, st) => {
    const n = allocated(st);
    u.total += n;
    const base = path.basename(file);
    if (file.startsWith(blobs)) {
      u.blobFiles += n;
      if (st.isFile()) u.blobFileCount++;
    } else if (base === 'mailroom.db') u.db += n;
    else if (base === 'mailroom.db-wal') u.wal += n;
    else if (base === 'mailroom.db-shm') u.shm += n;
    else u.other += n;
  });
  return u;
}

/** Bytes of the main database file per table or index (sorted, largest first), from SQLite's dbstat. */
export function tableSizes(dbFile: string): { name: string; bytes: number }[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    const rows = db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as { name: string; bytes: number }[];
    return rows;
  } finally {
    db.close();
  }
}
