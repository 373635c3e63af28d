/**
 * The messages between WorkerStore (main thread, proxy.ts) and the store host (worker
 * thread, host.ts), and how errors cross: structured clone keeps Dates, plain objects
 * and arrays but drops an Error's own fields, so a StoreError travels as its code and
 * message and is rebuilt on the other side with the same code.
 */
import { StoreError, type StoreErrorCode } from '../errors.js';
import type { ChangeEvent } from '../bus.js';
import type { RetentionSettings, Segment, Store } from '../types.js';

/** Store methods answered by the host. `blobs` and `openContent` are served on the main thread. */
export type ForwardedMethod = Exclude<{ [K in keyof Store]-?: Store[K] extends (...a: never[]) => unknown ? K : never }[keyof Store], 'openContent'>;

/** Every forwarded method, so the host can refuse anything else by name. */
export const FORWARDED: ReadonlySet<string> = new Set<ForwardedMethod>([
  'migrate', 'schemaVersion', 'close',
  'addDomain', 'getDomain', 'listDomains', 'deleteDomain',
  'addUser', 'getUser', 'getUserById', 'listUsers', 'deleteUser', 'setPassword', 'setScramKeys', 'setQuota', 'getQuota', 'checkQuota', 'usage', 'claimQuotaWarning', 'setUserSetting',
  'addAlias', 'deleteAlias', 'listAliases', 'aliasTargets',
  'createMailbox', 'getMailbox', 'getMailboxById', 'listMailboxes', 'renameMailbox', 'deleteMailbox', 'setSubscribed', 'listSubscriptions',
  'appendMessage', 'appendMessages', 'replaceMessage', 'listMessages', 'getMessages', 'mailboxSnapshot', 'sortKeys', 'mailboxCounts', 'updateFlags', 'expunge', 'copyMessages', 'moveMessages', 'changesSince', 'setUidl',
  'setRetention', 'listDeleted', 'restoreDeleted', 'purgeDeleted',
  'acquireLease', 'renewLease', 'releaseLease', 'listLeases', 'recordLogin',
  'addMember', 'listMembers', 'deleteMember', 'addDevice', 'listDevices', 'deviceBySecret', 'revokeDevice', 'setDeviceSetting', 'recordDeviceLogin', 'liveCredentials', 'hideFromDevice', 'deviceHiddenUids',
  'getMetadata', 'setMetadata', 'getUrlAuthKey', 'ensureUrlAuthKey', 'resetUrlAuthKeys', 'getAcl', 'setAcl', 'rightsOn', 'sharedWith',
  'recordFailedLogin', 'listFailedLogins', 'noteLoginOrigin',
  'getContent', 'getIndexes', 'hasContent', 'searchText', 'stats',
  'claimVacationReply', 'clearVacationReplies',
  'enqueueMessage', 'getQueueEntry', 'listQueueEntries', 'claimQueueEntries', 'recordQueueResults', 'releaseQueueEntry',
  'retryQueueEntry', 'deleteQueueEntry', 'clearQueueDsn',
]);

/** Not a Store method: the segments of a content, so the main thread streams the bytes itself. */
export const SEGMENTS = '$segments';

export interface ContentLayout {
  size: number;
  segments: Segment[];
}

/** What the host is started with (workerData). */
export interface HostOptions {
  /** SQLite database file. */
  file: string;
  blobDir: string;
  busyTimeoutMs?: number;
  /** Change poller period; 0 turns the poller off (tests that want no external doorbells). */
  changePollMs: number;
  /** Store.setRetention as last set, so a worker restarted after a crash keeps it. */
  retention?: RetentionSettings;
}

export type Request = { id: number; method: ForwardedMethod | typeof SEGMENTS; args: unknown[] };

export type WireError = { store: true; code: StoreErrorCode; message: string } | { store: false; name: string; message: string; stack?: string };

export type Reply =
  | { t: 'ready' }
  /** The host could not open the store; it exits after sending this. */
  | { t: 'fatal'; error: WireError }
  | { t: 'ok'; id: number; value: unknown }
  | { t: 'err'; id: number; error: WireError }
  /** Published on the main thread's bus in arrival order: before the reply of the call whose commit caused it. */
  | { t: 'event'; event: ChangeEvent }
  /** Contents deleted by a commit, posted before that call's reply: remembered layouts of them are dropped. */
  | { t: 'gone'; ids: string[] };

export function toWire(err: unknown): WireError {
  if (err instanceof StoreError) return { store: true, code: err.code, message: err.message };
  if (err instanceof Error) return { store: false, name: err.name, message: err.message, stack: err.stack };
  return { store: false, name: 'Error', message: String(err) };
}

/** Rebuilds the error on the receiving side: a StoreError keeps its code; anything else stays a plain Error (a bug, not a store answer). */
export function fromWire(w: WireError): Error {
  if (w.store) return new StoreError(w.code, w.message);
  const err = new Error(w.message);
  err.name = w.name;
  if (w.stack) err.stack = `${w.stack}\n    (in the store worker thread)`;
  return err;
}
