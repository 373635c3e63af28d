/**
 * The SQLite Store: wiring of the modules in this folder behind the contract in ../types.ts.
 *
 * Never imports: protocol code (src/imap, src/pop3, src/smtp), src/mail, src/net.
 *
 * Invariants (see also ../types.ts):
 * - Every method is one SQLite transaction: IMMEDIATE for writes (no lock upgrade
 *   deadlocks between processes), deferred for reads (a consistent snapshot).
 * - WAL + synchronous=FULL: a resolved promise means the commit is on disk.
 * - Change events are published only after commit; blob files are unlinked only after
 *   commit, under the write lock and only if no row took the blob again meanwhile.
 * - Errors leave here only as StoreError.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ChangeBus } from '../bus.js';
import { FsBlobStore } from '../blob/fs-blob-store.js';
import type { EnqueueRequest, QueueEntry, QueueRecipientResult, QueueReschedule } from '../types.js';
import type {
  Alias, AppendRequest, AppendResult, Changes, ContentMeta, CopyResult, Domain, FlagUpdate, FlagUpdateResult, Id, Mailbox, MessageRow,
  ModSeq, QuotaLimits, QuotaUsage, SpecialUse, StorageStats, Store, Uid, User,
} from '../types.js';
import * as contents from './contents.js';
import { openDatabase, Statements, toStoreError, type Db } from './db.js';
import * as leases from './leases.js';
import * as mailboxes from './mailboxes.js';
import * as messages from './messages.js';
import { currentVersion, migrate } from './migrations.js';
import * as queue from './queue.js';
import { Tx } from './tx.js';
import * as users from './users.js';

export interface SqliteStoreOptions {
  /** Database file. */
  file: string;
  /** Directory of blob files. */
  blobDir: string;
  bus: ChangeBus;
  busyTimeoutMs?: number;
}

export class SqliteStore implements Store {
  readonly blobs: FsBlobStore;
  private readonly db: Db;
  private readonly s: Statements;
  private readonly bus: ChangeBus;
  private closed = false;

  constructor(opts: SqliteStoreOptions) {
    fs.mkdirSync(path.dirname(opts.file), { recursive: true });
    this.blobs = new FsBlobStore(opts.blobDir);
    try {
      this.db = openDatabase(opts.file, opts.busyTimeoutMs);
    } catch (err) {
      throw toStoreError(err);
    }
    this.s = new Statements(this.db);
    this.bus = opts.bus;
  }

  /** The connection, for tests and diagnostics (pragma read-back). */
  get database(): Db {
    return this.db;
  }

  /** Runs `fn` in a deferred (read) transaction. */
  private read<T>(fn: (s: Statements) => T): Promise<T> {
    try {
      return Promise.resolve(this.db.transaction(() => fn(this.s)).deferred());
    } catch (err) {
      return Promise.reject(toStoreError(err));
    }
  }

  /** Runs `fn` in an IMMEDIATE transaction, then unlinks released blobs and publishes events. */
  private write<T>(fn: (tx: Tx) => T): Promise<T> {
    const tx = new Tx(this.s, this.blobs);
    let result: T;
    try {
      result = this.db.transaction(() => fn(tx)).immediate();
    } catch (err) {
      return Promise.reject(toStoreError(err));
    }
    this.afterCommit(tx);
    return Promise.resolve(result);
  }

  private afterCommit(tx: Tx): void {
    if (tx.unlink.size > 0) {
      try {
        // Under the write lock: a transaction that re-creates the blob row checks the file
        // under the same lock, so it either keeps our file or sees it gone and retries.
        this.db
          .transaction(() => {
            const row = this.s.get('SELECT 1 FROM blobs WHERE hash = ?');
            for (const hash of tx.unlink) if (!row.get(hash)) this.blobs.deleteSync(hash);
          })
          .immediate();
      } catch {
        // A file left behind is only garbage: its row is gone and a re-put is idempotent.
      }
    }
    for (const event of tx.changeEvents()) this.bus.publish(event);
  }

