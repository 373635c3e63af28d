/**
 * The PostgreSQL Store: the storage rules of ../core/ over a pg pool (./db.ts), with
 * blob bytes in the database or a shared directory (./blobs.ts), for several Mailroom
 * nodes on one database.
 *
 * Never imports: ../sqlite, protocol code (src/imap, src/pop3, src/smtp), src/mail, src/net.
 *
 * Invariants (see also ../types.ts and ../core/core-store.ts):
 * - Every method is one transaction: REPEATABLE READ READ ONLY for reads (one snapshot,
 *   so HIGHESTMODSEQ and the rows of changesSince agree), READ COMMITTED for writes with
 *   explicit row locks (user row first, then mailbox, contents and blobs in key order).
 * - Change events are published on this process's bus after commit, then NOTIFYed to
 *   other nodes in a transaction of their own (./notifier.ts says why not inside the write);
 *   the payload names this process (`origin`) so its own PostgresChangeBus does not fire
 *   them twice.
 * - A lost connection or timeout is StoreError 'unavailable'; the pool reconnects by
 *   itself once PostgreSQL is back, so the server never needs a restart.
 */
import { randomUUID } from 'node:crypto';
import type { ChangeBus, ChangeEvent } from '../bus.js';
import { CoreStore } from '../core/core-store.js';
import { PgBlobStore, SharedDirBlobStore, type PgBlobBackend } from './blobs.js';
import { CHANGE_CHANNEL } from './change-bus.js';
import { createBlobWritePool, createPool, PgDriver, type PgOptions, type Pool } from './db.js';
import { pgCurrentVersion, pgMigrate } from './migrations.js';
import { ChangeNotifier } from './notifier.js';

export interface PostgresStoreOptions extends PgOptions {
  bus: ChangeBus;
  /** Empty or absent: blob bytes in the database. Otherwise a directory every node shares. */
  blobDir?: string;
}

export class PostgresStore extends CoreStore {
  readonly blobs: PgBlobBackend;
  readonly pool: Pool;
  /** This process in NOTIFY payloads (taken from a PostgresChangeBus when given one). */
  readonly origin: string;
  protected readonly driver: PgDriver;
  protected readonly bus: ChangeBus;
  private closed = false;
  /** Blob inserts without their own WAL flush (db.ts createBlobWritePool); none with blob_dir. */
  private readonly blobWritePool: Pool | undefined;
  /** One connection for NOTIFY transactions, which need no WAL flush of their own (./notifier.ts). */
  private readonly notifyPool: Pool;
  private readonly notifier: ChangeNotifier;

  constructor(opts: PostgresStoreOptions) {
    super();
    this.pool = createPool(opts);
    this.driver = new PgDriver(this.pool);
    this.bus = opts.bus;
    this.origin = (opts.bus as { origin?: unknown }).origin?.toString() ?? randomUUID();
    this.notifyPool = createPool({ ...opts, poolSize: 1 }, '-c synchronous_commit=off');
    this.notifier = new ChangeNotifier(async (payloads) => {
      await this.notifyPool.query({ name: 'mr_notify', text: 'SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', values: [CHANGE_CHANNEL, payloads] });
    });
    if (opts.blobDir) this.blobs = new SharedDirBlobStore(opts.blobDir, this.pool);
    else {
      this.blobWritePool = createBlobWritePool(opts);
      this.blobs = new PgBlobStore(this.pool, this.blobWritePool);
    }
  }

  /** Rings other nodes' doorbells for a committed write (never for a rolled-back one: this runs after commit). */
  protected override committed(events: ChangeEvent[]): void {
    for (const e of events) this.notifier.notify(JSON.stringify({ ...e, origin: this.origin }));
  }

  migrate(): Promise<void> {
    return this.driver.transaction('write', (c) => pgMigrate(c));
  }

  schemaVersion(): Promise<number> {
    return this.driver.transaction('read', (c) => pgCurrentVersion(c));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.notifier.close();
    await this.notifyPool.end();
    await this.driver.close();
    await this.blobWritePool?.end();
  }
}
