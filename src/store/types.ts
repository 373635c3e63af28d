/**
 * THE storage contract. IMAP, POP3, SMTP/LMTP delivery and the CLI use only this;
 * SQLite (src/store/sqlite/) and PostgreSQL (src/store/postgres/) implement it unchanged.
 *
 * Never imports: protocol code (src/imap, src/pop3, src/smtp), src/mail, SQL drivers.
 *
 * Invariants every backend keeps:
 * - Every method is atomic: it commits entirely or changes nothing.
 * - A method resolves only after its commit is durable.
 * - UIDs are strictly increasing per mailbox and never reused, also after expunge
 *   and across restarts; UIDVALIDITY of a (re)created mailbox differs from any
 *   earlier mailbox of the same name.
 * - MODSEQ is per mailbox, strictly increasing; every change to a message row or
 *   an expunge gets a MODSEQ greater than any before it in that mailbox. Expunges leave
 *   tombstones with their MODSEQ; the newest EXPUNGE_LOG_KEEP per mailbox are kept.
 * - Quota usage (bytes, messages) equals the sum over the user's message rows at
 *   every commit, less the rows kept in Recently Deleted that were not counted
 *   (RetentionSettings.countQuota off when they were deleted).
 * - Change events are published on the bus only after commit; they are doorbells,
 *   `changesSince` is the truth.
 * - Errors are thrown only as `StoreError` with a code from `StoreErrorCode`.
 */
import type { Readable } from 'node:stream';
import type { MessageIndex } from '../mime/types.js';
import type { ThreadIds } from './thread-ids.js';

/** Branded so a UID cannot be confused with a sequence number. */
export type Uid = number & { readonly __brand: 'Uid' };
export type ModSeq = number;
export type Id = number;

export interface Domain {
  id: Id;
  name: string; // lower-case ASCII or A-label
}

export interface QuotaLimits {
  /** null = unlimited */
  bytes: number | null;
  messages: number | null;
}

export interface QuotaUsage extends QuotaLimits {
  usedBytes: number;
  usedMessages: number;
}

/** Quota counters against a recount of the rows (Store.checkQuota). */
export interface QuotaCheck {
  userId: Id;
  address: string;
  recorded: { bytes: number; messages: number };
  actual: { bytes: number; messages: number };
  /** The counters were set to `actual` (fix requested and they differed). */
  fixed: boolean;
}

/** Storage taken by a user's (or all) mail: logical, after dedup (unique), at rest (stored). */
export interface StorageUsage {
  messages: number;
  /** Sum of message sizes (RFC822.SIZE), every row counted. */
  logicalBytes: number;
  /** Each distinct blob once: logical − unique is what deduplication saves. */
  uniqueBytes: number;
  /** What those blobs take at rest: unique − stored is what compression saves. */
  storedBytes: number;
}

export interface User {
  id: Id;
  /** local@domain, lower-case domain; the local part keeps its case as given. */
  address: string;
  domainId: Id;
  passwordHash: string;
  /** SCRAM verifiers (src/auth/scram-keys.ts), '' when the password predates them (migration 14). */
  scramKeys: string;
  quota: QuotaLimits;
  /** Per-user overrides of config policies, e.g. { 'pop3.deleteMode': 'hide' }. */
  settings: Record<string, string>;
  createdAt: Date;
}

/**
 * A person sharing an account (`mailroom member add`). The account's own password acts as
 * the member `owner`, who has no row. A member's `viewerId` is minus its id: user ids are
 * positive, so a viewer id names either the account itself (the owner) or one member, and
 * the store keeps `\Seen` private for a negative viewer (see MessageRow).
 */
/** Where metadata entries live (RFC 5464): a mailbox of the user, or the server (null); /private entries are the viewer's own. */
export interface MetadataScope {
  userId: Id;
  /** The account owner (user id) or a member's viewer id: whose /private entries. */
  viewerId: Id;
  mailboxId: Id | null;
}

/** One entry with its value; names come back lower-case. */
export interface MetadataEntry {
  name: string;
  value: Buffer;
}

/** A SETMETADATA item: a null value removes the entry. */
export interface MetadataChange {
  name: string;
  value: Buffer | Uint8Array | null;
}

/** What getMetadata returns below a named entry: only it (0), its children (1), or all descendants. */
export type MetadataDepth = 0 | 1 | 'infinity';

export interface MetadataLimits {
  /** Largest value in bytes. */
  maxValueSize: number;
  /** Most entries a viewer sees on one mailbox or on the server (its /private plus the /shared ones). */
  maxEntries: number;
}

export interface Member {
  id: Id;
  userId: Id;
  name: string;
  viewerId: Id;
  createdAt: Date;
}

/** The member name that means the account's own password (no row, viewer id = user id). */
export const OWNER_MEMBER = 'owner';

/**
 * RFC 4314 rights, in the order the store keeps them: l lookup, r read, s keep \Seen,
 * w write other flags, i insert, p post, k create children, x delete mailbox, t delete
 * messages, e expunge, a administer, n write shared annotations (RFC 5464 6).
 */
export const ALL_RIGHTS = 'lrswipkxtean';

/** The ACL identifier that names every user (RFC 4314 2). */
export const ACL_ANYONE = 'anyone';

/** One entry of a mailbox's access control list. */
export interface AclEntry {
  mailboxId: Id;
  ownerId: Id;
  /** A user's address, or `anyone`. */
  grantee: string;
  /** null for `anyone`. */
  granteeId: Id | null;
  /** Canonical rights (see ALL_RIGHTS), never empty. */
  rights: string;
}

