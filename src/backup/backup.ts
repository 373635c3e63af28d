/**
 * `mailroom backup`: a consistent online backup of a SQLite data directory into DIR.
 *
 * The database is copied with `VACUUM INTO` (one read transaction: a snapshot, never
 * restarted by concurrent writers, unlike the page-copying backup API under load). Blobs
 * are immutable content-addressed files, so they are hard-linked (copied across file
 * systems). A blob row in the snapshot implies its file existed at snapshot time, but an
 * expunge can unlink it right after; so every blob is linked once BEFORE the snapshot, and
 * whatever the snapshot references and is still missing is linked after it. Only if a blob
 * was both created and removed in between is the snapshot retaken.
 *
 * Incremental: blobs already in DIR (listed by the previous manifest) are not copied or
 * hashed again. The database gets a new name each time and the manifest is replaced last,
 * so a backup killed midway leaves the previous backup intact, or no manifest at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { readManifest, sha256File, syncDir, writeManifest, type Manifest, type ManifestFile } from './manifest.js';
import { dataFiles, walkBlobs } from './layout.js';

export interface BackupResult {
  database: string;
  blobsNew: number;
  blobsKept: number;
  files: number;
  bytesNew: number;
}

/** How a step reports progress (the CLI draws a bar from it); total may grow. */
export type Progress = (done: number, total: number) => void;

const ATTEMPTS = 5;

export function makeBackup(dataDir: string, outDir: string, progress?: Progress): BackupResult {
  const dbFile = path.join(dataDir, 'mailroom.db');
  if (!fs.existsSync(dbFile)) throw new Error(`no database at ${dbFile}`);
  fs.mkdirSync(path.join(outDir, 'blobs'), { recursive: true });
  const previous = readManifest(outDir);
  const known = new Map((previous?.files ?? []).map((f) => [f.path, f]));
  const liveBlobs = path.join(dataDir, 'blobs');
  const stats = { blobsNew: 0, bytesNew: 0 };
  /** Puts the blob file `name` into the backup; false when it is not in the data directory (any more). */
  const stageFile = (name: string): boolean => {
    const rel = blobPath(name);
    const target = path.join(outDir, ...rel.split('/'));
    if (fs.existsSync(target)) return true;
    const copied = linkOrCopy(path.join(liveBlobs, ...rel.split('/').slice(1)), target);
    if (copied) {
      stats.blobsNew++;
      stats.bytesNew += fs.statSync(target).size;
    }
    return copied;
  };
  /** The file name a referenced blob has in the backup (plain or compressed), or null when neither could be staged. */
  const stage = (hash: string): string | null => {
    for (const name of [hash, `${hash}.br`]) if (fs.existsSync(path.join(outDir, ...blobPath(name).split('/')))) return name;
    for (const name of [hash, `${hash}.br`]) if (stageFile(name)) return name;
    return null;
  };

  const before = walkBlobs(liveBlobs);
  before.forEach((name, i) => {
    stageFile(name);
    progress?.(i + 1, before.length);
  });

  for (let attempt = 1; ; attempt++) {
    const name = `mailroom-${new Date().toISOString().replace(/[:.]/g, '-')}.db`;
    const snapshot = path.join(outDir, name);
    const tmp = `${snapshot}.tmp`;
    fs.rmSync(tmp, { force: true });
    const src = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      src.pragma('busy_timeout = 10000');
      src.prepare('VACUUM INTO ?').run(tmp);
    } finally {
      src.close();
    }
    fsyncFile(tmp);
    fs.renameSync(tmp, snapshot);
    const { hashes, schemaVersion } = snapshotFacts(snapshot);
    const names = hashes.map(stage);
    const missing = names.filter((n) => n === null);
    if (missing.length > 0) {
      fs.rmSync(snapshot, { force: true });
      if (attempt >= ATTEMPTS) throw new Error(`blobs vanished while backing up (${missing.length}); is the data directory being deleted?`);
      continue;
    }
    syncTree(path.join(outDir, 'blobs'));
    const files: ManifestFile[] = [entry(outDir, name)];
    for (const name of names as string[]) {
      const rel = blobPath(name);
      files.push(known.get(rel) ?? entry(outDir, rel));
    }
    const extra = copyDataFiles(dataDir, outDir);
    files.push(...extra.map((rel) => entry(outDir, rel)));
    const manifest: Manifest = { format: 'mailroom-backup', version: 1, createdAt: new Date().toISOString(), database: name, schemaVersion, files };
    syncDir(outDir);
    writeManifest(outDir, manifest);
    removeUnlisted(outDir, manifest);
    const kept = (names as string[]).filter((n) => known.has(blobPath(n))).length;
    return { database: name, blobsNew: stats.blobsNew, blobsKept: kept, files: files.length, bytesNew: stats.bytesNew };
  }
}

