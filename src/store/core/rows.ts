/** Mapping from database rows (either backend) to the contract's types: one place for column names. */
import type { Domain, Mailbox, MessageRow, SpecialUse, Uid, User } from '../types.js';
import { seenIsPrivate, splitFlags, viewFlags } from './flags.js';

export interface DomainRecord {
  id: number;
  name: string;
}

export interface UserRecord {
  id: number;
  address: string;
  domain_id: number;
  password_hash: string;
  scram_keys: string;
  quota_bytes: number | null;
  quota_messages: number | null;
  used_bytes: number;
  used_messages: number;
  settings: string;
  created_at: number;
}

export interface MailboxRecord {
  id: number;
  user_id: number;
  name: string;
  special_use: string | null;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
  /** Highest MODSEQ whose tombstones were pruned (0: the expunge log is complete). */
  expunged_floor: number;
  message_count: number;
  total_size: number;
  /** Rows whose shared flags hold \Seen / \Deleted (migration 11; store/core/messages.ts keeps them). */
  seen_count: number;
  deleted_count: number;
  subscribed: number;
  /** 1 for the user's Recently Deleted mailbox (migration 10). */
  recently_deleted: number;
}

export interface MessageRecord {
  id: number;
  mailbox_id: number;
  uid: number;
  modseq: number;
  flags: string;
  internal_date: number;
  save_date: number;
  size: number;
  content_id: string;
  email_id: string;
  thread_id: string;
  uidl: string;
  /** MODSEQ of the last change other than the owner's \Seen; null: `modseq`. */
  shared_modseq: number | null;
  pflags: string | null;
  pmodseq: number | null;
}

/** SELECT list and join for message rows as seen by viewer `?` (first parameter). */
export const MESSAGE_SELECT = `
  SELECT m.id, m.mailbox_id, m.uid, m.modseq, m.shared_modseq, m.flags, m.internal_date, m.save_date, m.size,
         m.content_id, m.email_id, m.thread_id, m.uidl, pf.flags AS pflags, pf.modseq AS pmodseq
  FROM messages m LEFT JOIN private_flags pf ON pf.message_id = m.id AND pf.user_id = ?`;

/** SELECT list for mailboxes with their subscription state. */
export const MAILBOX_SELECT = `
  SELECT b.*, CASE WHEN EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = b.user_id AND s.name = b.name) THEN 1 ELSE 0 END AS subscribed
  FROM mailboxes b`;

export function toDomain(r: DomainRecord): Domain {
  return { id: r.id, name: r.name };
}

export function toUser(r: UserRecord): User {
  return {
    id: r.id,
    address: r.address,
    domainId: r.domain_id,
    passwordHash: r.password_hash,
    scramKeys: r.scram_keys ?? '',
    quota: { bytes: r.quota_bytes, messages: r.quota_messages },
    settings: JSON.parse(r.settings) as Record<string, string>,
    createdAt: new Date(r.created_at),
  };
}

export function toMailbox(r: MailboxRecord): Mailbox {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    specialUse: r.special_use as SpecialUse | null,
    subscribed: r.subscribed === 1,
    uidValidity: r.uid_validity,
    uidNext: r.uid_next as Uid,
    highestModSeq: r.highest_modseq,
    messageCount: r.message_count,
    totalSize: r.total_size,
    recentlyDeleted: Number(r.recently_deleted) === 1,
  };
}

/**
 * The MODSEQ of a row as `viewerId` sees it: its last change this viewer can see. For a
 * member, the owner's \Seen (which only moved `modseq`, not `shared_modseq`) is not one.
 */
export function viewModSeq(r: Pick<MessageRecord, 'modseq' | 'shared_modseq' | 'pmodseq'>, viewerId: number): number {
  const shared = seenIsPrivate(viewerId) ? Number(r.shared_modseq ?? r.modseq) : Number(r.modseq);
  return Math.max(shared, Number(r.pmodseq ?? 0));
}

/** A row as `viewerId` sees it (flags and MODSEQ). */
export function toMessage(r: MessageRecord, viewerId: number): MessageRow {
  return {
    mailboxId: r.mailbox_id,
    uid: r.uid as Uid,
    modSeq: viewModSeq(r, viewerId),
    flags: viewFlags(splitFlags(r.flags), splitFlags(r.pflags), viewerId),
    internalDate: new Date(r.internal_date),
    saveDate: new Date(r.save_date),
    size: r.size,
    contentId: r.content_id,
    emailId: r.email_id,
    threadId: r.thread_id,
    uidl: r.uidl,
  };
}
