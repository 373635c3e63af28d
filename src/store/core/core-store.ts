/**
 * The Store contract (../types.ts) implemented once, over a Driver (./port.ts) and a
 * BlobBackend (./blobs.ts). Every storage rule lives in this folder: quota, UID and
 * MODSEQ assignment, threading, reference counts, leases, the outbound queue. A backend
 * (../sqlite/, ../postgres/) subclasses CoreStore with its driver, dialect and blob
 * storage, and nothing else.
 *
 * Never imports: a backend (../sqlite, ../postgres), SQL drivers (better-sqlite3, pg),
 * protocol code, src/mail.
 *
 * Invariants (see also ../types.ts):
 * - Every method is one driver transaction: 'read' for a consistent snapshot, 'write'
 *   for all-or-nothing.
 * - Change events are published on the bus only after the commit resolved, and blob
 *   bytes released by a transaction are removed only after it (BlobBackend.afterCommit).
 * - A write may run more than once (a driver retries deadlock victims): its bookkeeping
 *   (Tx) is made fresh for every run.
 * - Errors leave here only as StoreError (drivers map their own).
 */
import type { Readable } from 'node:stream';
import type { ChangeBus, ChangeEvent } from '../bus.js';
import { StoreError } from '../errors.js';
import type {
  AclChange, AclEntry, SharedMailbox, Alias, AppendRequest, AppendResult, Changes, ContentIndex, ContentMeta, CopyResult, CredentialState, DeletedBy, DeletedMessage, Device, Domain, EnqueueRequest, FlagUpdate, FlagUpdateResult, Id, Mailbox,
  MailboxCounts, MailboxSnapshot, SortKeyRows, Member, FailedLogin, NewFailedLogin, MetadataChange, MetadataDepth, MetadataEntry, MetadataLimits, MetadataScope, MessageRow, ModSeq, NewDevice, QueueEntry, QueueRecipientResult, QueueReschedule, QuotaCheck, QuotaLimits, QuotaUsage, RestoredMessage, RetentionSettings, Segment, SpecialUse, StorageStats, StorageUsage, Store, Uid, User,
} from '../types.js';
import { streamSegments, type BlobBackend } from './blobs.js';
import * as acl from './acl.js';
import * as contents from './contents.js';
import * as deleted from './deleted.js';
import * as leases from './leases.js';
import * as loginEvents from './login-events.js';
import * as mailboxes from './mailboxes.js';
import * as people from './people.js';
import * as deviceHidden from './device-hidden.js';
import * as metadata from './metadata.js';
import * as urlAuthKeys from './urlauth-keys.js';
import * as messages from './messages.js';
import type { Driver } from './port.js';
import * as queue from './queue.js';
import * as quotaCheck from './quota-check.js';
import * as textSearch from './text-search.js';
import { ReadTx, Tx } from './tx.js';
import { mailboxSnapshot } from './snapshot.js';
import { sortKeys } from './sort-keys.js';
import * as users from './users.js';
import * as vacation from './vacation.js';
import { claimQuotaWarning } from './quota-warning.js';

export abstract class CoreStore implements Store {
  abstract readonly blobs: BlobBackend;
  protected abstract readonly driver: Driver;
  protected abstract readonly bus: ChangeBus;

  /** Tombstones kept per mailbox (messages.EXPUNGE_LOG_KEEP); tests lower it to see pruning. */
  expungeLogKeep = messages.EXPUNGE_LOG_KEEP;

  /** What expunge does with removed rows (setRetention); off until configured. */
  protected retention: RetentionSettings = deleted.DEFAULT_RETENTION;

  abstract migrate(): Promise<void>;
  abstract schemaVersion(): Promise<number>;
  abstract close(): Promise<void>;

