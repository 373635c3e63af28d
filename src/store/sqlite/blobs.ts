/**
 * Blob files of a SQLite store, as the storage rules need them (../core/blobs.ts):
 * existence is checked under the write lock (every write transaction holds it), and
 * a file whose last reference went is unlinked after commit, in a write transaction of
 * its own, and only if no row took the blob again meanwhile.
 */
import { FsBlobStore } from '../blob/fs-blob-store.js';
import type { BlobBackend } from '../core/blobs.js';
import type { Tx } from '../core/tx.js';
import type { SqliteDriver } from './driver.js';

export class SqliteBlobs extends FsBlobStore implements BlobBackend {
  constructor(
    dir: string,
    private readonly driver: SqliteDriver,
  ) {
    super(dir);
  }

  async lockedSize(_tx: Tx, hash: string): Promise<number | null> {
    // Under the write lock: a concurrent release unlinks only after our commit, and then sees our row.
    return this.sizeSync(hash);
  }

  async dropped(tx: Tx, hash: string): Promise<void> {
    tx.unlink.add(hash);
  }

  async afterCommit(hashes: Set<string>): Promise<void> {
    if (hashes.size === 0) return;
    try {
      // Under the write lock: a transaction that re-creates the blob row checks the file
      // under the same lock, so it either keeps our file or sees it gone and retries.
      await this.driver.transaction('write', async (c) => {
        // A row kept inline (store/blob/inline.ts) needs no file either.
        for (const hash of hashes) if (!(await c.get('SELECT 1 FROM blobs WHERE hash = ? AND inline_id IS NULL', [hash]))) this.deleteSync(hash);
      });
    } catch {
      // A file left behind is only garbage: its row is gone and a re-put is idempotent.
    }
  }
}
