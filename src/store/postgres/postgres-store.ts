/**
 * The PostgreSQL Store: the modules in this folder behind the contract in ../types.ts,
 * for several Mailroom nodes on one database.
 *
 * Never imports: protocol code (src/imap, src/pop3, src/smtp), src/mail, src/net.
 *
 * Invariants (see also ../types.ts):
 * - Every method is one transaction: REPEATABLE READ READ ONLY for reads (one snapshot,
 *   so HIGHESTMODSEQ and the rows of changesSince agree), READ COMMITTED for writes with
 *   explicit row locks (user row first, then mailbox, contents and blobs in key order).
 * - Change events are NOTIFYed inside the write transaction (other nodes hear them on
 *   commit) and published on this process's bus after commit; the payload names this
 *   process (`origin`) so its own PostgresChangeBus does not fire them twice.
 * - A lost connection or timeout is StoreError 'unavailable'; the pool reconnects by
 *   itself once PostgreSQL is back, so the server never needs a restart.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ChangeBus } from '../bus.js';
import { streamSegments } from '../sqlite/contents.js';
import type { FsBlobStore } from '../blob/fs-blob-store.js';
import type {
  Alias, AppendRequest, AppendResult, Changes, ContentMeta, CopyResult, Domain, FlagUpdate, FlagUpdateResult, Id, Mailbox, MessageRow,
  ModSeq, QuotaLimits, QuotaUsage, SpecialUse, StorageStats, Store, Uid, User,
  EnqueueRequest, QueueEntry, QueueRecipientResult, QueueReschedule,
} from '../types.js';
import { PgBlobStore, SharedDirBlobStore, type PgBlobBackend } from './blobs.js';
import * as contents from './contents.js';
import { createPool, inTransaction, type PgOptions, type Pool } from './db.js';
import * as leases from './leases.js';
import * as mailboxes from './mailboxes.js';
import * as messages from './messages.js';
import { pgCurrentVersion, pgMigrate } from './migrations.js';
import * as queue from './queue.js';
import { PgTx } from './tx.js';
import * as users from './users.js';

export interface PostgresStoreOptions extends PgOptions {
  bus: ChangeBus;
  /** Empty or absent: blob bytes in the database. Otherwise a directory every node shares. */
  blobDir?: string;
}

export class PostgresStore implements Store {
  readonly blobs: PgBlobBackend;
  readonly pool: Pool;
  /** This process in NOTIFY payloads (taken from a PostgresChangeBus when given one). */
  readonly origin: string;
  private readonly bus: ChangeBus;
  private closed = false;

  constructor(opts: PostgresStoreOptions) {
    this.pool = createPool(opts);
    this.bus = opts.bus;
    this.origin = (opts.bus as { origin?: unknown }).origin?.toString() ?? randomUUID();
    this.blobs = opts.blobDir ? new SharedDirBlobStore(opts.blobDir, this.pool) : new PgBlobStore(this.pool);
  }