  /** Runs `fn` in a read transaction (one snapshot). */
  protected read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    return this.driver.transaction('read', (c) => fn(new ReadTx(c, this.driver.dialect)));
  }

  /** Runs `fn`, which issues exactly one statement (its own snapshot), with no explicit transaction where the driver can. */
  protected readOne<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    return this.driver.transaction('one', (c) => fn(new ReadTx(c, this.driver.dialect)));
  }

  /** Runs `fn` in a write transaction; after commit, releases blob bytes and publishes events. */
  protected async write<T>(fn: (tx: Tx) => Promise<T>, mode: 'write' | 'ephemeral' = 'write'): Promise<T> {
    let tx!: Tx;
    const result = await this.driver.transaction(mode, async (c) => {
      tx = new Tx(c, this.driver.dialect, this.blobs);
      return fn(tx);
    });
    await this.blobs.afterCommit(tx.unlink);
    if (tx.goneContents.size > 0) this.onContentsGone?.([...tx.goneContents]);
    const events = tx.changeEvents();
    for (const event of events) this.bus.publish(event);
    if (events.length > 0) this.committed(events);
    return result;
  }

  /**
   * Told after a commit that deleted content rows (before the call resolves): a host that
   * remembers content layouts elsewhere (the SQLite worker's main thread) forgets them.
   */
  onContentsGone?: (ids: string[]) => void;

  /** The change events of a committed write, after they were published here (PostgreSQL: other nodes' doorbells). */
  protected committed(_events: ChangeEvent[]): void {}

  // Domains
  addDomain(name: string): Promise<Domain> { return this.write((tx) => users.addDomain(tx, name)); }
  getDomain(name: string): Promise<Domain | null> { return this.readOne((tx) => users.getDomain(tx, name)); }
  listDomains(): Promise<Domain[]> { return this.read((tx) => users.listDomains(tx)); }
  deleteDomain(name: string): Promise<void> { return this.write((tx) => users.deleteDomain(tx, name)); }

  // Users
  addUser(address: string, passwordHash: string, boxes: { name: string; specialUse: SpecialUse | null }[], scramKeys?: string): Promise<User> {
    return this.write((tx) => users.addUser(tx, address, passwordHash, boxes, scramKeys));
  }
  getUser(address: string): Promise<User | null> { return this.readOne((tx) => users.getUser(tx, address)); }
  getUserById(id: Id): Promise<User | null> { return this.readOne((tx) => users.getUserById(tx, id)); }
  listUsers(domain?: string): Promise<User[]> { return this.read((tx) => users.listUsers(tx, domain)); }
  deleteUser(address: string): Promise<void> { return this.write((tx) => users.deleteUser(tx, address)); }
  setPassword(userId: Id, hash: string, scramKeys?: string): Promise<void> { return this.write((tx) => users.setPassword(tx, userId, hash, scramKeys)); }
  setScramKeys(userId: Id, hash: string, scramKeys: string): Promise<boolean> { return this.write((tx) => users.setScramKeys(tx, userId, hash, scramKeys)); }
  setQuota(userId: Id, limits: QuotaLimits): Promise<void> { return this.write((tx) => users.setQuota(tx, userId, limits)); }
  getQuota(userId: Id): Promise<QuotaUsage> { return this.readOne((tx) => users.getQuota(tx, userId)); } // one statement: no BEGIN/COMMIT on PostgreSQL
  checkQuota(userId: Id, fix: boolean): Promise<QuotaCheck> {
    return fix ? this.write((tx) => quotaCheck.fixQuota(tx, userId)) : this.read((tx) => quotaCheck.checkQuota(tx, userId));
  }
  usage(userId: Id | null): Promise<StorageUsage> { return this.read((tx) => quotaCheck.usage(tx, userId)); }
  claimQuotaWarning(userId: Id): Promise<number | null> { return this.write((tx) => claimQuotaWarning(tx, userId)); }
  setUserSetting(userId: Id, key: string, value: string | null): Promise<void> {
    return this.write((tx) => users.setUserSetting(tx, userId, key, value));
  }

  // Aliases
  addAlias(source: string, target: string): Promise<void> { return this.write((tx) => users.addAlias(tx, source, target)); }
  deleteAlias(source: string, target?: string): Promise<number> { return this.write((tx) => users.deleteAlias(tx, source, target)); }
  listAliases(domain?: string): Promise<Alias[]> { return this.read((tx) => users.listAliases(tx, domain)); }
  aliasTargets(source: string): Promise<string[]> { return this.readOne((tx) => users.aliasTargets(tx, source)); }

  // Mailboxes
  createMailbox(userId: Id, name: string, specialUse?: SpecialUse | null): Promise<Mailbox> {
    return this.write((tx) => mailboxes.createMailboxRow(tx, userId, name, specialUse));
  }
  getMailbox(userId: Id, name: string): Promise<Mailbox | null> { return this.readOne((tx) => mailboxes.getMailbox(tx, userId, name)); }
  getMailboxById(id: Id): Promise<Mailbox | null> { return this.readOne((tx) => mailboxes.getMailboxById(tx, id)); }
  listMailboxes(userId: Id): Promise<Mailbox[]> { return this.read((tx) => mailboxes.listMailboxes(tx, userId)); }
  renameMailbox(userId: Id, from: string, to: string): Promise<void> { return this.write((tx) => mailboxes.renameMailbox(tx, userId, from, to)); }
  deleteMailbox(userId: Id, name: string, by: DeletedBy = deleted.STORE_DELETION): Promise<void> {
    return this.write((tx) => messages.deleteMailbox(tx, userId, name, this.retention, by));
  }
  setSubscribed(userId: Id, name: string, on: boolean): Promise<void> { return this.write((tx) => mailboxes.setSubscribed(tx, userId, name, on)); }
  listSubscriptions(userId: Id): Promise<string[]> { return this.read((tx) => mailboxes.listSubscriptions(tx, userId)); }

  // Messages
  appendMessage(req: AppendRequest): Promise<AppendResult> { return this.write((tx) => messages.appendMessage(tx, req)); }
  appendMessages(reqs: AppendRequest[]): Promise<AppendResult[]> { return this.write((tx) => messages.appendMessages(tx, reqs)); }
  listMessages(mailboxId: Id, viewerId: Id): Promise<MessageRow[]> { return this.read((tx) => messages.listMessages(tx, mailboxId, viewerId)); }
  getMessages(mailboxId: Id, uids: Uid[], viewerId: Id): Promise<MessageRow[]> {
    return this.read((tx) => messages.getMessages(tx, mailboxId, uids, viewerId));
  }
  mailboxSnapshot(mailboxId: Id, viewerId: Id): Promise<MailboxSnapshot> { return this.read((tx) => mailboxSnapshot(tx, mailboxId, viewerId)); }
  sortKeys(mailboxId: Id, fromUid: Uid, thread: boolean): Promise<SortKeyRows> { return this.read((tx) => sortKeys(tx, mailboxId, fromUid, thread)); }
  mailboxCounts(mailboxId: Id, viewerId: Id): Promise<MailboxCounts> { return this.read((tx) => messages.mailboxCounts(tx, mailboxId, viewerId)); }
  updateFlags(update: FlagUpdate): Promise<FlagUpdateResult> { return this.write((tx) => messages.updateFlags(tx, update)); }
  expunge(mailboxId: Id, uids: Uid[], by: DeletedBy = deleted.STORE_DELETION): Promise<Uid[]> {
    return this.write((tx) => messages.expunge(tx, mailboxId, uids, this.retention, by, this.expungeLogKeep));
  }
  replaceMessage(req: AppendRequest, old: { mailboxId: Id; uid: Uid; by?: DeletedBy }): Promise<AppendResult> {
    return this.write(async (tx) => {
      // The expunge first, so the quota sees the room it frees; a failed append rolls it back.
      const gone = await messages.expunge(tx, old.mailboxId, [old.uid], this.retention, old.by ?? deleted.STORE_DELETION, this.expungeLogKeep);
      if (gone.length === 0) throw new StoreError('conflict', `message ${old.uid} to replace is gone`);
      return messages.appendMessage(tx, req);
    });
  }
  copyMessages(from: Id, uids: Uid[], to: Id): Promise<CopyResult> { return this.write((tx) => messages.copyMessages(tx, from, uids, to)); }
  moveMessages(from: Id, uids: Uid[], to: Id): Promise<CopyResult> {
    return this.write((tx) => messages.moveMessages(tx, from, uids, to, this.expungeLogKeep));
  }
  changesSince(mailboxId: Id, modSeq: ModSeq, viewerId: Id): Promise<Changes> {
    return this.read((tx) => messages.changesSince(tx, mailboxId, modSeq, viewerId));
  }
  setUidl(mailboxId: Id, uid: Uid, uidl: string): Promise<void> { return this.write((tx) => messages.setUidl(tx, mailboxId, uid, uidl)); }

  // Recently Deleted (./deleted.ts)
  async setRetention(settings: RetentionSettings): Promise<void> { this.retention = deleted.checkRetention(settings); }
  listDeleted(userId: Id, since?: Date): Promise<DeletedMessage[]> { return this.read((tx) => deleted.listDeleted(tx, userId, since)); }
  restoreDeleted(userId: Id, uids: Uid[] | null, toMailboxId?: Id): Promise<RestoredMessage[]> {
    return this.write((tx) => deleted.restoreDeleted(tx, userId, uids, toMailboxId, this.expungeLogKeep));
  }
  /** One transaction per user (each under its user lock), so a purge never holds many users at once. */
  async purgeDeleted(before: Date, limit = 1000): Promise<number> {
    if (!(before instanceof Date) || Number.isNaN(before.getTime())) throw new StoreError('invalid', 'before is not a valid date');
    if (!Number.isSafeInteger(limit) || limit <= 0) throw new StoreError('invalid', 'limit must be a positive integer');
    let purged = 0;
    for (const userId of await this.read((tx) => deleted.usersWithDue(tx, before, 100))) {
      if (purged >= limit) break;
      purged += await this.write((tx) => deleted.purgeUser(tx, userId, before, limit - purged, this.expungeLogKeep));
    }
    return purged;
  }

  // Leases and logins: ephemeral writes (no fsync of their own); a crash ends the sessions they guard.
  acquireLease(key: string, owner: string, ttlMs: number): Promise<boolean> { return this.write((tx) => leases.acquireLease(tx, key, owner, ttlMs), 'ephemeral'); }
  renewLease(key: string, owner: string, ttlMs: number): Promise<boolean> { return this.write((tx) => leases.renewLease(tx, key, owner, ttlMs), 'ephemeral'); }
  releaseLease(key: string, owner: string): Promise<void> { return this.write((tx) => leases.releaseLease(tx, key, owner), 'ephemeral'); }
  listLeases(ownerPrefix: string): Promise<{ key: string; owner: string }[]> { return this.read((tx) => leases.listLeases(tx, ownerPrefix)); }
  recordLogin(userId: Id, kind: string, at: Date, minIntervalMs: number): Promise<{ ok: boolean; previous: Date | null }> {
    return this.write((tx) => leases.recordLogin(tx, userId, kind, at, minIntervalMs), 'ephemeral');
  }

  // Members and devices
  addMember(userId: Id, name: string): Promise<Member> { return this.write((tx) => people.addMember(tx, userId, name)); }
  listMembers(userId: Id): Promise<Member[]> { return this.read((tx) => people.listMembers(tx, userId)); }
  deleteMember(userId: Id, name: string): Promise<Device[]> { return this.write((tx) => people.deleteMember(tx, userId, name)); }
  addDevice(userId: Id, device: NewDevice): Promise<Device> { return this.write((tx) => people.addDevice(tx, userId, device)); }
  listDevices(userId: Id): Promise<Device[]> { return this.read((tx) => people.listDevices(tx, userId)); }
  deviceBySecret(digest: string): Promise<Device | null> { return this.readOne((tx) => people.deviceBySecret(tx, digest)); }
  revokeDevice(userId: Id, name: string): Promise<Device> { return this.write((tx) => people.revokeDevice(tx, userId, name)); }
  setDeviceSetting(userId: Id, name: string, key: string, value: string | null): Promise<Device> {
    return this.write((tx) => people.setDeviceSetting(tx, userId, name, key, value));
  }
  recordDeviceLogin(deviceId: Id, at: Date, protocol: string, address: string): Promise<void> {
    return this.write((tx) => people.recordDeviceLogin(tx, deviceId, at, protocol, address), 'ephemeral');
  }
  liveCredentials(userIds: Id[]): Promise<CredentialState[]> { return this.read((tx) => people.liveCredentials(tx, userIds)); }
  recordFailedLogin(f: NewFailedLogin): Promise<void> { return this.write((tx) => loginEvents.recordFailedLogin(tx, f), 'ephemeral'); }
  listFailedLogins(userId: Id | null, limit = loginEvents.FAILED_KEEP): Promise<FailedLogin[]> { return this.read((tx) => loginEvents.listFailedLogins(tx, userId, limit)); }
  noteLoginOrigin(userId: Id, origin: string, at: Date): Promise<{ isNew: boolean; firstForAccount: boolean }> {
    return this.write((tx) => loginEvents.noteLoginOrigin(tx, userId, origin, at), 'ephemeral');
  }
  hideFromDevice(deviceId: Id, mailboxId: Id, uids: Uid[]): Promise<void> { return this.write((tx) => deviceHidden.hideFromDevice(tx, deviceId, mailboxId, uids)); }
  deviceHiddenUids(deviceId: Id, mailboxId: Id): Promise<Uid[]> { return this.read((tx) => deviceHidden.deviceHiddenUids(tx, deviceId, mailboxId)); }

  // Vacation replies
  claimVacationReply(userId: Id, sender: string, now: Date, everyMs: number): Promise<boolean> {
    return this.write((tx) => vacation.claimVacationReply(tx, userId, sender, now, everyMs));
  }
  clearVacationReplies(userId: Id): Promise<void> { return this.write((tx) => vacation.clearVacationReplies(tx, userId)); }
  // Sharing (RFC 4314)
  getAcl(mailboxId: Id): Promise<AclEntry[]> { return this.read((tx) => acl.getAcl(tx, mailboxId)); }
  setAcl(change: AclChange): Promise<string> { return this.write((tx) => acl.setAcl(tx, change)); }
  rightsOn(mailboxId: Id, userId: Id): Promise<string> { return this.read((tx) => acl.rightsOn(tx, mailboxId, userId)); }
  sharedWith(userId: Id): Promise<SharedMailbox[]> { return this.read((tx) => acl.sharedWith(tx, userId)); }
  // Metadata
  getMetadata(scope: MetadataScope, names: string[], depth: MetadataDepth): Promise<MetadataEntry[]> { return this.read((tx) => metadata.getMetadata(tx, scope, names, depth)); }
  setMetadata(scope: MetadataScope, changes: MetadataChange[], limits: MetadataLimits): Promise<'ok' | 'toomany'> {
    return this.write((tx) => metadata.setMetadata(tx, scope, changes, limits));
  }
  // URLAUTH keys
  getUrlAuthKey(userId: Id, mailboxId: Id): Promise<Buffer | null> { return this.readOne((tx) => urlAuthKeys.getUrlAuthKey(tx, userId, mailboxId)); }
  ensureUrlAuthKey(userId: Id, mailboxId: Id): Promise<Buffer> { return this.write((tx) => urlAuthKeys.ensureUrlAuthKey(tx, userId, mailboxId)); }
  resetUrlAuthKeys(userId: Id, mailboxId: Id | null): Promise<void> { return this.write((tx) => urlAuthKeys.resetUrlAuthKeys(tx, userId, mailboxId)); }

  // Content
  getContent(id: string): Promise<ContentMeta | null> { return this.readOne((tx) => contents.getContent(tx, id)); }
  getIndexes(ids: string[]): Promise<Map<string, ContentIndex>> { return this.read((tx) => contents.getIndexes(tx, ids)); }
  hasContent(id: string): Promise<boolean> { return this.readOne((tx) => contents.hasContent(tx, id)); }
  searchText(mailboxId: Id, part: 'text' | 'body' | 'candidates', value: string): Promise<Uid[]> {
    return this.read((tx) => textSearch.searchText(tx, mailboxId, part, value));
  }
  /** A content's size and segments (for a host that streams the blobs itself); 'notfound' when not stored. */
  async contentLayout(id: string): Promise<{ size: number; segments: Segment[] }> {
    const c = await this.readOne((tx) => contents.contentSegments(tx, id));
    // A second statement only for a content cut in segments (a large attachment): most are one.
    if (contents.mayHaveInlineSegments(c.segments)) await this.readOne((tx) => contents.inlineSegments(tx, c.segments));
    return c;
  }

  async openContent(id: string, start?: number, end?: number): Promise<Readable> {
    const c = await this.contentLayout(id);
    return streamSegments(this.blobs, c.segments, c.size, start, end);
  }

  stats(): Promise<StorageStats> { return this.read((tx) => contents.stats(tx)); }

  // Outbound queue
  enqueueMessage(req: EnqueueRequest): Promise<QueueEntry> { return this.write((tx) => queue.enqueue(tx, req)); }
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
  retryQueueEntry(id: string, at: Date): Promise<boolean> { return this.write((tx) => queue.retry(tx, id, at)); }
  deleteQueueEntry(id: string): Promise<boolean> { return this.write((tx) => queue.remove(tx, id)); }
  clearQueueDsn(id: string, addresses: string[]): Promise<void> { return this.write((tx) => queue.clearDsn(tx, id, addresses)); }
}
