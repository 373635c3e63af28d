/** Small helpers several commands share: mailbox lookup and name checks with the right NO codes. */
import type { Mailbox } from '../../store/types.js';
import { normalizeMailboxName, validateMailboxName } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import type { ImapSession } from '../session.js';

/** The mailbox by name, or NO [NONEXISTENT] (RFC 5530). */
export async function requireMailbox(s: ImapSession, name: string, code = 'NONEXISTENT'): Promise<Mailbox> {
  const box = await s.services.store.getMailbox(s.user().id, normalizeMailboxName(name));
  if (!box) throw new ImapNo(`Mailbox does not exist: ${shown(name)}`, code);
  return box;
}

/** A name for CREATE/RENAME: canonical INBOX, one trailing "/" dropped (RFC 9051 6.3.4), refused with a reason. */
export function checkNewName(raw: string): string {
  const name = normalizeMailboxName(raw.endsWith('/') ? raw.slice(0, -1) : raw);
  const why = validateMailboxName(name);
  if (why) throw new ImapNo(why, 'CANNOT');
  return name;
}

/** A name safe to echo in a status text. */
export function shown(name: string): string {
  return name.length > 60 ? `${name.slice(0, 60)}...` : name;
}

/** NO for writes to a mailbox selected with EXAMINE. */
export function requireWritable(s: ImapSession): void {
  if (s.view().readOnly) throw new ImapNo('Mailbox is read-only (EXAMINE)', 'READ-ONLY');
}