/** Store.setAcl: `set` replaces a grantee's rights, `add`/`remove` change them (SETACL's +/-). */
export interface AclChange {
  mailboxId: Id;
  /** A user's address or `anyone`. */
  identifier: string;
  mode: 'set' | 'add' | 'remove';
  rights: string;
}

/** Another user's mailbox shared with a user (Store.sharedWith). */
export interface SharedMailbox {
  mailboxId: Id;
  name: string;
  ownerId: Id;
  /** The owner's address. */
  owner: string;
  /** The union of the user's own entry and `anyone`'s. */
  rights: string;
  /** An entry names the user himself (not only `anyone`). */
  personal: boolean;
}

/**
 * Whose `\Seen` a user reads and writes in another user's mailbox: private, as a member's
 * (seenIsPrivate: a negative viewer id). Members are minus their row id, which stays below
 * 2^30; a grantee is minus (2^30 + his user id), so the two never meet and the id fits the
 * 32-bit private_flags column of PostgreSQL.
 */
export const GRANTEE_VIEWER_BASE = 2 ** 30;
export function granteeViewerId(userId: Id): Id {
  return -(GRANTEE_VIEWER_BASE + userId);
}

/** A device password of one member (`mailroom device add`); the password itself is never stored. */
export interface Device {
  id: Id;
  userId: Id;
  /** null: the owner. */
  memberId: Id | null;
  /** The member's name, or `owner`. */
  member: string;
  /** The viewer whose `\Seen` this device reads and writes (the member's, or the user id for the owner). */
  viewerId: Id;
  name: string;
  /** Per-device limits, e.g. { protocols: 'imap,smtp', readonly: 'yes' }. */
  settings: Record<string, string>;
  createdAt: Date;
  lastLogin: { at: Date; protocol: string; address: string } | null;
}

export interface NewDevice {
  /** A member name, or `owner`. */
  member: string;
  name: string;
  /** SHA-256 hex of the generated password (high-entropy, so a fast digest is enough); unique in the store. */
  secretDigest: string;
}

/** What `liveCredentials` says about one user: enough to tell whether an open session's login still holds. */
export interface CredentialState {
  userId: Id;
  passwordHash: string;
  settings: Record<string, string>;
  /** Ids of the devices that exist, with their settings. */
  devices: { id: Id; memberId: Id | null; settings: Record<string, string> }[];
}

/** A failed login as recorded (Store.recordFailedLogin); text from the client is clipped, never trusted. */
export interface NewFailedLogin {
  at: Date;
  /** The account the name belongs to; null when the name is no account. */
  userId: Id | null;
  /** The name as the client sent it. */
  username: string;
  protocol: string;
  /** Client address. */
  address: string;
  /** The device password's name when it was one (e.g. a device limited to other protocols). */
  device: string | null;
  /** Why: `invalid` (wrong password or no such account), `protocol` (device not allowed here), `device-password-required`. */
  reason: string;
}

export type FailedLogin = NewFailedLogin;

/** source is `local@domain` or `@domain` (catch-all); target is any address. */
export interface Alias {
  source: string;
  target: string;
}

/** RFC 6154 special-use attribute. */
export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive' | '\\All' | '\\Flagged';

export interface Mailbox {
  id: Id;
  userId: Id;
  /** Full hierarchical name, `/` delimiter, UTF-8. INBOX is always exactly "INBOX". */
  name: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: Uid;
  highestModSeq: ModSeq;
  messageCount: number;
  /** Sum of message sizes (STATUS SIZE). */
  totalSize: number;
  /**
   * The user's Recently Deleted mailbox (at most one per user, made by the store at the
   * first retained expunge): it holds expunged messages until they are purged; protocols
   * show it read-only, and moving a message out of it restores the message.
   */
  recentlyDeleted: boolean;
}

/** Store.mailboxCounts: what STATUS reports about a mailbox's rows, for one viewer. */
export interface MailboxCounts {
  messages: number;
  /** Messages without \Seen, shared or the viewer's own. */
  unseen: number;
  /** Messages with \Deleted (RFC 9051 STATUS DELETED). */
  deleted: number;
  /** Sum of message sizes in octets. */
  size: number;
}

/**
 * Store.mailboxSnapshot: what a session needs to select a mailbox, without one object per
 * message. Read in one snapshot, so HIGHESTMODSEQ and UIDNEXT agree with the rows.
 */
export interface MailboxSnapshot {
  mailbox: Mailbox;
  /** Every message's UID, ascending (IMAP UIDs are 32-bit). */
  uids: Uint32Array;
  /** The distinct flag lists in the mailbox as the viewer sees them (private flags merged). */
  flagSets: string[][];
  /** Per message (same index as `uids`): its index in `flagSets`. */
  flagSet: Uint32Array;
}

/** Per row (ascending UID, one index across the arrays): the keys SORT and THREAD order by. */
export interface SortKeyRows {
  uids: Uint32Array;
  /** INTERNALDATE, ms. */
  internalDates: Float64Array;
  /** The Date: header, ms UTC; NaN when missing or unparseable (RFC 5256: INTERNALDATE counts then). */
  sentDates: Float64Array;
  sizes: Float64Array;
  /** Subject (undecoded), msg-id and parent chain (store/thread-ids.ts), when asked for. */
  thread?: ThreadIds[];
}

/**
 * One message as it sits in one mailbox. Flags are as seen by the viewer passed
 * to the call: shared flags plus the viewer's private flags. `\Seen` is private to
 * each member of an account (a negative viewer id, see Member): the owner's is the
 * shared column, a member's lives in private_flags, and a member never sees the
 * owner's. `modSeq` is the last change this viewer can see: another member's `\Seen`
 * is not a change for you.
 */
