/**
 * WorkerStore: the Store contract on the main thread, served by a store running in a
 * worker thread (host.ts). Every method is one message to the worker and one reply,
 * correlated by id; SQLite work and commit fsyncs happen there, so sessions, TLS
 * handshakes, IDLE pushes and timers keep running while a commit waits for the disk.
 *
 * Never imports: protocol code, src/mail, src/net, a SQL driver (the worker has it).
 *
 * Invariants:
 * - Large message bytes never cross the thread boundary: `blobs` is a file BlobStore on
 *   the same directory, and `openContent` asks the worker only for the segment list (once per
 *   content: remembered, since a content id names fixed bytes) and streams the blob files
 *   here with async I/O. Blobs of up to 16 KiB live in the database (store/blob/inline.ts):
 *   they go to the worker with the content they belong to, and come back, decoded there,
 *   with the segment list.
 * - Change events from the worker are published on the caller's bus in arrival order,
 *   before the reply of the call that caused them (publish after commit holds).
 * - A StoreError keeps its code across the boundary; a worker that dies fails the calls
 *   in flight with 'unavailable' (their commit may or may not have happened, as with a
 *   lost database connection); the next call, or a timer a second later, starts a new worker.
 * - The worker keeps the process alive only while a call is in flight.
 */
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { ChangeBus } from '../bus.js';
import { StoreError } from '../errors.js';
import { FsBlobStore } from '../blob/fs-blob-store.js';
import type {
  AclChange, AclEntry, SharedMailbox,
  FailedLogin, NewFailedLogin,
  Alias, AppendRequest, AppendResult, Changes, ContentIndex, ContentMeta, CopyResult, CredentialState, DeletedBy, DeletedMessage, Device, Domain, EnqueueRequest, FlagUpdate, FlagUpdateResult, Id, Mailbox, MailboxCounts, MailboxSnapshot, SortKeyRows,
  Member, MessageRow, MetadataChange, MetadataDepth, MetadataEntry, MetadataLimits, MetadataScope, ModSeq, NewDevice, QueueEntry, QueueRecipientResult, QueueReschedule, QuotaCheck, QuotaLimits, QuotaUsage, RestoredMessage, RetentionSettings, SpecialUse, StorageStats, StorageUsage, Store, Uid, User,
} from '../types.js';
import { streamSegments } from '../core/blobs.js';
import { LayoutCache } from './layout-cache.js';
import { fromWire, SEGMENTS, type ContentLayout, type ForwardedMethod, type HostOptions, type Reply, type Request } from './wire.js';

export interface WorkerStoreOptions {
  /** SQLite database file. */
  file: string;
  blobDir: string;
  /** The bus the worker's change events are published on (sessions subscribe here). */
  bus: ChangeBus;
  busyTimeoutMs?: number;
  /** Period of the one change poller (commits by other processes ring RECHECK); 0 = off. Default 250. */
  changePollMs?: number;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

const HOST = new URL('./host.js', import.meta.url);

/** Remembered content layouts (a few hundred bytes each, plus the bytes of inline segments). */
const LAYOUTS_MAX = 20_000;
/** Inline segment bytes the remembered layouts may hold (blobs of up to 16 KiB live in the database). */
const LAYOUT_INLINE_BYTES_MAX = 16 * 1024 * 1024;

/** Pause before a dead worker is replaced without a call asking for it (a crash loop then costs little). */
const RESTART_DELAY_MS = 1000;

export class WorkerStore implements Store {
  readonly blobs: FsBlobStore;
  /**
   * Inline blobs are compressed by the worker, in the append's job, not by the ingest (which
   * compresses for 'caller' stores on the protocol thread). Against the ingest's earlier way,
   * on the libuv pool, measured on the LMTP bench (2,000 × 10 KB, CPU of the whole server process from
   * /proc, six alternated runs): 2.15 ms a message instead of 2.50. The pool's way cost the
   * brotli time plus a zlib stream, a thread hand-off and its page faults (~0.3 ms in the pool,
   * ~0.2 ms on the main thread); the worker spends ~0.2 ms more, and skips checking a column
   * made elsewhere.
   */
  readonly inlineEncoding = 'store';
  private readonly bus: ChangeBus;
  private readonly hostOptions: HostOptions;
  private worker: Worker | null = null;
  private started: Promise<void> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /**
   * Segment lists of contents read before: a POP3 RETR or FETCH BODY[] of a known content then
   * streams the blob files without a round trip to the worker (both threads woken, a query).
   */
  private readonly layouts = new LayoutCache(LAYOUTS_MAX, LAYOUT_INLINE_BYTES_MAX);

