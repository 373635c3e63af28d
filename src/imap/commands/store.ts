// STORE sequence-set SP ("+" / "-")FLAGS[.SILENT] SP (flag-list / flag *(SP flag))   RFC9051 6.4.6
import type { FlagOp } from '../../store/types.js';
import { flagsWithRecent } from '../selected.js';
import { requireWritable } from './util.js';
import type { ImapCommand } from './types.js';

const ITEM = /^([+-]?)FLAGS(\.SILENT)?$/i;

export const store = {
  name: 'STORE',
  states: ['selected'],
  usesSeqs: true,
  async run({ session: s, args, uid }) {
    const set = args.seqSet();
    args.sp('after sequence set');
    if (args.peekByte() === 0x28) throw args.error('STORE modifiers (UNCHANGEDSINCE) are not supported');
    const item = args.atom('FLAGS, +FLAGS or -FLAGS');
    const m = ITEM.exec(item);
    if (!m) throw args.error(`Expected FLAGS, +FLAGS or -FLAGS, got ${item.slice(0, 30)}`);
    args.sp(`after ${item}`);
    const flags = args.storeFlags().filter((f) => f !== '\\Recent'); // RFC 9051 2.3.2: \Recent cannot be stored
    args.end();
    const view = s.view();
    const msgs = view.resolve(set, uid);
    requireWritable(s);
    const op: FlagOp = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set';
    const live = msgs.filter((x) => !view.isExpungedPending(x.uid));
    if (live.length > 0) {
      const result = await s.services.store.updateFlags({ mailboxId: view.mailboxId, uids: live.map((x) => x.uid), op, flags, viewerId: s.user().id });
      view.noteFlags(result.changed);
    }
    const announce = view.flagsAnnouncement(); // a new keyword: FLAGS before the FETCH that shows it
    if (announce.length > 0) s.send(announce.join(''));
    if (m[2]) return; // .SILENT: no FETCH for our own change (RFC 9051 6.4.6)
    const out = live.map((x) => `* ${x.seq} FETCH (FLAGS ${flagsWithRecent(view.flagsOf(x.uid), view.isRecent(x.uid), s.rev2)}${uid ? ` UID ${x.uid}` : ''})\r\n`);
    s.send(out.join(''));
  },
} as const satisfies ImapCommand;