export interface MessageRow {
  mailboxId: Id;
  uid: Uid;
  modSeq: ModSeq;
  /** System flags (\Seen \Answered \Flagged \Deleted \Draft) and keywords, as stored (case kept). */
  flags: string[];
  internalDate: Date;
  /** RFC 8514 SAVEDATE */
  saveDate: Date;
  size: number;
  /** sha256 hex of the raw message: the immutable content this row points at. */
  contentId: string;
  /** RFC 8474 EMAILID: kept by MOVE and COPY, new for each delivery/APPEND. */
  emailId: string;
  /** RFC 8474 THREADID */
  threadId: string;
  /**
   * POP3 unique-id (RFC 1939 7, UIDL): 1–70 characters 0x21–0x7E, unique across the
   * user's rows. New for each delivery/APPEND and for each COPY (two copies in INBOX
   * must differ), kept by MOVE (out of INBOX and back keeps it), never derived from
   * UIDVALIDITY+UID. An imported legacy value (`setUidl`) replaces it.
   */
  uidl: string;
}

/** Immutable, shared by every row (in any mailbox of any user) with the same bytes. */
export interface ContentMeta {
  id: string; // sha256 hex of the raw message
  size: number;
  index: MessageIndex;
  /** Decoded text of headers and text parts, for SEARCH TEXT/BODY. */
  searchText: string;
}

/** ContentMeta without the search text. */
export type ContentIndex = Omit<ContentMeta, 'searchText'>;

/** A segment of a raw message: a blob whose bytes are a slice of the message. */
export interface Segment {
  hash: string; // sha256 hex of this segment's bytes
  size: number;
  /**
   * The segment's bytes, for a blob small enough to be kept inside the database
   * (store/blob/inline.ts): on a NewContent, the ingest gives them instead of writing a
   * blob file, and the store writes them in the content's transaction; on a content
   * layout, the store gives them so a reader needs no blob file. Never in `segments` JSON.
   */
  bytes?: Uint8Array;
  /**
   * With `bytes` on a NewContent: the `data` column for them (blob/inline.ts encodeInline),
   * made by the ingest (Store.inlineEncoding); the store checks that it decodes to `bytes`
   * (cheaper than compressing), and compresses them itself when it is missing. Never in
   * `segments` JSON either.
   */
  encoded?: Uint8Array;
}

/**
 * New content, prepared by src/ingest.ts: the blobs named by `segments` are already
 * written to the store's BlobStore (content-addressed, so rewriting is harmless).
 * Concatenating the segments in order gives back the exact raw message.
 */
export interface NewContent {
  id: string;
  size: number;
  segments: Segment[];
  index: MessageIndex;
  searchText: string;
}

/** Refers to content the store already holds (see `hasContent`); 'notfound' if it vanished meanwhile. */
export interface ExistingContent {
  id: string;
  existing: true;
}

/** A mailbox named by its owner and name, for a write that looks it up in its own transaction. */
export interface MailboxByName {
  userId: Id;
  name: string;
}

export interface AppendRequest {
  /**
   * The mailbox: its id, or its owner and name (a delivery's INBOX), looked up in the append's
   * transaction, a round trip fewer than a getMailbox before it; 'notfound' when there is none.
   */
  mailboxId: Id | MailboxByName;
  content: NewContent | ExistingContent;
  flags?: string[];
  internalDate?: Date;
  /** Message-IDs (own, In-Reply-To, References) used to pick the THREADID. */
  threadKeys?: string[];
  /** Skip the quota check (for copies the server itself makes, e.g. bounces). Default false. */
  ignoreQuota?: boolean;
  /** Whose `\Seen` the given flags set (a member's is private); default the owner. */
  viewerId?: Id;
}

export interface AppendResult {
  row: MessageRow;
  uidValidity: number;
}

export type FlagOp = 'add' | 'remove' | 'set';

export interface FlagUpdate {
  mailboxId: Id;
  uids: Uid[];
  op: FlagOp;
  flags: string[];
  /** RFC 7162 UNCHANGEDSINCE: rows with a greater modseq are not changed and are reported in `failed`. */
  unchangedSince?: ModSeq;
  viewerId: Id;
}

export interface FlagUpdateResult {
  /** Rows whose flags actually changed, with their new modseq. */
  changed: MessageRow[];
  /** UIDs refused by UNCHANGEDSINCE. */
  failed: Uid[];
}

export interface CopyResult {
  uidValidity: number;
  /** Pairs in source UID order. */
  mapping: { from: Uid; to: Uid }[];
}

export interface Changes {
  highestModSeq: ModSeq;
  /** Rows added or changed after the given modseq (ascending UID). */
  changed: MessageRow[];
  /** UIDs expunged after the given modseq (ascending), as far as the expunge log still holds them. */
  expunged: Uid[];
  /**
   * False when tombstones newer than the given modseq were already pruned (the log keeps the
   * newest ones per mailbox): `expunged` may then miss UIDs, and a caller must find them by
   * comparing the UIDs it knows with the mailbox's rows (RFC 7162 3.2.5.2 allows a superset).
   */
  expungedComplete: boolean;
}

/**
 * Who removed messages, recorded with each message kept in Recently Deleted: the protocol
 * (`imap`, `pop3`, `cli`, `retention`, `store`…) and a free-form label of the actor (today
 * the user's address; a device or credential name once sessions know one).
 */
export interface DeletedBy {
  protocol: string;
  actor: string;
}