/** Backup path of a blob file by its name (`<hash>` or `<hash>.br`). */
export function blobPath(name: string): string {
  return `blobs/${name.slice(0, 2)}/${name.slice(2, 4)}/${name}`;
}

function entry(dir: string, rel: string): ManifestFile {
  const file = path.join(dir, ...rel.split('/'));
  return { path: rel, size: fs.statSync(file).size, sha256: sha256File(file) };
}

/** The blob hashes the snapshot references as files, and its schema version. */
function snapshotFacts(file: string): { hashes: string[]; schemaVersion: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const hashes = (db.prepare(`SELECT hash FROM blobs ${blobFileFilter(db)}`).pluck().all() as string[]).filter((h) => /^[0-9a-f]{64}$/.test(h));
    const schemaVersion = (db.prepare('SELECT max(version) FROM schema_migrations').pluck().get() as number | null) ?? 0;
    return { hashes, schemaVersion };
  } finally {
    db.close();
  }
}

/** Blobs kept inside the database (`blobs.inline_id`, schema 20: store/blob/inline.ts) need no file: the snapshot has them. */
function blobFileFilter(db: Database.Database): string {
  const cols = db.prepare('PRAGMA table_info(blobs)').all() as { name: string }[];
  return cols.some((c) => c.name === 'inline_id') ? 'WHERE inline_id IS NULL' : '';
}

/** Hard link (same file system) or copy through a temp file; false when the source is gone. */
export function linkOrCopy(from: string, to: string): boolean {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.linkSync(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'EEXIST') return true;
  }
  const tmp = `${to}.tmp`;
  try {
    fs.copyFileSync(from, tmp);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  fsyncFile(tmp);
  fs.renameSync(tmp, to);
  return true;
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncTree(dir: string): void {
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) if (d.isDirectory()) syncTree(path.join(dir, d.name));
  syncDir(dir);
}

/** Copies the data directory's other files (DKIM keys, TLS material) under files/; returns their backup paths. */
function copyDataFiles(dataDir: string, outDir: string): string[] {
  const out: string[] = [];
  for (const rel of dataFiles(dataDir)) {
    const target = path.join(outDir, 'files', ...rel.split('/'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(dataDir, ...rel.split('/')), `${target}.tmp`);
    fsyncFile(`${target}.tmp`);
    fs.renameSync(`${target}.tmp`, target);
    out.push(`files/${rel}`);
  }
  return out;
}

/** After the manifest is in place: older databases, blobs no longer referenced and stale files go. */
function removeUnlisted(outDir: string, m: Manifest): void {
  const listed = new Set(m.files.map((f) => f.path));
  for (const name of fs.readdirSync(outDir)) {
    if (/^mailroom-.*\.db(\.tmp)?$/.test(name) && !listed.has(name)) fs.rmSync(path.join(outDir, name), { force: true });
  }
  for (const name of walkBlobs(path.join(outDir, 'blobs'))) {
    if (!listed.has(blobPath(name))) fs.rmSync(path.join(outDir, ...blobPath(name).split('/')), { force: true });
  }
  const walk = (rel: string) => {
    const dir = path.join(outDir, rel);
    if (!fs.existsSync(dir)) return;
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = `${rel}/${d.name}`;
      if (d.isDirectory()) walk(r);
      else if (!listed.has(r)) fs.rmSync(path.join(outDir, r), { force: true });
    }
  };
  walk('files');
}
