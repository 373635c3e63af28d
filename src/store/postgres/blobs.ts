/**
 * Where a PostgreSQL store keeps blob bytes: in the database (`blob_data`, the default,
 * shared by every node with no extra setup) or in a directory every node mounts
 * (`blob_dir`). Reference counts live in the `blobs` table either way; these classes
 * add what a transaction needs: "is the blob there, and keep it there until I commit"
 * and "the last reference is gone".
 */
import { Readable } from 'node:stream';
import { StoreError } from '../errors.js';
import { checkHash, collectBytes, FsBlobStore, sha256Hex } from '../blob/fs-blob-store.js';
import type { BlobBytes } from '../types.js';
import { toStoreError, type Pool } from './db.js';
import type { BlobBackend } from '../core/blobs.js';
import type { Tx } from '../core/tx.js';

/** Reads are paged in slices this big: a 50 MB attachment never sits whole in memory. */
const READ_CHUNK = 256 * 1024;

/** Either PostgreSQL blob storage: the BlobBackend the storage rules need (../core/blobs.ts). */
export type PgBlobBackend = BlobBackend;

/** Blob bytes in the `blob_data` table. Deleted in the same transaction as the last reference. */
export class PgBlobStore implements PgBlobBackend {
  /** `writePool`: where put() inserts (db.ts createBlobWritePool: durable with the first transaction that references the blob). */
  constructor(
    private readonly pool: Pool,
    private readonly writePool: Pool = pool,
  ) {}

  async put(hash: string, bytes: BlobBytes): Promise<void> {
    checkHash(hash);
    // One bytea parameter: the bytes are collected here (appending to a TOASTed value in
    // pieces would rewrite it once per piece). Use `blob_dir` for very large messages.
    const data = await collectBytes(bytes);
    if (sha256Hex(data) !== hash) throw new StoreError('invalid', `blob bytes do not hash to ${hash}`);
    try {
      await this.writePool.query('INSERT INTO blob_data (hash, data) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING', [hash, data]);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async has(hash: string): Promise<boolean> {
    checkHash(hash);
    try {
      return (await this.pool.query('SELECT 1 FROM blob_data WHERE hash = $1', [hash])).rowCount! > 0;
    } catch (err) {
      throw toStoreError(err);
    }
  }

  read(hash: string, start = 0, end?: number): Readable {
    checkHash(hash);
    if (start < 0 || (end !== undefined && end < start)) throw new StoreError('invalid', `bad byte range [${start}, ${end})`);
    const pool = this.pool;
    async function* chunks(): AsyncGenerator<Buffer> {
      let pos = start;
      for (;;) {
        const want = end === undefined ? READ_CHUNK : Math.min(READ_CHUNK, end - pos);
        if (want <= 0) return;
        let row: { d: Buffer; n: number } | undefined;
        try {
          // substring() is 1-based; with STORAGE EXTERNAL it reads only the needed TOAST chunks.
          row = (await pool.query('SELECT substring(data FROM $2 FOR $3) AS d, length(data) AS n FROM blob_data WHERE hash = $1', [hash, pos + 1, want])).rows[0];
        } catch (err) {
          throw toStoreError(err);
        }
        if (!row) throw new StoreError('notfound', `no blob ${hash}`);
        if (row.d.length > 0) yield row.d;
        pos += row.d.length;
        if (row.d.length < want || pos >= row.n) return;
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  async delete(hash: string): Promise<void> {
    checkHash(hash);
    try {
      // Only unreferenced bytes: a referenced blob is released through its message rows.
      await this.pool.query('DELETE FROM blob_data WHERE hash = $1 AND NOT EXISTS (SELECT 1 FROM blobs WHERE hash = $1)', [hash]);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async lockedSize(tx: Tx, hash: string): Promise<number | null> {
    // FOR KEY SHARE: a concurrent release deleting this row waits for us, or we wait for it and see it gone.
    const r = await tx.get<{ n: number }>('SELECT length(data) AS n FROM blob_data WHERE hash = ? FOR KEY SHARE', [hash]);
    return r ? r.n : null;
  }

  async dropped(tx: Tx, hash: string): Promise<void> {
    await tx.exec('DELETE FROM blob_data WHERE hash = ?', [hash]);
  }

  async afterCommit(): Promise<void> {}
}

/**
 * Blob files in a directory shared by every node (NFS or similar). Files are unlinked
 * after commit, under a per-hash advisory lock that a transaction taking the blob again
 * also holds, and only when no row references the blob by then.
 */
export class SharedDirBlobStore extends FsBlobStore implements PgBlobBackend {
  constructor(
    dir: string,
    private readonly pool: Pool,
  ) {
    super(dir);
  }

  async lockedSize(tx: Tx, hash: string): Promise<number | null> {
    await tx.exec('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [hash]);
    return this.sizeSync(hash);
  }

  async dropped(tx: Tx, hash: string): Promise<void> {
    tx.unlink.add(hash);
  }

  async afterCommit(hashes: Set<string>): Promise<void> {
    if (hashes.size === 0) return;
    const client = await this.pool.connect().catch(() => null);
    if (!client) return; // a file left behind is only garbage
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      for (const hash of hashes) {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [hash]);
        // A row kept inline (store/blob/inline.ts) needs no file either.
        if ((await client.query('SELECT 1 FROM blobs WHERE hash = $1 AND inline_id IS NULL', [hash])).rowCount === 0) this.deleteSync(hash);
      }
      await client.query('COMMIT');
    } catch {
      await client.query('ROLLBACK').catch(() => undefined);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}