/** How the store treats expunged messages (config `retention.*`, set once after opening). */
export interface RetentionSettings {
  /** Keep expunged messages in the user's Recently Deleted mailbox (retention.deleted_days > 0). */
  keepDeleted: boolean;
  /** Kept messages still count against quota. */
  countQuota: boolean;
  /** Name given to a Recently Deleted mailbox when the store creates one. */
  mailboxName: string;
}

/** A message kept in Recently Deleted, with its deletion record. */
export interface DeletedMessage {
  /** The row in the Recently Deleted mailbox (its flags carry the record keywords too). */
  row: MessageRow;
  deletedAt: Date;
  /** The mailbox it was removed from (the id may no longer exist) and its name then. */
  fromMailboxId: Id;
  fromMailboxName: string;
  protocol: string;
  actor: string;
}

/** One message put back by restoreDeleted: its UID in Recently Deleted, where it went and its new UID there. */
export interface RestoredMessage {
  from: Uid;
  mailboxId: Id;
  to: Uid;
}

/** Store-wide figures for benchmarks and `mailroom` status output. */
export interface StorageStats {
  /** Sum of sizes of all message rows. */
  logicalBytes: number;
  /** Bytes of all distinct blobs. */
  blobBytes: number;
  contents: number;
  blobs: number;
  messages: number;
}

/**
 * The bytes `BlobStore.put` stores: a byte range of a complete file that is never written
 * again (a message spool: a whole file may become the blob by a hard link, a part is
 * copied), or a stream. Never one whole Buffer, so a 50 MB part never sits in the heap.
 */
export type BlobBytes = { path: string; start: number; end: number } | Readable;

/** Content-addressed bytes. `put` is idempotent and atomic (never a half-written blob). */
export interface BlobStore {
  /**
   * Stores `bytes` under `hash`; 'invalid' when they do not hash to it. Files are durable when
   * this resolves; blob rows in PostgreSQL once the transaction that references them commits
   * (their insert skips its own WAL flush: that commit flushes the log past it).
   */
  put(hash: string, bytes: BlobBytes): Promise<void>;
  has(hash: string): Promise<boolean>;
  /** Bytes [start, end) of a blob; end defaults to its size. */
  read(hash: string, start?: number, end?: number): Readable;
  delete(hash: string): Promise<void>;
}

export interface Store {
  readonly blobs: BlobStore;
  /**
   * Who compresses a NewContent's inline blobs (Segment.encoded): 'caller' (the default) has
   * the ingest do it, synchronously, before the append (PostgreSQL: no open transaction waits
   * for it); 'store' gives the bytes alone and the store compresses them itself on its own
   * thread (the SQLite worker, which thereby takes that CPU off the protocol thread).
   */
  readonly inlineEncoding?: 'caller' | 'store';

  /** Applies pending migrations (versioned from 1); safe to call on every start. */
  migrate(): Promise<void>;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;

  // Domains
  addDomain(name: string): Promise<Domain>; // StoreError 'exists'
  getDomain(name: string): Promise<Domain | null>;
  listDomains(): Promise<Domain[]>;
  /** Fails with 'conflict' while users or aliases exist in it. */
  deleteDomain(name: string): Promise<void>;

  // Users
  /** Creates the user and the given mailboxes (always INBOX first) in one transaction. Domain must exist. */
  addUser(address: string, passwordHash: string, mailboxes: { name: string; specialUse: SpecialUse | null }[], scramKeys?: string): Promise<User>;
  getUser(address: string): Promise<User | null>; // case-insensitive
  getUserById(id: Id): Promise<User | null>;
  listUsers(domain?: string): Promise<User[]>;
  /** Removes the user with all mailboxes and messages; releases content and blob references. */
  deleteUser(address: string): Promise<void>;
  /** Replaces the password hash and the SCRAM keys ('' when none are given: old keys never outlive their password). */
  setPassword(userId: Id, passwordHash: string, scramKeys?: string): Promise<void>;
  /**
   * Adds SCRAM keys to a password that has none yet (computed at a successful PLAIN/LOGIN); written only
   * while the stored hash is still `passwordHash`, so a concurrent password change wins. True when written.
   * Live sessions are not ended (the password did not change).
   */
  setScramKeys(userId: Id, passwordHash: string, scramKeys: string): Promise<boolean>;
  setQuota(userId: Id, limits: QuotaLimits): Promise<void>;
  getQuota(userId: Id): Promise<QuotaUsage>;
  /**
   * Recounts the user's usage from the rows (rows of Recently Deleted count only while
   * charged) and compares it with the quota counters; with `fix`, sets the counters to
   * the recount under the user's row lock. 'notfound' for an unknown user.
   */
  checkQuota(userId: Id, fix: boolean): Promise<QuotaCheck>;
  /** Logical, unique (after dedup) and stored (at rest) bytes of a user's mail, or of all mail with null. */
  usage(userId: Id | null): Promise<StorageUsage>;
  /**
   * The quota warning level (80 or 95, % of a limit) usage has reached and that was not yet
   * announced, marked announced in the same step, so exactly one caller gets it and delivers
   * the warning; null when there is nothing new. Freeing quota (expunge, purge, move away)
   * or raising a limit re-arms the levels usage is below again.
   */
  claimQuotaWarning(userId: Id): Promise<number | null>;
  /** value null removes the key. */
  setUserSetting(userId: Id, key: string, value: string | null): Promise<void>;

  // Aliases
  addAlias(source: string, target: string): Promise<void>; // 'exists' for an identical pair
  deleteAlias(source: string, target?: string): Promise<number>; // how many removed
  listAliases(domain?: string): Promise<Alias[]>;
  /** Targets of an exact source (`local@domain` or `@domain`), case-insensitive. */
  aliasTargets(source: string): Promise<string[]>;