  async migrate(): Promise<void> {
    try {
      migrate(this.db);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  schemaVersion(): Promise<number> {
    return this.read(() => currentVersion(this.db));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  // Domains
  addDomain(name: string): Promise<Domain> { return this.write((tx) => users.addDomain(tx, name)); }
  getDomain(name: string): Promise<Domain | null> { return this.read((s) => users.getDomain(s, name)); }
  listDomains(): Promise<Domain[]> { return this.read((s) => users.listDomains(s)); }
  deleteDomain(name: string): Promise<void> { return this.write((tx) => users.deleteDomain(tx, name)); }

  // Users
  addUser(address: string, passwordHash: string, boxes: { name: string; specialUse: SpecialUse | null }[]): Promise<User> {
    return this.write((tx) => users.addUser(tx, address, passwordHash, boxes));
  }
  getUser(address: string): Promise<User | null> { return this.read((s) => users.getUser(s, address)); }
  getUserById(id: Id): Promise<User | null> { return this.read((s) => users.getUserById(s, id)); }
  listUsers(domain?: string): Promise<User[]> { return this.read((s) => users.listUsers(s, domain)); }
  deleteUser(address: string): Promise<void> { return this.write((tx) => users.deleteUser(tx, address)); }
  setPassword(userId: Id, hash: string): Promise<void> { return this.write((tx) => users.setPassword(tx, userId, hash)); }
  setQuota(userId: Id, limits: QuotaLimits): Promise<void> { return this.write((tx) => users.setQuota(tx, userId, limits)); }
  getQuota(userId: Id): Promise<QuotaUsage> { return this.read((s) => users.getQuota(s, userId)); }
  setUserSetting(userId: Id, key: string, value: string | null): Promise<void> {
    return this.write((tx) => users.setUserSetting(tx, userId, key, value));
  }

  // Aliases
  addAlias(source: string, target: string): Promise<void> { return this.write((tx) => users.addAlias(tx, source, target)); }
  deleteAlias(source: string, target?: string): Promise<number> { return this.write((tx) => users.deleteAlias(tx, source, target)); }
  listAliases(domain?: string): Promise<Alias[]> { return this.read((s) => users.listAliases(s, domain)); }
  aliasTargets(source: string): Promise<string[]> { return this.read((s) => users.aliasTargets(s, source)); }

  // Mailboxes
  createMailbox(userId: Id, name: string, specialUse?: SpecialUse | null): Promise<Mailbox> {
    return this.write((tx) => mailboxes.createMailboxRow(tx, userId, name, specialUse));
  }
  getMailbox(userId: Id, name: string): Promise<Mailbox | null> { return this.read((s) => mailboxes.getMailbox(s, userId, name)); }
  getMailboxById(id: Id): Promise<Mailbox | null> { return this.read((s) => mailboxes.getMailboxById(s, id)); }
  listMailboxes(userId: Id): Promise<Mailbox[]> { return this.read((s) => mailboxes.listMailboxes(s, userId)); }
  renameMailbox(userId: Id, from: string, to: string): Promise<void> { return this.write((tx) => mailboxes.renameMailbox(tx, userId, from, to)); }
  deleteMailbox(userId: Id, name: string): Promise<void> { return this.write((tx) => messages.deleteMailbox(tx, userId, name)); }
  setSubscribed(userId: Id, name: string, on: boolean): Promise<void> { return this.write((tx) => mailboxes.setSubscribed(tx, userId, name, on)); }
  listSubscriptions(userId: Id): Promise<string[]> { return this.read((s) => mailboxes.listSubscriptions(s, userId)); }

  // Messages
  appendMessage(req: AppendRequest): Promise<AppendResult> { return this.write((tx) => messages.appendMessage(tx, req)); }
  listMessages(mailboxId: Id, viewerId: Id): Promise<MessageRow[]> { return this.read((s) => messages.listMessages(s, mailboxId, viewerId)); }
  getMessages(mailboxId: Id, uids: Uid[], viewerId: Id): Promise<MessageRow[]> {
    return this.read((s) => messages.getMessages(s, mailboxId, uids, viewerId));
  }
  updateFlags(update: FlagUpdate): Promise<FlagUpdateResult> { return this.write((tx) => messages.updateFlags(tx, update)); }
  expunge(mailboxId: Id, uids: Uid[]): Promise<Uid[]> { return this.write((tx) => messages.expunge(tx, mailboxId, uids)); }
  copyMessages(from: Id, uids: Uid[], to: Id): Promise<CopyResult> { return this.write((tx) => messages.copyMessages(tx, from, uids, to)); }
  moveMessages(from: Id, uids: Uid[], to: Id): Promise<CopyResult> { return this.write((tx) => messages.moveMessages(tx, from, uids, to)); }
  changesSince(mailboxId: Id, modSeq: ModSeq, viewerId: Id): Promise<Changes> {
    return this.read((s) => messages.changesSince(s, mailboxId, modSeq, viewerId));
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
  getContent(id: string): Promise<ContentMeta | null> { return this.read((s) => contents.getContent(s, id)); }
  hasContent(id: string): Promise<boolean> { return this.read((s) => contents.hasContent(s, id)); }
  async openContent(id: string, start?: number, end?: number): Promise<Readable> {
    const c = await this.read((s) => contents.contentSegments(s, id));
    return contents.streamSegments(this.blobs, c.segments, c.size, start, end);
  }

  stats(): Promise<StorageStats> { return this.read((s) => contents.stats(s)); }

  // Outbound queue
  enqueueMessage(req: EnqueueRequest): Promise<QueueEntry> { return this.write((tx) => queue.enqueue(tx, req)); }
  getQueueEntry(id: string): Promise<QueueEntry | null> { return this.read((s) => queue.getEntry(s, id)); }
  listQueueEntries(): Promise<QueueEntry[]> { return this.read((s) => queue.listEntries(s)); }
  claimQueueEntries(owner: string, now: Date, leaseMs: number, limit: number): Promise<QueueEntry[]> {
    return this.write((tx) => queue.claim(tx, owner, now, leaseMs, limit));
  }
  recordQueueResults(id: string, results: QueueRecipientResult[], at: Date): Promise<void> {
    return this.write((tx) => queue.recordResults(tx, id, results, at));
  }
  releaseQueueEntry(id: string, owner: string, update: QueueReschedule): Promise<boolean> {
    return this.write((tx) => queue.release(tx, id, owner, update));
  }
  retryQueueEntry(id: string, at: Date): Promise<boolean> { return this.write((tx) => queue.retry(tx, id, at)); }
  deleteQueueEntry(id: string): Promise<boolean> { return this.write((tx) => queue.remove(tx, id)); }
  clearQueueDsn(id: string, addresses: string[]): Promise<void> { return this.write((tx) => queue.clearDsn(tx, id, addresses)); }
}