  /** Runs `fn` in a read-only snapshot. */
  read<T>(fn: (tx: PgTx) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (c) => fn(new PgTx(c, this.origin)), 'read');
  }

  /** Runs `fn` in a write transaction that NOTIFYs its events; then cleans blobs and publishes locally. */
  async write<T>(fn: (tx: PgTx) => Promise<T>): Promise<T> {
    let tx!: PgTx;
    const result = await inTransaction(this.pool, async (c) => {
      tx = new PgTx(c, this.origin);
      const r = await fn(tx);
      await tx.notify();
      return r;
    });
    await this.blobs.afterCommit(tx.unlink);
    for (const event of tx.changeEvents()) this.bus.publish(event);
    return result;
  }

  async migrate(): Promise<void> {
    await this.write((tx) => pgMigrate(tx));
  }

  schemaVersion(): Promise<number> {
    return this.read((tx) => pgCurrentVersion(tx));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  // Domains
  addDomain(name: string): Promise<Domain> { return this.write((tx) => users.addDomain(tx, name)); }
  getDomain(name: string): Promise<Domain | null> { return this.read((tx) => users.getDomain(tx, name)); }
  listDomains(): Promise<Domain[]> { return this.read((tx) => users.listDomains(tx)); }
  deleteDomain(name: string): Promise<void> { return this.write((tx) => users.deleteDomain(tx, name)); }

  // Users
  addUser(address: string, passwordHash: string, boxes: { name: string; specialUse: SpecialUse | null }[]): Promise<User> {
    return this.write((tx) => users.addUser(tx, address, passwordHash, boxes));
  }
  getUser(address: string): Promise<User | null> { return this.read((tx) => users.getUser(tx, address)); }
  getUserById(id: Id): Promise<User | null> { return this.read((tx) => users.getUserById(tx, id)); }
  listUsers(domain?: string): Promise<User[]> { return this.read((tx) => users.listUsers(tx, domain)); }
  deleteUser(address: string): Promise<void> { return this.write((tx) => users.deleteUser(tx, this.blobs, address)); }
  setPassword(userId: Id, hash: string): Promise<void> { return this.write((tx) => users.setPassword(tx, userId, hash)); }
  setQuota(userId: Id, limits: QuotaLimits): Promise<void> { return this.write((tx) => users.setQuota(tx, userId, limits)); }
  getQuota(userId: Id): Promise<QuotaUsage> { return this.read((tx) => users.getQuota(tx, userId)); }
  setUserSetting(userId: Id, key: string, value: string | null): Promise<void> {
    return this.write((tx) => users.setUserSetting(tx, userId, key, value));
  }

  // Aliases
  addAlias(source: string, target: string): Promise<void> { return this.write((tx) => users.addAlias(tx, source, target)); }
  deleteAlias(source: string, target?: string): Promise<number> { return this.write((tx) => users.deleteAlias(tx, source, target)); }
  listAliases(domain?: string): Promise<Alias[]> { return this.read((tx) => users.listAliases(tx, domain)); }
  aliasTargets(source: string): Promise<string[]> { return this.read((tx) => users.aliasTargets(tx, source)); }

  // Mailboxes
  createMailbox(userId: Id, name: string, specialUse?: SpecialUse | null): Promise<Mailbox> {
    return this.write((tx) => mailboxes.createMailboxRow(tx, userId, name, specialUse));
  }
  getMailbox(userId: Id, name: string): Promise<Mailbox | null> { return this.read((tx) => mailboxes.getMailbox(tx, userId, name)); }
  getMailboxById(id: Id): Promise<Mailbox | null> { return this.read((tx) => mailboxes.getMailboxById(tx, id)); }
  listMailboxes(userId: Id): Promise<Mailbox[]> { return this.read((tx) => mailboxes.listMailboxes(tx, userId)); }
  renameMailbox(userId: Id, from: string, to: string): Promise<void> { return this.write((tx) => mailboxes.renameMailbox(tx, userId, from, to)); }
  deleteMailbox(userId: Id, name: string): Promise<void> { return this.write((tx) => messages.deleteMailbox(tx, this.blobs, userId, name)); }
  setSubscribed(userId: Id, name: string, on: boolean): Promise<void> { return this.write((tx) => mailboxes.setSubscribed(tx, userId, name, on)); }
  listSubscriptions(userId: Id): Promise<string[]> { return this.read((tx) => mailboxes.listSubscriptions(tx, userId)); }

  // Messages
  appendMessage(req: AppendRequest): Promise<AppendResult> { return this.write((tx) => messages.appendMessage(tx, this.blobs, req)); }
  listMessages(mailboxId: Id, viewerId: Id): Promise<MessageRow[]> { return this.read((tx) => messages.listMessages(tx, mailboxId, viewerId)); }
  getMessages(mailboxId: Id, uids: Uid[], viewerId: Id): Promise<MessageRow[]> {
    return this.read((tx) => messages.getMessages(tx, mailboxId, uids, viewerId));
  }
  updateFlags(update: FlagUpdate): Promise<FlagUpdateResult> { return this.write((tx) => messages.updateFlags(tx, update)); }
  expunge(mailboxId: Id, uids: Uid[]): Promise<Uid[]> { return this.write((tx) => messages.expunge(tx, this.blobs, mailboxId, uids)); }
  copyMessages(from: Id, uids: Uid[], to: Id): Promise<CopyResult> { return this.write((tx) => messages.copyMessages(tx, from, uids, to)); }
  moveMessages(from: Id, uids: Uid[], to: Id): Promise<CopyResult> { return this.write((tx) => messages.moveMessages(tx, from, uids, to)); }
  changesSince(mailboxId: Id, modSeq: ModSeq, viewerId: Id): Promise<Changes> {
    return this.read((tx) => messages.changesSince(tx, mailboxId, modSeq, viewerId));
  }

  setUidl(mailboxId: Id, uid: Uid, uidl: string): Promise<void> { return this.write((tx) => messages.setUidl(tx, mailboxId, uid, uidl)); }

  // Leases and logins
  acquireLease(key: string, owner: string, ttlMs: number): Promise<boolean> { return this.write((tx) => leases.acquireLease(tx, key, owner, ttlMs)); }
  renewLease(key: string, owner: string, ttlMs: number): Promise<boolean> { return this.write((tx) => leases.renewLease(tx, key, owner, ttlMs)); }
  releaseLease(key: string, owner: string): Promise<void> { return this.write((tx) => leases.releaseLease(tx, key, owner)); }
  recordLogin(userId: Id, kind: string, at: Date, minIntervalMs: number): Promise<{ ok: boolean; previous: Date | null }> {
    return this.write((tx) => leases.recordLogin(tx, userId, kind, at, minIntervalMs));
  }

  // Content
  getContent(id: string): Promise<ContentMeta | null> { return this.read((tx) => contents.getContent(tx, id)); }
  hasContent(id: string): Promise<boolean> { return this.read((tx) => contents.hasContent(tx, id)); }
  async openContent(id: string, start?: number, end?: number): Promise<Readable> {
    const c = await this.read((tx) => contents.contentSegments(tx, id));
    // streamSegments only calls read(); both blob backends provide it.
    return streamSegments(this.blobs as unknown as FsBlobStore, c.segments, c.size, start, end);
  }

  stats(): Promise<StorageStats> { return this.read((tx) => contents.stats(tx)); }

  // Outbound queue
  enqueueMessage(req: EnqueueRequest): Promise<QueueEntry> { return this.write((tx) => queue.enqueue(tx, this.blobs, req)); }
  getQueueEntry(id: string): Promise<QueueEntry | null> { return this.read((tx) => queue.getEntry(tx, id)); }
  listQueueEntries(): Promise<QueueEntry[]> { return this.read((tx) => queue.listEntries(tx)); }
  claimQueueEntries(owner: string, now: Date, leaseMs: number, limit: number): Promise<QueueEntry[]> {
    return this.write((tx) => queue.claim(tx, owner, now, leaseMs, limit));
  }
  recordQueueResults(id: string, results: QueueRecipientResult[], at: Date): Promise<void> {
    return this.write((tx) => queue.recordResults(tx, id, results, at));
  }
  releaseQueueEntry(id: string, owner: string, update: QueueReschedule): Promise<boolean> {
    return this.write((tx) => queue.release(tx, id, owner, update));
  }
  clearQueueDsn(id: string, addresses: string[]): Promise<void> { return this.write((tx) => queue.clearDsn(tx, id, addresses)); }
  retryQueueEntry(id: string, at: Date): Promise<boolean> { return this.write((tx) => queue.retry(tx, id, at)); }
  deleteQueueEntry(id: string): Promise<boolean> { return this.write((tx) => queue.remove(tx, this.blobs, id)); }
}