  private constructor(opts: WorkerStoreOptions) {
    this.blobs = new FsBlobStore(opts.blobDir);
    this.bus = opts.bus;
    this.hostOptions = { file: path.resolve(opts.file), blobDir: path.resolve(opts.blobDir), busyTimeoutMs: opts.busyTimeoutMs, changePollMs: opts.changePollMs ?? 250 };
  }

  /** Starts the worker and resolves once it opened the store (rejects with its StoreError otherwise). */
  static async open(opts: WorkerStoreOptions): Promise<WorkerStore> {
    const store = new WorkerStore(opts);
    store.spawn();
    await store.started;
    return store;
  }

  /** The worker's thread id while one runs (tests, diagnostics). */
  get threadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  private spawn(): void {
    const worker = new Worker(HOST, { workerData: { mailroomStoreHost: this.hostOptions } });
    this.worker = worker; // referenced until 'ready': a process awaiting open() must not exit meanwhile
    let ready!: () => void;
    let failed!: (e: Error) => void;
    let served = false;
    this.started = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    this.started.catch(() => {}); // observed by open() or by the calls that were waiting on it
    worker.on('message', (m: Reply) => {
      switch (m.t) {
        case 'event':
          // Another process committed (the CLI may have purged contents): layouts that carry bytes are asked for again.
          if (m.event.kind === 'recheck') this.layouts.dropInline();
          this.bus.publish(m.event);
          break;
        case 'gone':
          for (const id of m.ids) this.layouts.delete(id);
          break;
        case 'ok':
        case 'err': {
          const p = this.pending.get(m.id);
          if (!p) break;
          this.pending.delete(m.id);
          if (this.pending.size === 0) worker.unref(); // replies come after "ready" (one ordered port)
          if (m.t === 'ok') p.resolve(m.value);
          else p.reject(fromWire(m.error));
          break;
        }
        case 'ready':
          if (this.pending.size === 0) worker.unref();
          served = true;
          ready();
          break;
        case 'fatal':
          failed(fromWire(m.error));
          this.failAll(fromWire(m.error));
          break;
      }
    });
    worker.on('error', (err) => this.lost(worker, err, served));
    worker.on('exit', (code) => this.lost(worker, new Error(`store worker exited with code ${code}`), served));
  }

  private lost(worker: Worker, cause: Error, served: boolean): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const err = new StoreError('unavailable', `store worker stopped: ${cause.message}`, { cause });
    this.failAll(err);
    // A worker that had been serving died: start the next one soon even without a call, so the
    // change poller keeps running. One that never opened the store waits for a call (no restart loop).
    if (served && !this.closed) {
      setTimeout(() => {
        if (!this.worker && !this.closed) this.spawn();
      }, RESTART_DELAY_MS).unref();
    }
  }

