/**
 * Copies a user's mail from another IMAP server into the store: every selectable mailbox
 * (special-use kept), each message's exact bytes (BODY.PEEK[], so nothing is marked read
 * on the old server), flags, keywords and INTERNALDATE. One message is fetched and stored
 * at a time, so memory stays at about the largest message.
 *
 * Resumable through ImportJournal (old mailbox, UIDVALIDITY, UID): a second run fetches
 * only UIDs not yet recorded. Never imports: CLI code.
 */
import { createHash } from 'node:crypto';
import type { ImapFlow, ListResponse } from 'imapflow';
import type { IngestOptions } from '../../ingest.js';
import type { Id, Mailbox, SpecialUse, Store, Uid } from '../../store/types.js';
import { appendRaw } from './append-raw.js';
import type { ImportJournal } from './import-journal.js';

export interface RemoteAccount {
  host: string;
  port: number;
  /** true: TLS from the first byte (imaps, pop3s); false: STARTTLS/STLS when the server offers it. */
  tls: boolean;
  user: string;
  password: string;
  /** Accept a certificate that does not verify (the old server's self-signed one). */
  insecure: boolean;
}

export interface ImportProgress {
  /** A message was copied or found already there; `done` counts both. */
  message(box: string, done: number, total: number): void;
  /** The mailbox is finished (or the limit stopped it). */
  mailbox(box: string, copied: number, already: number, total: number): void;
  warn(text: string): void;
}

export interface ImportOptions {
  store: Store;
  userId: Id;
  ingest: IngestOptions;
  journal: ImportJournal;
  /** Old-server mailbox names to copy; all when undefined. */
  mailboxes?: string[];
  /** Stop after copying this many messages (a trial run; run again to go on). */
  limit?: number;
  progress: ImportProgress;
}

export interface ImportSummary {
  mailboxes: number;
  copied: number;
  already: number;
  /** true when the limit stopped the run before everything was copied. */
  stopped: boolean;
  /** Mailroom INBOX UIDs of every message copied from the old INBOX (this and earlier runs). */
  inboxUids: Uid[];
}

const KEPT_SPECIAL_USE = new Set<string>(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive']);

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function connectImap(account: RemoteAccount): Promise<ImapFlow> {
  // Loaded on first import, not at startup: ~3 MB of heap in every server otherwise.
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow({
    host: account.host,
    port: account.port,
    // Not secure: imapflow upgrades with STARTTLS when the server offers it, plain text only when it offers nothing better.
    secure: account.tls,
    auth: { user: account.user, pass: account.password },
    tls: { rejectUnauthorized: !account.insecure, servername: /^[\d.:]+$/.test(account.host) ? undefined : account.host },
    logger: false,
    disableAutoIdle: true,
  });
  client.on('error', () => {}); // socket errors also reject the pending command, which reports them
  try {
    await client.connect();
  } catch (err) {
    client.close(); // a refused login leaves the connection open (the server allows a retry), and with it the process
    const e = err as { authenticationFailed?: boolean; responseText?: string; message?: string };
    // imapflow says only "Command failed"; the server's own words say why.
    if (e.authenticationFailed) throw new Error(`the old server refused the login of ${account.user}: ${e.responseText ?? e.message ?? ''}`);
    throw err;
  }
  return client;
}

/** The old server's name with its own delimiter → Mailroom's `/`-separated name. */
export function targetName(entry: Pick<ListResponse, 'path' | 'delimiter'>): string {
  if (entry.path.toUpperCase() === 'INBOX') return 'INBOX';
  return entry.delimiter && entry.delimiter !== '/' ? entry.path.split(entry.delimiter).join('/') : entry.path;
}

function selectable(entry: ListResponse): boolean {
  const flags = [...(entry.flags ?? [])].map((f) => f.toLowerCase());
  return !flags.includes('\\noselect') && !flags.includes('\\nonexistent');
}

async function targetMailbox(opts: ImportOptions, entry: ListResponse): Promise<Mailbox> {
  const { store, userId } = opts;
  const name = targetName(entry);
  const existing = await store.getMailbox(userId, name);
  if (existing) return existing;
  let use = entry.specialUse && KEPT_SPECIAL_USE.has(entry.specialUse) ? (entry.specialUse as SpecialUse) : null;
  if (use) {
    const holder = (await store.listMailboxes(userId)).find((b) => b.specialUse === use);
    if (holder) {
      opts.progress.warn(`${name}: ${use} is already ${holder.name} here; ${name} is made without it`);
      use = null;
    }
  }
  return store.createMailbox(userId, name, use);
}

/**
 * A run killed between the append and its journal line: the bytes are in the target
 * mailbox under a UID the journal does not know. Found by content id (the sha256 of the
 * exact bytes), so the message is not copied twice.
 */
async function settlePending(opts: ImportOptions, oldBox: string, uidValidity: number, box: Mailbox): Promise<void> {
  const pending = opts.journal.pendingIn(oldBox, uidValidity);
  if (pending.length === 0) return;
  const known = new Set(opts.journal.copiedFrom(oldBox, uidValidity).values());
  const rows = await opts.store.listMessages(box.id, opts.userId);
  for (const p of pending) {
    const row = rows.find((r) => r.contentId === p.sha256 && !known.has(r.uid));
    if (!row) {
      opts.journal.drop(p);
      continue;
    }
    known.add(row.uid);
    opts.journal.done(oldBox, uidValidity, p.oldUid, row.uid);
  }
}

/** Content ids already in the target mailbox, counted: used once when the old server renumbered a mailbox. */
async function contentCounts(opts: ImportOptions, box: Mailbox): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const r of await opts.store.listMessages(box.id, opts.userId)) counts.set(r.contentId, (counts.get(r.contentId) ?? 0) + 1);
  return counts;
}

