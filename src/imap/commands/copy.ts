// COPY / MOVE sequence-set SP mailbox   RFC9051 6.4.7-6.4.8, RFC6851 (MOVE), RFC4315 3 (COPYUID)
import { codes, isUndecodableName, normalizeMailboxName } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import type { CommandContext, Completion, ImapCommand } from './types.js';
import { refuseRecentlyDeleted, requireRights, requireWritable, warnQuota } from './util.js';
import { resolveMailbox, type AccessibleMailbox } from '../mailbox-access.js';
import type { Uid } from '../../store/types.js';
import { withProgress } from '../progress.js';
import type { ImapSession } from '../session.js';

/** One store transaction (all or nothing), so INPROGRESS can only say it is alive: counts NIL. */
function busy<T>(s: ImapSession, tag: string, work: () => Promise<T>): Promise<T> {
  return withProgress((l) => s.send(l), tag, s.services.config.imap.inprogress_ms, () => work());
}

/**
 * Between mailboxes of different owners (a shared one and the user's own), `\Seen` is not the
 * same column: the store copies the rows' shared flags, i.e. the source owner's read state. So
 * the copies get this user's read state as he saw it in the source, and an owner who did not
 * make the copy finds them unread (RFC 4314: \Seen is per user).
 */
async function carrySeen(s: ImapSession, dest: AccessibleMailbox, mapping: { from: Uid; to: Uid }[]): Promise<void> {
  const view = s.view();
  if (view.viewerId === dest.viewerId || mapping.length === 0) return;
  const store = s.services.store;
  const seen = (u: Uid) => view.flagsOf(u).some((f) => f.toLowerCase() === '\\seen');
  const set = async (uids: Uid[], op: 'add' | 'remove', viewerId: number) => {
    if (uids.length > 0) await store.updateFlags({ mailboxId: dest.id, uids, op, flags: ['\\Seen'], viewerId });
  };
  if (!dest.own) await set(mapping.map((p) => p.to), 'remove', dest.userId);
  await set(mapping.filter((p) => seen(p.from)).map((p) => p.to), 'add', dest.viewerId);
  await set(mapping.filter((p) => !seen(p.from)).map((p) => p.to), 'remove', dest.viewerId);
}

async function transfer({ session: s, args, uid, name, tag }: CommandContext, move: boolean): Promise<Completion> {
  const set = args.seqSet();
  args.sp('after sequence set');
  const target = normalizeMailboxName(args.mailbox());
  args.end();
  const view = s.view();
  const msgs = view.resolve(set, uid).filter((m) => !view.isExpungedPending(m.uid));
  // Out of Recently Deleted, COPY and MOVE both restore: the message leaves it (store moveMessages)
  const restore = view.recentlyDeleted;
  if (move && !restore) requireWritable(s);
  const store = s.services.store;
  // RFC 9051 6.4.7: TRYCREATE unless the mailbox certainly cannot be created (an undecodable name)
  if (isUndecodableName(target)) throw new ImapNo('Target mailbox name is not valid modified UTF-7', 'NONEXISTENT');
  const dest = await resolveMailbox(s, target);
  if (!dest) throw new ImapNo('Target mailbox does not exist', 'TRYCREATE'); // RFC 9051 6.4.7 MUST
  refuseRecentlyDeleted(dest, name);
  requireRights(dest, 'i'); // RFC 4314 4: COPY and MOVE need i on the target
  if (move && !restore) requireRights(view, 'te'); // RFC 6851 (RFC 4314 4): and t e on the source
  if (msgs.length === 0) return { text: `${uid ? 'UID ' : ''}${name} completed, nothing to do` };
  const uids = msgs.map((m) => m.uid);
  if (!move && !restore) {
    const r = await busy(s, tag, () => store.copyMessages(view.mailboxId, uids, dest.id));
    await carrySeen(s, dest, r.mapping);
    await warnQuota(s);
    return { code: codes.copyUid(r.uidValidity, r.mapping.map((p) => p.from), r.mapping.map((p) => p.to)) };
  }
  // RFC 6851 3.3: MOVE is COPY plus expunge, also into the selected mailbox itself: the messages
  // get new UIDs (announced as EXISTS after the EXPUNGEs), nothing allows refusing it
  const r = await busy(s, tag, () => store.moveMessages(view.mailboxId, uids, dest.id));
  await carrySeen(s, dest, r.mapping);
  const copyUid = codes.copyUid(r.uidValidity, r.mapping.map((p) => p.from), r.mapping.map((p) => p.to));
  if (!move) {
    // A restoring COPY: the messages left Recently Deleted; COPY may announce that (RFC 9051 7.5.1)
    const lines = view.removeUids(r.mapping.map((p) => p.from), s.vanishedExpunges);
    if (lines.length > 0) s.send(lines.join(''));
    return { code: copyUid };
  }
  // RFC 6851 4.3: COPYUID in an untagged OK before the EXPUNGEs
  s.send(`* OK [${copyUid}] Moved\r\n`);
  const lines = view.removeUids(r.mapping.map((p) => p.from), s.vanishedExpunges); // RFC 7162 3.2.10, RFC 9586 3: VANISHED with QRESYNC or UIDONLY
  if (lines.length > 0) s.send(lines.join(''));
  return { reportModSeq: true };
}

export const copy = {
  name: 'COPY',
  states: ['selected'],
  usesSeqs: true,
  run: (ctx) => transfer(ctx, false),
} as const satisfies ImapCommand;

export const move = {
  name: 'MOVE',
  states: ['selected'],
  usesSeqs: true,
  run: (ctx) => transfer(ctx, true),
} as const satisfies ImapCommand;