  private failAll(err: Error): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const p of calls) p.reject(err);
  }

  private call<T>(method: ForwardedMethod | typeof SEGMENTS, args: unknown[]): Promise<T> {
    if (this.closed && method !== 'close') return Promise.reject(new StoreError('unavailable', 'store is closed'));
    if (!this.worker) this.spawn();
    const worker = this.worker!;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) worker.ref(); // a call in flight keeps the process alive until it is answered
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        worker.postMessage({ id, method, args } satisfies Request);
      } catch (err) {
        // An argument structured clone cannot carry (e.g. a function): a caller bug, reported as the store would.
        this.pending.delete(id);
        if (this.pending.size === 0) worker.unref();
        reject(new StoreError('invalid', `cannot pass arguments of ${method} to the store worker: ${(err as Error).message}`));
      }
    });
  }

  migrate(): Promise<void> { return this.call('migrate', []); }
  schemaVersion(): Promise<number> { return this.call('schemaVersion', []); }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    try {
      await this.call('close', []);
    } finally {
      this.worker = null;
      await worker.terminate();
    }
  }

  // Domains
  addDomain(name: string): Promise<Domain> { return this.call('addDomain', [name]); }
  getDomain(name: string): Promise<Domain | null> { return this.call('getDomain', [name]); }
  listDomains(): Promise<Domain[]> { return this.call('listDomains', []); }
  deleteDomain(name: string): Promise<void> { return this.call('deleteDomain', [name]); }

  // Users
  addUser(address: string, passwordHash: string, boxes: { name: string; specialUse: SpecialUse | null }[], scramKeys?: string): Promise<User> {
    return this.call('addUser', [address, passwordHash, boxes, scramKeys]);
  }
  getUser(address: string): Promise<User | null> { return this.call('getUser', [address]); }
  getUserById(id: Id): Promise<User | null> { return this.call('getUserById', [id]); }
  listUsers(domain?: string): Promise<User[]> { return this.call('listUsers', [domain]); }
  deleteUser(address: string): Promise<void> { return this.call('deleteUser', [address]); }
  setPassword(userId: Id, hash: string, scramKeys?: string): Promise<void> { return this.call('setPassword', [userId, hash, scramKeys]); }
  setScramKeys(userId: Id, hash: string, scramKeys: string): Promise<boolean> { return this.call('setScramKeys', [userId, hash, scramKeys]); }
  setQuota(userId: Id, limits: QuotaLimits): Promise<void> { return this.call('setQuota', [userId, limits]); }
  getQuota(userId: Id): Promise<QuotaUsage> { return this.call('getQuota', [userId]); }
  checkQuota(userId: Id, fix: boolean): Promise<QuotaCheck> { return this.call('checkQuota', [userId, fix]); }
  usage(userId: Id | null): Promise<StorageUsage> { return this.call('usage', [userId]); }
  claimQuotaWarning(userId: Id): Promise<number | null> { return this.call('claimQuotaWarning', [userId]); }
  setUserSetting(userId: Id, key: string, value: string | null): Promise<void> { return this.call('setUserSetting', [userId, key, value]); }

  // Aliases
  addAlias(source: string, target: string): Promise<void> { return this.call('addAlias', [source, target]); }
  deleteAlias(source: string, target?: string): Promise<number> { return this.call('deleteAlias', [source, target]); }
  listAliases(domain?: string): Promise<Alias[]> { return this.call('listAliases', [domain]); }
  aliasTargets(source: string): Promise<string[]> { return this.call('aliasTargets', [source]); }

  // Mailboxes
  createMailbox(userId: Id, name: string, specialUse?: SpecialUse | null): Promise<Mailbox> { return this.call('createMailbox', [userId, name, specialUse]); }
  getMailbox(userId: Id, name: string): Promise<Mailbox | null> { return this.call('getMailbox', [userId, name]); }
  getMailboxById(id: Id): Promise<Mailbox | null> { return this.call('getMailboxById', [id]); }
  listMailboxes(userId: Id): Promise<Mailbox[]> { return this.call('listMailboxes', [userId]); }
  renameMailbox(userId: Id, from: string, to: string): Promise<void> { return this.call('renameMailbox', [userId, from, to]); }
  deleteMailbox(userId: Id, name: string, by?: DeletedBy): Promise<void> { return this.call('deleteMailbox', [userId, name, by]); }
  setSubscribed(userId: Id, name: string, on: boolean): Promise<void> { return this.call('setSubscribed', [userId, name, on]); }
  listSubscriptions(userId: Id): Promise<string[]> { return this.call('listSubscriptions', [userId]); }

  // Messages
  appendMessage(req: AppendRequest): Promise<AppendResult> { return this.call('appendMessage', [req]); }
  appendMessages(reqs: AppendRequest[]): Promise<AppendResult[]> { return this.call('appendMessages', [reqs]); }
  replaceMessage(req: AppendRequest, old: { mailboxId: Id; uid: Uid; by?: DeletedBy }): Promise<AppendResult> { return this.call('replaceMessage', [req, old]); }
  listMessages(mailboxId: Id, viewerId: Id): Promise<MessageRow[]> { return this.call('listMessages', [mailboxId, viewerId]); }
  getMessages(mailboxId: Id, uids: Uid[], viewerId: Id): Promise<MessageRow[]> { return this.call('getMessages', [mailboxId, uids, viewerId]); }
  mailboxSnapshot(mailboxId: Id, viewerId: Id): Promise<MailboxSnapshot> { return this.call('mailboxSnapshot', [mailboxId, viewerId]); } // typed arrays clone as one copy each
  sortKeys(mailboxId: Id, fromUid: Uid, thread: boolean): Promise<SortKeyRows> { return this.call('sortKeys', [mailboxId, fromUid, thread]); }
  mailboxCounts(mailboxId: Id, viewerId: Id): Promise<MailboxCounts> { return this.call('mailboxCounts', [mailboxId, viewerId]); }
  updateFlags(update: FlagUpdate): Promise<FlagUpdateResult> { return this.call('updateFlags', [update]); }
  expunge(mailboxId: Id, uids: Uid[], by?: DeletedBy): Promise<Uid[]> { return this.call('expunge', [mailboxId, uids, by]); }
  copyMessages(from: Id, uids: Uid[], to: Id): Promise<CopyResult> { return this.call('copyMessages', [from, uids, to]); }
  moveMessages(from: Id, uids: Uid[], to: Id): Promise<CopyResult> { return this.call('moveMessages', [from, uids, to]); }
  changesSince(mailboxId: Id, modSeq: ModSeq, viewerId: Id): Promise<Changes> { return this.call('changesSince', [mailboxId, modSeq, viewerId]); }
  setUidl(mailboxId: Id, uid: Uid, uidl: string): Promise<void> { return this.call('setUidl', [mailboxId, uid, uidl]); }

  // Recently Deleted
  /** Also remembered for a worker started later (after a crash), which gets it with its options. */
  setRetention(settings: RetentionSettings): Promise<void> {
    this.hostOptions.retention = settings;
    return this.call('setRetention', [settings]);
  }
  listDeleted(userId: Id, since?: Date): Promise<DeletedMessage[]> { return this.call('listDeleted', [userId, since]); }
  restoreDeleted(userId: Id, uids: Uid[] | null, toMailboxId?: Id): Promise<RestoredMessage[]> { return this.call('restoreDeleted', [userId, uids, toMailboxId]); }
  purgeDeleted(before: Date, limit?: number): Promise<number> { return this.call('purgeDeleted', [before, limit]); }

  // Leases and logins
  acquireLease(key: string, owner: string, ttlMs: number): Promise<boolean> { return this.call('acquireLease', [key, owner, ttlMs]); }
  renewLease(key: string, owner: string, ttlMs: number): Promise<boolean> { return this.call('renewLease', [key, owner, ttlMs]); }
  releaseLease(key: string, owner: string): Promise<void> { return this.call('releaseLease', [key, owner]); }
  listLeases(ownerPrefix: string): Promise<{ key: string; owner: string }[]> { return this.call('listLeases', [ownerPrefix]); }
  recordLogin(userId: Id, kind: string, at: Date, minIntervalMs: number): Promise<{ ok: boolean; previous: Date | null }> {
    return this.call('recordLogin', [userId, kind, at, minIntervalMs]);
  }

  // Members and devices
  addMember(userId: Id, name: string): Promise<Member> { return this.call('addMember', [userId, name]); }
  listMembers(userId: Id): Promise<Member[]> { return this.call('listMembers', [userId]); }
  deleteMember(userId: Id, name: string): Promise<Device[]> { return this.call('deleteMember', [userId, name]); }
  addDevice(userId: Id, device: NewDevice): Promise<Device> { return this.call('addDevice', [userId, device]); }
  listDevices(userId: Id): Promise<Device[]> { return this.call('listDevices', [userId]); }
  deviceBySecret(digest: string): Promise<Device | null> { return this.call('deviceBySecret', [digest]); }
  revokeDevice(userId: Id, name: string): Promise<Device> { return this.call('revokeDevice', [userId, name]); }
  setDeviceSetting(userId: Id, name: string, key: string, value: string | null): Promise<Device> { return this.call('setDeviceSetting', [userId, name, key, value]); }
  recordDeviceLogin(deviceId: Id, at: Date, protocol: string, address: string): Promise<void> { return this.call('recordDeviceLogin', [deviceId, at, protocol, address]); }
  liveCredentials(userIds: Id[]): Promise<CredentialState[]> { return this.call('liveCredentials', [userIds]); }
  recordFailedLogin(f: NewFailedLogin): Promise<void> { return this.call('recordFailedLogin', [f]); }
  listFailedLogins(userId: Id | null, limit?: number): Promise<FailedLogin[]> { return this.call('listFailedLogins', limit === undefined ? [userId] : [userId, limit]); }
  noteLoginOrigin(userId: Id, origin: string, at: Date): Promise<{ isNew: boolean; firstForAccount: boolean }> { return this.call('noteLoginOrigin', [userId, origin, at]); }
  hideFromDevice(deviceId: Id, mailboxId: Id, uids: Uid[]): Promise<void> { return this.call('hideFromDevice', [deviceId, mailboxId, uids]); }
  claimVacationReply(userId: Id, sender: string, now: Date, everyMs: number): Promise<boolean> { return this.call('claimVacationReply', [userId, sender, now, everyMs]); }
  clearVacationReplies(userId: Id): Promise<void> { return this.call('clearVacationReplies', [userId]); }
  deviceHiddenUids(deviceId: Id, mailboxId: Id): Promise<Uid[]> { return this.call('deviceHiddenUids', [deviceId, mailboxId]); }

  getAcl(mailboxId: Id): Promise<AclEntry[]> { return this.call('getAcl', [mailboxId]); }
  setAcl(change: AclChange): Promise<string> { return this.call('setAcl', [change]); }
  rightsOn(mailboxId: Id, userId: Id): Promise<string> { return this.call('rightsOn', [mailboxId, userId]); }
  sharedWith(userId: Id): Promise<SharedMailbox[]> { return this.call('sharedWith', [userId]); }
  // Metadata: a Buffer crosses the thread boundary as a plain Uint8Array
  async getMetadata(scope: MetadataScope, names: string[], depth: MetadataDepth): Promise<MetadataEntry[]> {
    const entries = await this.call<MetadataEntry[]>('getMetadata', [scope, names, depth]);
    return entries.map((e) => ({ name: e.name, value: Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength) }));
  }
  setMetadata(scope: MetadataScope, changes: MetadataChange[], limits: MetadataLimits): Promise<'ok' | 'toomany'> { return this.call('setMetadata', [scope, changes, limits]); }
  // URLAUTH keys: a Buffer crosses the thread boundary as a plain Uint8Array
  async getUrlAuthKey(userId: Id, mailboxId: Id): Promise<Buffer | null> {
    const key = await this.call<Uint8Array | null>('getUrlAuthKey', [userId, mailboxId]);
    return key ? Buffer.from(key) : null;
  }
  async ensureUrlAuthKey(userId: Id, mailboxId: Id): Promise<Buffer> { return Buffer.from(await this.call<Uint8Array>('ensureUrlAuthKey', [userId, mailboxId])); }
  resetUrlAuthKeys(userId: Id, mailboxId: Id | null): Promise<void> { return this.call('resetUrlAuthKeys', [userId, mailboxId]); }

  // Content
  getContent(id: string): Promise<ContentMeta | null> { return this.call('getContent', [id]); }
  getIndexes(ids: string[]): Promise<Map<string, ContentIndex>> { return this.call('getIndexes', [ids]); } // structured clone keeps the Map
  searchText(mailboxId: Id, part: 'text' | 'body' | 'candidates', value: string): Promise<Uid[]> { return this.call('searchText', [mailboxId, part, value]); }
  hasContent(id: string): Promise<boolean> { return this.call('hasContent', [id]); }
  async openContent(id: string, start?: number, end?: number): Promise<Readable> {
    const known = this.layouts.get(id);
    if (!known) {
      const c = await this.layoutOf(id);
      return streamSegments(this.blobs, c.segments, c.size, start, end);
    }
    return streamSegments(this.blobs, known.segments, known.size, start, end, () => {
      this.layouts.delete(id);
      return this.layoutOf(id);
    });
  }

  /** Asks the worker for a content's segments and remembers them (a content id names fixed bytes). */
  private async layoutOf(id: string): Promise<ContentLayout> {
    const c = await this.call<ContentLayout>(SEGMENTS, [id]);
    this.layouts.set(id, c); // bounded in count and in inline bytes (20,000 small messages could hold 320 MB)
    return c;
  }
  stats(): Promise<StorageStats> { return this.call('stats', []); }

  // Outbound queue
  enqueueMessage(req: EnqueueRequest): Promise<QueueEntry> { return this.call('enqueueMessage', [req]); }
  getQueueEntry(id: string): Promise<QueueEntry | null> { return this.call('getQueueEntry', [id]); }
  listQueueEntries(): Promise<QueueEntry[]> { return this.call('listQueueEntries', []); }
  claimQueueEntries(owner: string, now: Date, leaseMs: number, limit: number): Promise<QueueEntry[]> {
    return this.call('claimQueueEntries', [owner, now, leaseMs, limit]);
  }
  recordQueueResults(id: string, results: QueueRecipientResult[], at: Date): Promise<void> { return this.call('recordQueueResults', [id, results, at]); }
  releaseQueueEntry(id: string, owner: string, update: QueueReschedule): Promise<boolean> { return this.call('releaseQueueEntry', [id, owner, update]); }
  retryQueueEntry(id: string, at: Date): Promise<boolean> { return this.call('retryQueueEntry', [id, at]); }
  deleteQueueEntry(id: string): Promise<boolean> { return this.call('deleteQueueEntry', [id]); }
  clearQueueDsn(id: string, addresses: string[]): Promise<void> { return this.call('clearQueueDsn', [id, addresses]); }
}