interface BoxResult {
  copied: number;
  already: number;
  stopped: boolean;
  uids: Uid[];
}

async function copyMailbox(client: ImapFlow, opts: ImportOptions, entry: ListResponse, budget: number): Promise<BoxResult> {
  const box = await targetMailbox(opts, entry);
  const lock = await client.getMailboxLock(entry.path, { readOnly: true });
  try {
    const mailbox = client.mailbox;
    if (!mailbox) throw new Error(`cannot select ${entry.path} on the old server`);
    const uidValidity = Number(mailbox.uidValidity);
    const { journal, progress } = opts;
    await settlePending(opts, entry.path, uidValidity, box);
    const copied = journal.copiedFrom(entry.path, uidValidity);
    // Renumbered since the last run: UIDs say nothing, so the exact bytes already there count instead.
    const renumbered = journal.hasOtherValidity(entry.path, uidValidity) ? await contentCounts(opts, box) : undefined;
    if (renumbered) progress.warn(`${entry.path}: the old server changed its UIDVALIDITY since the last run; matching by content`);
    const all = mailbox.exists === 0 ? [] : ((await client.search({ all: true }, { uid: true })) || []).sort((a, b) => a - b);
    const result: BoxResult = { copied: 0, already: 0, stopped: false, uids: [] };
    for (const uid of all) {
      const newUid = copied.get(uid);
      if (newUid !== undefined) {
        result.already++;
        result.uids.push(newUid as Uid);
        progress.message(entry.path, result.copied + result.already, all.length);
        continue;
      }
      if (result.copied >= budget) {
        result.stopped = true;
        break;
      }
      const msg = await client.fetchOne(String(uid), { uid: true, flags: true, internalDate: true, source: true }, { uid: true });
      if (!msg || !msg.source) continue; // expunged on the old server meanwhile
      const hash = sha256(msg.source);
      const left = renumbered?.get(hash) ?? 0;
      if (left > 0) {
        renumbered!.set(hash, left - 1);
        result.already++;
        progress.message(entry.path, result.copied + result.already, all.length);
        continue;
      }
      journal.begin({ box: entry.path, uidValidity, oldUid: uid, sha256: hash });
      const flags = [...(msg.flags ?? [])].filter((f) => f.toLowerCase() !== '\\recent');
      const internalDate = msg.internalDate ? new Date(msg.internalDate) : new Date();
      const row = await appendRaw(opts.store, opts.ingest, box.id, { raw: msg.source, flags, internalDate });
      journal.done(entry.path, uidValidity, uid, row.uid);
      result.copied++;
      result.uids.push(row.uid);
      progress.message(entry.path, result.copied + result.already, all.length);
    }
    progress.mailbox(entry.path, result.copied, result.already, all.length);
    return result;
  } finally {
    lock.release();
  }
}

/** Copies every (or every named) selectable mailbox of the old account. */
export async function importFromImap(account: RemoteAccount, opts: ImportOptions): Promise<ImportSummary> {
  const client = await connectImap(account);
  try {
    const entries = (await client.list()).filter(selectable);
    let chosen = entries;
    if (opts.mailboxes) {
      const missing = opts.mailboxes.filter((n) => !entries.some((e) => e.path === n || (n.toUpperCase() === 'INBOX' && e.path.toUpperCase() === 'INBOX')));
      if (missing.length > 0) throw new Error(`no such mailbox on the old server: ${missing.join(', ')}`);
      chosen = entries.filter((e) => opts.mailboxes!.some((n) => n === e.path || (n.toUpperCase() === 'INBOX' && e.path.toUpperCase() === 'INBOX')));
    }
    // INBOX first: the mail people look for, and what --pop3 needs.
    chosen.sort((a, b) => Number(b.path.toUpperCase() === 'INBOX') - Number(a.path.toUpperCase() === 'INBOX'));
    const summary: ImportSummary = { mailboxes: 0, copied: 0, already: 0, stopped: false, inboxUids: [] };
    for (const entry of chosen) {
      const budget = opts.limit === undefined ? Infinity : opts.limit - summary.copied;
      const r = await copyMailbox(client, opts, entry, budget);
      summary.mailboxes++;
      summary.copied += r.copied;
      summary.already += r.already;
      if (entry.path.toUpperCase() === 'INBOX') summary.inboxUids = r.uids;
      if (r.stopped) {
        summary.stopped = true;
        break;
      }
    }
    return summary;
  } finally {
    await client.logout().catch(() => client.close());
  }
}
