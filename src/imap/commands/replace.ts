// REPLACE / UID REPLACE number mailbox [flags] [date-time] literal   RFC8508 3
//
// The new message is appended to `mailbox` and the old one (in the selected mailbox) goes
// where an EXPUNGE by this session would send it: for the plain delete mode expunged (so
// Recently Deleted keeps it when retention is on) in the same store transaction as the
// append (Store.replaceMessage: both or neither); for a device whose delete mode is `device`
// or `trash` (src/mail/device-delete.ts) hidden from it or moved to Trash right after the
// append, as its EXPUNGE does.
import { permittedFlags, resolveMailbox } from '../mailbox-access.js';
import { ingest, type Ingested } from '../../ingest.js';
import { deviceDeleteMode } from '../../auth/device-limits.js';
import { actorOf, deletedBy } from '../../mail/recently-deleted.js';
import { isStoreError } from '../../store/errors.js';
import type { AppendResult, Uid } from '../../store/types.js';
import { codes, isUndecodableName, normalizeMailboxName } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import type { ImapSession } from '../session.js';
import { parseItem, sourceOf, type AppendItem } from './append.js';
import { remove } from './close.js';
import { refuseRecentlyDeleted, requireRights, requireWritable, warnQuota } from './util.js';
import type { ImapCommand } from './types.js';

export const replace = {
  name: 'REPLACE',
  states: ['selected'],
  usesSeqs: true,
  async run({ session: s, args, uid }) {
    const n = args.nzNumber(uid ? 'UID' : 'sequence number');
    args.sp('after message number');
    const target = normalizeMailboxName(args.mailbox());
    args.sp('after mailbox name');
    const item = parseItem(args);
    args.end();
    requireWritable(s);
    const view = s.view();
    const [old] = view.resolve({ kind: 'ranges', ranges: [{ start: n, end: n }] }, uid); // by number: BAD above EXISTS
    if (!old) throw new ImapNo(`No message with UID ${n}`, 'NONEXISTENT');
    if (view.isExpungedPending(old.uid)) throw new ImapNo('The message to replace was expunged', 'EXPUNGEISSUED');
    const store = s.services.store;
    if (isUndecodableName(target)) throw new ImapNo('Mailbox name is not valid modified UTF-7', 'NONEXISTENT');
    const dest = await resolveMailbox(s, target);
    if (!dest) throw new ImapNo('Mailbox does not exist', 'TRYCREATE'); // RFC 8508 3.3, as APPEND
    refuseRecentlyDeleted(dest, 'REPLACE');
    requireRights(dest, 'i'); // RFC 4314 4: as APPEND into the target, and as EXPUNGE of the old message
    requireRights(view, 'te');
    item.flags = permittedFlags(dest.rights, item.flags);
    let ingested: Ingested = await ingest(store, await sourceOf(item.lit), { ...s.services.delivery.ingest, maxSize: s.services.config.imap.max_literal_size });
    if (s.isClosed) throw new ImapNo('Client gone before the message was stored', 'UNAVAILABLE');
    const mode = deviceDeleteMode(s.login?.device?.settings);
    const once = async (): Promise<{ result: AppendResult; gone: Uid[] }> => {
      if (mode === 'everywhere') return { result: await replaceAtomically(s, dest.id, old.uid, ingested, item, dest.viewerId), gone: [old.uid] };
      // delete=device|trash: the append, then this device's own delete, as its EXPUNGE does it
      const req = { mailboxId: dest.id, content: ingested.content, flags: item.flags, internalDate: item.date, threadKeys: ingested.index.threadKeys, viewerId: dest.viewerId };
      const result = await store.appendMessage(req);
      return { result, gone: await remove(s, [old.uid]) };
    };
    let done;
    try {
      done = await once();
    } catch (err) {
      if (!isStoreError(err, 'notfound') || !('existing' in ingested.content)) throw err;
      ingested = await ingested.fresh(); // the shared content was expunged meanwhile: write it again
      done = await once();
    }
    const { result, gone } = done;
    await warnQuota(s);
    // RFC 8508 3.3: APPENDUID in an untagged OK before the EXPUNGE (VANISHED with QRESYNC)
    s.send(`* OK [${codes.appendUid(result.uidValidity, [result.row.uid])}] Replacement Message ready\r\n`);
    const lines = deviceDeleteMode(s.login?.device?.settings) === 'device' ? view.hideUids(gone, s.vanishedExpunges) : view.removeUids(gone, s.vanishedExpunges);
    if (lines.length > 0) s.send(lines.join(''));
    return { reportModSeq: true };
  },
} as const satisfies ImapCommand;

/** The plain delete mode: expunge and append in one store transaction. */
async function replaceAtomically(s: ImapSession, mailboxId: number, oldUid: Uid, ingested: Ingested, item: AppendItem, viewerId: number): Promise<AppendResult> {
  const by = deletedBy('imap', actorOf(s.user().address, s.login));
  const req = { mailboxId, content: ingested.content, flags: item.flags, internalDate: item.date, threadKeys: ingested.index.threadKeys, viewerId };
  try {
    return await s.services.store.replaceMessage(req, { mailboxId: s.view().mailboxId, uid: oldUid, by });
  } catch (err) {
    if (isStoreError(err, 'conflict')) throw new ImapNo('The message to replace was expunged meanwhile', 'EXPUNGEISSUED');
    throw err;
  }
}
