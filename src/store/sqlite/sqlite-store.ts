/**
 * The SQLite Store: the storage rules of ../core/ over the SQLite driver (./driver.ts:
 * one writer with group commit, one reader), blob files (./blobs.ts) and this folder's
 * migrations.
 *
 * Never imports: ../postgres, protocol code (src/imap, src/pop3, src/smtp), src/mail, src/net.
 *
 * Invariants (see also ../types.ts and ../core/core-store.ts):
 * - Every method is one SQLite transaction: IMMEDIATE for writes (no lock upgrade
 *   deadlocks between processes), deferred for reads (a consistent snapshot).
 * - WAL + synchronous=FULL: a resolved promise means the commit is on disk.
 * - Change events are published only after commit; blob files are unlinked only after
 *   commit, under the write lock and only if no row took the blob again meanwhile.
 * - Errors leave here only as StoreError.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChangeBus } from '../bus.js';
import { CoreStore } from '../core/core-store.js';
import { SqliteBlobs } from './blobs.js';
import { SqliteDriver, toStoreError, type Db } from './driver.js';
import { currentVersion, migrate } from './migrations.js';

export interface SqliteStoreOptions {
  /** Database file. */
  file: string;
  /** Directory of blob files. */
  blobDir: string;
  bus: ChangeBus;
  busyTimeoutMs?: number;
}

export class SqliteStore extends CoreStore {
  readonly blobs: SqliteBlobs;
  /** Public for tests and diagnostics (commit counts); callers use the Store methods. */
  readonly driver: SqliteDriver;
  protected readonly bus: ChangeBus;
  private closed = false;

  constructor(opts: SqliteStoreOptions) {
    super();
    fs.mkdirSync(path.dirname(opts.file), { recursive: true });
    try {
      this.driver = new SqliteDriver(opts.file, opts.busyTimeoutMs);
    } catch (err) {
      throw toStoreError(err);
    }
    this.blobs = new SqliteBlobs(opts.blobDir, this.driver);
    this.bus = opts.bus;
  }

  /** The write connection, for tests, diagnostics (pragma read-back) and `store copy`. */
  get database(): Db {
    return this.driver.writer;
  }

  migrate(): Promise<void> {
    return this.driver.exclusive((db) => migrate(db));
  }

  schemaVersion(): Promise<number> {
    return this.driver.exclusive((db) => currentVersion(db));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.driver.close();
  }
}
