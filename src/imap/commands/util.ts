/** Small helpers several commands share: mailbox lookup and name checks with the right NO codes. */
import type { Mailbox } from '../../store/types.js';
import { isUndecodableName, normalizeMailboxName, validateMailboxName } from '../protocol/index.js';
import { missingRights, resolveMailbox, type AccessibleMailbox } from '../mailbox-access.js';
import { ImapNo } from '../errors.js';
import type { ImapSession } from '../session.js';
import { warnIfQuotaCrossed } from '../../mail/quota-warning.js';

/**
 * The mailbox by name (the user's own, or another user's shared with him), or NO [NONEXISTENT]
 * (RFC 5530); NO [NOPERM] when this login lacks a right of `need` on it (RFC 4314 4).
 */
export async function requireMailbox(s: ImapSession, name: string, code = 'NONEXISTENT', need = ''): Promise<AccessibleMailbox> {
  const box = await resolveMailbox(s, name);
  if (!box) throw new ImapNo(`Mailbox does not exist: ${shown(name)}`, code);
  requireRights(box, need);
  return box;
}

/** NO [NOPERM] unless the login holds every right of `need` on the mailbox (RFC 4314 4, RFC 5530). */
export function requireRights(box: { rights: string }, need: string): void {
  const missing = missingRights(box.rights, need);
  if (missing) throw new ImapNo(`Permission denied: the "${missing}" right is needed`, 'NOPERM');
}

/**
 * RFC 8474 4.1 MAILBOXID: unique among the user's mailboxes, kept by RENAME, never reused.
 * Mailbox ids are never reused (store migration 5) and UIDVALIDITY differs for every
 * (re)created mailbox, so the pair also stays unique for ids handed out before that.
 */
export function mailboxObjectId(box: { id: number; uidValidity: number }): string {
  return `F${box.id}-${box.uidValidity}`; // objectid = 1*255(ALPHA / DIGIT / "_" / "-")
}

/** A name for CREATE/RENAME: canonical INBOX, one trailing "/" dropped (RFC 9051 6.3.4), refused with a reason. */
export function checkNewName(raw: string): string {
  if (isUndecodableName(raw)) throw new ImapNo('Mailbox name is not valid modified UTF-7', 'CANNOT'); // RFC 3501 5.1.3
  const name = normalizeMailboxName(raw.endsWith('/') ? raw.slice(0, -1) : raw);
  const why = validateMailboxName(name);
  if (why) throw new ImapNo(why, 'CANNOT');
  return name;
}

/** A name safe to echo in a status text: as the client wrote it when undecodable, no control characters. */
export function shown(name: string): string {
  // eslint-disable-next-line no-control-regex
  const text = (isUndecodableName(name) ? name.slice(1) : name).replace(/[\u0000-\u001f\u007f]/g, '?');
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

/** NO for writes to a mailbox selected with EXAMINE, or to Recently Deleted. */
export function requireWritable(s: ImapSession): void {
  const view = s.view();
  if (view.recentlyDeleted) throw new ImapNo('Recently Deleted is read-only; COPY or MOVE a message out of it to restore it', 'READ-ONLY');
  if (view.readOnly) throw new ImapNo('Mailbox is read-only (EXAMINE)', 'READ-ONLY');
}

/** NO [CANNOT] for anything that would put messages into, rename, delete or nest under Recently Deleted. */
export function refuseRecentlyDeleted(box: Mailbox | null | undefined, what: string): void {
  if (box?.recentlyDeleted) throw new ImapNo(`${what}: Recently Deleted is read-only; messages arrive there only when expunged`, 'CANNOT');
}

/**
 * After APPEND/COPY added to the user's usage: files the 80/95 % warning when a threshold was
 * just crossed (src/mail/quota-warning.ts). The command succeeded whatever happens here.
 */
export async function warnQuota(s: ImapSession): Promise<void> {
  try {
    await warnIfQuotaCrossed(s.services.store, s.services.delivery.ingest, s.user());
  } catch (err) {
    s.info.log.warn({ err }, 'quota warning could not be filed');
  }
}