  // Mailboxes
  createMailbox(userId: Id, name: string, specialUse?: SpecialUse | null): Promise<Mailbox>; // 'exists'
  getMailbox(userId: Id, name: string): Promise<Mailbox | null>; // "inbox" in any case means INBOX
  getMailboxById(id: Id): Promise<Mailbox | null>;
  listMailboxes(userId: Id): Promise<Mailbox[]>;
  /** Renames the mailbox and every child (`old/...`); new UIDVALIDITY is not needed since UIDs move along. */
  renameMailbox(userId: Id, from: string, to: string): Promise<void>; // 'notfound' | 'exists'
  /**
   * Deletes the mailbox (children stay); its messages go to Recently Deleted like an expunge
   * by `by`. 'invalid' for the Recently Deleted mailbox itself (its messages are purged).
   */
  deleteMailbox(userId: Id, name: string, by?: DeletedBy): Promise<void>;
  /** Subscriptions may name mailboxes that do not exist (RFC 9051 6.3.7). */
  setSubscribed(userId: Id, name: string, subscribed: boolean): Promise<void>;
  listSubscriptions(userId: Id): Promise<string[]>;

  // Messages
  /** Stores one message; checks quota ('overquota') unless ignoreQuota. */
  appendMessage(req: AppendRequest): Promise<AppendResult>;
  /**
   * Several appends in one transaction, in order (IMAP MULTIAPPEND): every message is stored
   * or none is (any error, 'overquota' included, leaves nothing). UIDs of one mailbox follow
   * each other. 'invalid' for an empty list.
   */
  appendMessages(reqs: AppendRequest[]): Promise<AppendResult[]>;
  /**
   * Appends `req` and expunges `old` (as `expunge` does: Recently Deleted keeps it when
   * retention is on) in one transaction (IMAP REPLACE, RFC 8508): both happen or neither;
   * 'conflict' when `old` is no longer there, and then nothing is stored.
   */
  replaceMessage(req: AppendRequest, old: { mailboxId: Id; uid: Uid; by?: DeletedBy }): Promise<AppendResult>;
  /** All rows of a mailbox, ascending UID. */
  listMessages(mailboxId: Id, viewerId: Id): Promise<MessageRow[]>;
  getMessages(mailboxId: Id, uids: Uid[], viewerId: Id): Promise<MessageRow[]>;
  /**
   * The mailbox and the UID and flags (as `viewerId` sees them) of every row, from one
   * snapshot, compact: IMAP SELECT of a big mailbox. 'notfound' for an unknown mailbox.
   */
  mailboxSnapshot(mailboxId: Id, viewerId: Id): Promise<MailboxSnapshot>;
  /**
   * What SORT and THREAD order by, for every row of the mailbox with a UID of at least
   * `fromUid`, in one statement (store/core/sort-keys.ts): the first SORT or THREAD of a
   * big mailbox reads no MIME index and no header. Thread keys only when `thread` is set.
   * 'notfound' for an unknown mailbox.
   */
  sortKeys(mailboxId: Id, fromUid: Uid, thread: boolean): Promise<SortKeyRows>;
  /**
   * A mailbox's counts as `viewerId` sees them (the viewer's private flags merged, as in
   * listMessages), from one snapshot and without loading rows: STATUS on a big mailbox.
   * 'notfound' for an unknown mailbox.
   */
  mailboxCounts(mailboxId: Id, viewerId: Id): Promise<MailboxCounts>;
  updateFlags(update: FlagUpdate): Promise<FlagUpdateResult>;
  /**
   * Removes rows; returns the UIDs actually removed (ascending). While retention keeps
   * deleted mail (setRetention), the rows move to the user's Recently Deleted mailbox with a
   * record of `by` (default: protocol `store`), keeping content, flags, EMAILID and UIDL;
   * for the mailbox they left it is an expunge like any other (tombstone, MODSEQ). Rows of
   * the Recently Deleted mailbox itself are removed for good.
   */
  expunge(mailboxId: Id, uids: Uid[], by?: DeletedBy): Promise<Uid[]>;
  /** Copies rows (same content, same EMAILID, new UIDs); checks quota. 'invalid' into Recently Deleted. */
  copyMessages(fromMailboxId: Id, uids: Uid[], toMailboxId: Id): Promise<CopyResult>;
  /**
   * Atomic COPY + EXPUNGE (RFC 6851); quota is unchanged within one user. Out of Recently
   * Deleted it is a restore (record keywords dropped, quota charged again when it was not
   * counted); into it, 'invalid' (expunge is the way in).
   */
  moveMessages(fromMailboxId: Id, uids: Uid[], toMailboxId: Id): Promise<CopyResult>;
  changesSince(mailboxId: Id, modSeq: ModSeq, viewerId: Id): Promise<Changes>;
  /**
   * Sets an imported legacy POP3 UIDL on one row ('notfound' when the row is gone,
   * 'invalid' when not 1–70 characters 0x21–0x7E). No MODSEQ change: IMAP does not see it.
   */
  setUidl(mailboxId: Id, uid: Uid, uidl: string): Promise<void>;

