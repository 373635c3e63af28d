// STORE sequence-set [SP "(" UNCHANGEDSINCE n ")"] SP ("+" / "-")FLAGS[.SILENT] SP (flag-list / flag *(SP flag))
//   RFC9051 6.4.6, RFC7162 3.1.3 (UNCHANGEDSINCE, MODIFIED)
import type { MessageRow } from '../../store/types.js';
import { codes, parseStore } from '../protocol/index.js';
import { fetchHead, flagsWithRecent, type ViewMessage } from '../selected.js';
import type { ImapSession } from '../session.js';
import { requireWritable } from './util.js';
import { missingRights, rightForFlag } from '../mailbox-access.js';
import { ImapNo } from '../errors.js';
import type { ImapCommand } from './types.js';

export const store = {
  name: 'STORE',
  states: ['selected'],
  usesSeqs: true,
  async run({ session: s, args, uid }) {
    const cmd = parseStore(args);
    if (cmd.unchangedSince !== undefined) s.condstore = true; // RFC 7162 3.1: a CONDSTORE enabling command
    const view = s.view();
    const msgs = view.resolve(cmd.set, uid);
    requireWritable(s);
    // RFC 4314 4: \Seen needs s, \Deleted t, other flags w; a flag without its right is refused.
    // FLAGS (replace) may clear any flag, so it needs all three.
    const lacking = missingRights(view.rights, cmd.op === 'set' ? 'swt' : cmd.flags.map(rightForFlag).join(''));
    if (lacking) throw new ImapNo(`Permission denied: the "${lacking}" right is needed`, 'NOPERM');
    const live = msgs.filter((x) => !view.isExpungedPending(x.uid));
    const failed = new Set<number>();
    const rows = new Map<number, MessageRow>();
    if (live.length > 0) {
      const result = await s.services.store.updateFlags({
        mailboxId: view.mailboxId, uids: live.map((x) => x.uid), op: cmd.op, flags: cmd.flags, unchangedSince: cmd.unchangedSince, viewerId: s.viewerId(),
      });
      view.noteFlags(result.changed);
      for (const u of result.failed) failed.add(u);
      for (const r of result.changed) rows.set(r.uid, r);
    }
    const done = live.filter((x) => !failed.has(x.uid));
    const announce = view.flagsAnnouncement(); // a new keyword: FLAGS before the FETCH that shows it
    if (announce.length > 0) s.send(announce.join(''));
    // RFC 7162 3.1.3: with UNCHANGEDSINCE a FETCH with MODSEQ goes out even for .SILENT
    if (!cmd.silent || cmd.unchangedSince !== undefined) s.send((await fetchLines(s, done, rows, cmd.silent, uid)).join(''));
    if (failed.size === 0) return;
    const numbers = live.filter((x) => failed.has(x.uid)).map((x) => (uid ? x.uid : x.seq));
    return { code: codes.modified(numbers), text: 'Conditional STORE failed' }; // RFC 7162 3.1.3: a tagged OK
  },
} as const satisfies ImapCommand;

/**
 * `* n FETCH (FLAGS (...) UID u MODSEQ (m))` per stored message. Once CONDSTORE is on, UID and
 * MODSEQ are always there (RFC 7162 3.1); rows the STORE did not change are read for their MODSEQ.
 */
async function fetchLines(s: ImapSession, msgs: ViewMessage[], changed: Map<number, MessageRow>, silent: boolean, uid: boolean): Promise<string[]> {
  const view = s.view();
  const unchanged = msgs.filter((x) => !changed.has(x.uid)).map((x) => x.uid);
  const rows = new Map(changed);
  if (s.condstore && unchanged.length > 0) {
    const fresh = await s.services.store.getMessages(view.mailboxId, unchanged, s.viewerId());
    view.noteFlags(fresh); // shown with their MODSEQ, so the flags must be as fresh
    for (const r of fresh) rows.set(r.uid, r);
  }
  const out: string[] = [];
  for (const x of msgs) {
    const row = rows.get(x.uid);
    const parts = silent ? [] : [`FLAGS ${flagsWithRecent(view.flagsOf(x.uid), view.isRecent(x.uid), s.rev2)}`];
    if ((uid || s.condstore) && !s.uidOnly) parts.push(`UID ${x.uid}`); // UIDONLY: the UIDFETCH number is the UID (RFC 9586 3.1)
    if (s.condstore && row) parts.push(`MODSEQ (${row.modSeq})`);
    if (parts.length === 0) continue; // a UIDFETCH with nothing to say (silent, row gone) would be malformed
    out.push(`${fetchHead(x, s.uidOnly)}${parts.join(' ')})\r\n`);
  }
  return out;
}