  // Recently Deleted
  /** What expunge does with removed rows; applies to this store object (each process and node sets its own). */
  setRetention(settings: RetentionSettings): Promise<void>;
  /** The user's kept messages, oldest deletion first; only those deleted at or after `since` when given. */
  listDeleted(userId: Id, since?: Date): Promise<DeletedMessage[]>;
  /**
   * Puts kept messages back (`uids` of the Recently Deleted mailbox; null: all), each into
   * `toMailboxId` when given, else the mailbox it came from (by id, then by name), else
   * INBOX. Same content, flags, keywords, EMAILID and UIDL; 'overquota' when the quota has no room.
   */
  restoreDeleted(userId: Id, uids: Uid[] | null, toMailboxId?: Id): Promise<RestoredMessage[]>;
  /**
   * Removes for good up to `limit` kept messages deleted before `before` (every user), releasing
   * content and quota; returns how many. Safe to run on several nodes at once.
   */
  purgeDeleted(before: Date, limit?: number): Promise<number>;

  // Leases: a named lock with an expiry, shared by every process and node on this store
  // (the POP3 maildrop lock). The holder renews it; a crashed holder's lease expires.
  /** Takes `key` for `owner` for ttlMs; true if taken (or already held by owner, then renewed), false if another owner holds it unexpired. */
  acquireLease(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends the owner's lease; false when the owner no longer holds it (expired and taken by someone else, or released). */
  renewLease(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Drops the lease if `owner` holds it; otherwise does nothing. */
  releaseLease(key: string, owner: string): Promise<void>;
  /** Leases (expired or not) whose owner starts with `ownerPrefix`: a restarted node finds those it held before a crash. */
  listLeases(ownerPrefix: string): Promise<{ key: string; owner: string }[]>;

  /**
   * Records a successful login of `kind` (e.g. 'pop3') at `at`, atomically, unless the
   * previous one was less than minIntervalMs before `at` (RFC 2449 LOGIN-DELAY): then
   * nothing is recorded and ok is false. `previous` is the last recorded time, if any.
   */
  recordLogin(userId: Id, kind: string, at: Date, minIntervalMs: number): Promise<{ ok: boolean; previous: Date | null }>;

  // Members and device passwords (one account, several people and devices)
  /** 'exists' for a name already taken (case-insensitive; `owner` is always taken), 'invalid' for a bad name. */
  addMember(userId: Id, name: string): Promise<Member>;
  listMembers(userId: Id): Promise<Member[]>;
  /** Removes the member with its devices and private flags; returns the removed devices. 'notfound' without it. */
  deleteMember(userId: Id, name: string): Promise<Device[]>;
  /** 'notfound' for an unknown member, 'exists' for a device name taken in the account or a digest already stored. */
  addDevice(userId: Id, device: NewDevice): Promise<Device>;
  listDevices(userId: Id): Promise<Device[]>;
  /** The device whose password has this SHA-256 digest, if any (one indexed lookup). */
  deviceBySecret(secretDigest: string): Promise<Device | null>;
  /** Removes the device (case-insensitive name); returns it. 'notfound' without it. */
  revokeDevice(userId: Id, name: string): Promise<Device>;
  /** Sets (or with null removes) one per-device setting; returns the device. 'notfound' without it. */
  setDeviceSetting(userId: Id, name: string, key: string, value: string | null): Promise<Device>;
  /** Records a device's last login (ephemeral: a crash may lose it). */
  recordDeviceLogin(deviceId: Id, at: Date, protocol: string, address: string): Promise<void>;
  /** Password hash, settings and existing devices of each user (unknown ids left out): open sessions check their login still holds. */
  liveCredentials(userIds: Id[]): Promise<CredentialState[]>;
  /** Records a failed login (ephemeral); keeps the newest 20 per account and a bounded list for unknown names. */
  recordFailedLogin(f: NewFailedLogin): Promise<void>;
  /** Newest first: one account's failed logins, or with null every recent one (accounts and unknown names). */
  listFailedLogins(userId: Id | null, limit?: number): Promise<FailedLogin[]>;
  /**
   * Records a login origin (`device:ID` or `address:…`) of the account; `isNew` when never seen
   * before, `firstForAccount` when the account had none. 'notfound' for an unknown user.
   */
  noteLoginOrigin(userId: Id, origin: string, at: Date): Promise<{ isNew: boolean; firstForAccount: boolean }>;
  /** Hides messages of a mailbox from one device only (device setting delete=device); unknown UIDs or device: nothing. */
  hideFromDevice(deviceId: Id, mailboxId: Id, uids: Uid[]): Promise<void>;
  /** UIDs of the mailbox hidden from the device, ascending. */
  deviceHiddenUids(deviceId: Id, mailboxId: Id): Promise<Uid[]>;

  // Vacation replies (RFC 3834)
  /** True (and recorded) when no vacation reply went to `sender` (case-insensitive) within `everyMs`; unknown user: false. */
  claimVacationReply(userId: Id, sender: string, now: Date, everyMs: number): Promise<boolean>;
  /** Forgets the senders replied to (a new vacation answers everyone again). */
  clearVacationReplies(userId: Id): Promise<void>;
  // Metadata (RFC 5464 annotations)
  /**
   * Values of the named entries (`/private`, `/shared` or below) and, by `depth`, their
   * descendants, sorted by name; entries without a value are left out. 'invalid' for a bad
   * name, 'notfound' for a mailbox that is not the user's.
   */
  getMetadata(scope: MetadataScope, names: string[], depth: MetadataDepth): Promise<MetadataEntry[]>;
  /**
   * Sets or removes entries, all or nothing: 'toomany' (nothing changed) when the mailbox or
   * server would hold more than `limits.maxEntries` the viewer sees; 'invalid' for a bad name
   * or a value over `limits.maxValueSize`. Entries stay with a renamed mailbox and go with
   * a deleted mailbox, member or user.
   */
  setMetadata(scope: MetadataScope, changes: MetadataChange[], limits: MetadataLimits): Promise<'ok' | 'toomany'>;

  // URLAUTH mailbox access keys (RFC 4467 2.2)
  /** The user's access key for the mailbox, or null when none exists (never made, or reset away). */
  getUrlAuthKey(userId: Id, mailboxId: Id): Promise<Buffer | null>;
  /** The user's access key for the mailbox, made (random, 256 bits) when there is none. 'notfound' for a mailbox not the user's. */
  ensureUrlAuthKey(userId: Id, mailboxId: Id): Promise<Buffer>;
  /**
   * RESETKEY: replaces the mailbox's key with a new random one, or with `mailboxId` null
   * removes every key of the user. Keys go with their mailbox and user. 'notfound' for a mailbox not the user's.
   */
  resetUrlAuthKeys(userId: Id, mailboxId: Id | null): Promise<void>;
  // Sharing (RFC 4314 ACL)
  /** A mailbox's entries, `anyone` first ('notfound' for an unknown mailbox); its owner has none (he has every right). */
  getAcl(mailboxId: Id): Promise<AclEntry[]>;
  /**
   * Sets, adds or removes one grantee's rights and returns what he then holds ('' removed the
   * entry). 'invalid' for an unknown right or the owner as grantee; 'notfound' for an unknown
   * mailbox or grantee address.
   */
  setAcl(change: AclChange): Promise<string>;
  /** A user's rights on a mailbox: ALL_RIGHTS for its owner, else his entry's and `anyone`'s together. */
  rightsOn(mailboxId: Id, userId: Id): Promise<string>;
  /** Other users' mailboxes with an entry for the user or `anyone`, by owner address then name. */
  sharedWith(userId: Id): Promise<SharedMailbox[]>;

  // Content
  getContent(contentId: string): Promise<ContentMeta | null>;
  /**
   * The MIME indexes of many contents in one round trip, without their search text
   * (FETCH ENVELOPE/BODYSTRUCTURE of a whole mailbox). Unknown ids are left out.
   */
  getIndexes(contentIds: string[]): Promise<Map<string, ContentIndex>>;
  hasContent(contentId: string): Promise<boolean>;
  /**
   * SEARCH TEXT / BODY (RFC 9051 6.4.4): UIDs (ascending) of the mailbox's rows whose
   * content's search text (`searchText`: decoded headers and text parts) contains `value`
   * as a case-insensitive substring; for 'body', in the part after the header block only.
   * Exact, not a candidate list; answered with the store's text index. 'notfound' for an
   * unknown mailbox. 'candidates' is the index's answer alone: a superset of 'text' (every
   * UID 'text' returns is in it), cheap because no stored text is read; SEARCH narrows
   * header keys with it and checks them on the header text it caches.
   */
  searchText(mailboxId: Id, part: 'text' | 'body' | 'candidates', value: string): Promise<Uid[]>;
  /** Streams raw bytes [start, end) of the message across its segments. */
  openContent(contentId: string, start?: number, end?: number): Promise<Readable>;

  stats(): Promise<StorageStats>;

  // Outbound queue: durable entries (one message, its envelope, per-recipient state),
  // holding a reference to their content so expunging the Sent copy never loses a
  // queued message. A worker claims due entries with a lease, so two workers (or nodes)
  // never work on one entry at once; a crashed worker's lease expires and the entry
  // is claimed again. A recipient recorded 'delivered' or 'failed' is final.
  /** Queues a message ('invalid' without recipients or with a bad address; 'notfound' if ExistingContent vanished). Recipients are deduplicated case-insensitively. */
  enqueueMessage(req: EnqueueRequest): Promise<QueueEntry>;
  getQueueEntry(id: string): Promise<QueueEntry | null>;
  /** Every entry, oldest first. */
  listQueueEntries(): Promise<QueueEntry[]>;
  /**
   * Leases up to `limit` entries that are due (nextAttemptAt <= now) and not leased
   * (or whose lease expired) to `owner` until now + leaseMs; soonest due first.
   */
  claimQueueEntries(owner: string, now: Date, leaseMs: number, limit: number): Promise<QueueEntry[]>;
  /**
   * Records the outcome of one attempt for the named recipients that are still pending
   * (a final state is never changed back); each gets attempts + 1. 'notfound' without the entry.
   */
  recordQueueResults(id: string, results: QueueRecipientResult[], at: Date): Promise<void>;
  /**
   * Ends `owner`'s lease: sets the next attempt time, counts the attempt, stores the
   * error and the delay-notification time when given. False (and no change) when
   * `owner` does not hold the lease any more.
   */
  releaseQueueEntry(id: string, owner: string, update: QueueReschedule): Promise<boolean>;
  /** Makes the entry due at `at` (CLI retry); the lease, if any, is kept. False without the entry. */
  retryQueueEntry(id: string, at: Date): Promise<boolean>;
  /** Removes the entry and releases its content reference. False without the entry. */
  deleteQueueEntry(id: string): Promise<boolean>;
  /**
   * Clears `dsnPending` of the named recipients once their DSN was sent (or was not
   * wanted). 'notfound' without the entry.
   */
  clearQueueDsn(id: string, addresses: string[]): Promise<void>;
}

/** RFC 3461 NOTIFY values. */
export type DsnNotify = 'SUCCESS' | 'FAILURE' | 'DELAY' | 'NEVER';

/** Envelope parameters of a queued message (RFC 3461 ENVID/RET, RFC 8689 REQUIRETLS, RFC 6531 SMTPUTF8, RFC 6152 8BITMIME). */
export interface QueueParams {
  envid?: string;
  ret?: 'FULL' | 'HDRS';
  requireTls?: boolean;
  smtpUtf8?: boolean;
  eightBit?: boolean;
  /** When the message arrived here (Arrival-Date of a DSN); defaults to the enqueue time. */
  arrivalDate?: string;
}

export interface QueueRecipientRequest {
  address: string;
  /** RFC 3461 NOTIFY; absent means the default (FAILURE and DELAY). */
  notify?: DsnNotify[];
  /** RFC 3461 ORCPT, as given (`rfc822;addr`). */
  orcpt?: string;
}

export type QueueRecipientState = 'pending' | 'delivered' | 'failed';

export interface QueueRecipient extends QueueRecipientRequest {
  state: QueueRecipientState;
  attempts: number;
  /** Enhanced status code of the last result (e.g. `5.1.1`), when known. */
  status: string | null;
  /** Last reply or error text, e.g. `550 5.1.1 no such user`. */
  lastResult: string | null;
  /** The host that gave the last result. */
  remoteMta: string | null;
  updatedAt: Date | null;
  /** Present (true) while a DSN about this recipient's final result is owed to the sender. */
  dsnPending?: true;
}

export interface QueueEntry {
  /** Opaque, unique, safe to print and type (letters and digits). */
  id: string;
  contentId: string;
  size: number;
  /** Envelope sender; '' is the null sender (bounces), which is never bounced. */
  from: string;
  params: QueueParams;
  recipients: QueueRecipient[];
  createdAt: Date;
  nextAttemptAt: Date;
  /** Attempts finished (leases released). */
  attempts: number;
  lastError: string | null;
  delayNotifiedAt: Date | null;
  lease: { owner: string; until: Date } | null;
}

export interface EnqueueRequest {
  content: NewContent | ExistingContent;
  from: string;
  recipients: QueueRecipientRequest[];
  params?: QueueParams;
  /** Default: now. */
  nextAttemptAt?: Date;
}

export interface QueueRecipientResult {
  address: string;
  state: QueueRecipientState;
  status?: string | null;
  result: string;
  remoteMta?: string | null;
  /**
   * A DSN about this result is owed to the sender (a bounce, or a "relayed" report):
   * recorded with the result in the same transaction, so a crash between the result
   * and the DSN cannot lose the DSN. Ignored unless the recipient was still pending.
   */
  dsn?: boolean;
}

export interface QueueReschedule {
  nextAttemptAt: Date;
  lastError?: string | null;
  delayNotifiedAt?: Date;
}

// Roles: the parts of Store each user of it needs (DESIGN.md "store roles"). A function
// that takes a role says what it touches; every Store is each of them.

/** Domains, users, aliases, quota limits and settings: auth, recipient resolution, the CLI. */
export type Directory = Pick<Store,
  | 'addDomain' | 'getDomain' | 'listDomains' | 'deleteDomain'
  | 'addUser' | 'getUser' | 'getUserById' | 'listUsers' | 'deleteUser' | 'setPassword' | 'setScramKeys' | 'setQuota' | 'getQuota' | 'checkQuota' | 'usage' | 'claimQuotaWarning' | 'setUserSetting'
  | 'addAlias' | 'deleteAlias' | 'listAliases' | 'aliasTargets' | 'recordLogin'>;

/** Members and device passwords: the CLI and the authenticator. */
export type People = Pick<Store,
  | 'addMember' | 'listMembers' | 'deleteMember' | 'addDevice' | 'listDevices' | 'deviceBySecret' | 'revokeDevice' | 'setDeviceSetting'
  | 'recordDeviceLogin' | 'liveCredentials' | 'hideFromDevice' | 'deviceHiddenUids'
  | 'recordFailedLogin' | 'listFailedLogins' | 'noteLoginOrigin'>;

/** Mailboxes, messages and contents: IMAP, POP3, delivery, APPEND. */
export type MailStore = Pick<Store,
  | 'blobs' | 'createMailbox' | 'getMailbox' | 'getMailboxById' | 'listMailboxes' | 'renameMailbox' | 'deleteMailbox' | 'setSubscribed' | 'listSubscriptions'
  | 'appendMessage' | 'appendMessages' | 'replaceMessage' | 'listMessages' | 'getMessages' | 'mailboxSnapshot' | 'sortKeys' | 'mailboxCounts' | 'updateFlags' | 'expunge' | 'copyMessages' | 'moveMessages' | 'changesSince' | 'setUidl' | 'hideFromDevice' | 'deviceHiddenUids'
  | 'listDeleted' | 'restoreDeleted' | 'getMetadata' | 'setMetadata' | 'getUrlAuthKey' | 'ensureUrlAuthKey' | 'resetUrlAuthKeys' | 'getAcl' | 'setAcl' | 'rightsOn' | 'sharedWith'
  | 'getContent' | 'getIndexes' | 'hasContent' | 'searchText' | 'openContent' | 'stats'>;

/** Named locks with an expiry shared by every process and node (the POP3 maildrop lock). */
export type Leases = Pick<Store, 'acquireLease' | 'renewLease' | 'releaseLease' | 'listLeases'>;

/** The outbound queue: SMTP submission enqueues, the queue worker claims and reports. */
export type OutboundQueue = Pick<Store,
  | 'blobs' | 'hasContent' | 'openContent' | 'getContent'
  | 'enqueueMessage' | 'getQueueEntry' | 'listQueueEntries' | 'claimQueueEntries' | 'recordQueueResults'
  | 'releaseQueueEntry' | 'retryQueueEntry' | 'deleteQueueEntry' | 'clearQueueDsn'>;
