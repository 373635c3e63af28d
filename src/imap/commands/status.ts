// STATUS mailbox (status-att ...)   RFC9051 6.3.11, RFC3501 6.3.10, RFC8438 (SIZE), RFC7889 (APPENDLIMIT), RFC8474 4.3 (MAILBOXID),
// RFC7162 3.1.6 (HIGHESTMODSEQ)
import type { Mailbox } from '../../store/types.js';
import { formatMailbox, type ArgReader } from '../protocol/index.js';
import { countRecent } from '../selected.js';
import type { ImapSession } from '../session.js';
import { mailboxObjectId, requireMailbox } from './util.js';
import type { ImapCommand } from './types.js';

const ITEMS = new Set(['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'APPENDLIMIT', 'MAILBOXID', 'HIGHESTMODSEQ']);

/** Reads `(status-att *(SP status-att))`. */
export function parseStatusItems(args: ArgReader): string[] {
  return args.list(
    (r) => {
      const a = r.atom('status item').toUpperCase();
      if (!ITEMS.has(a)) throw r.error(`Unknown STATUS item ${a.slice(0, 30)}`);
      return a;
    },
    { what: 'status items' },
  );
}

/**
 * The `* STATUS name (...)` line for one mailbox. Counts come from SQL aggregates
 * (Store.mailboxCounts), never from loading the rows; only RECENT, a rev1 item kept as
 * session claims, still reads the UIDs.
 */
export async function statusLine(s: ImapSession, box: Mailbox, items: readonly string[]): Promise<string> {
  const store = s.services.store;
  // UNSEEN and DELETED need the rows' flags; MESSAGES and SIZE then come from the same snapshot.
  const counts = items.some((i) => i === 'UNSEEN' || i === 'DELETED') ? await store.mailboxCounts(box.id, s.user().id) : null;
  const uids = items.includes('RECENT') ? (await store.listMessages(box.id, s.user().id)).map((r) => r.uid) : [];
  const values = items.map((item) => {
    switch (item) {
      case 'MESSAGES':
        return `MESSAGES ${counts?.messages ?? box.messageCount}`;
      case 'UIDNEXT':
        return `UIDNEXT ${box.uidNext}`;
      case 'UIDVALIDITY':
        return `UIDVALIDITY ${box.uidValidity}`;
      case 'UNSEEN':
        return `UNSEEN ${counts!.unseen}`;
      case 'DELETED':
        return `DELETED ${counts!.deleted}`; // RFC9051 6.3.11: messages with \Deleted
      case 'SIZE':
        return `SIZE ${counts?.size ?? box.totalSize}`;
      case 'MAILBOXID':
        return `MAILBOXID (${mailboxObjectId(box)})`;
      case 'HIGHESTMODSEQ':
        s.condstore = true; // RFC 7162 3.1: a CONDSTORE enabling command
        return `HIGHESTMODSEQ ${box.highestModSeq}`;
      case 'APPENDLIMIT':
        return `APPENDLIMIT ${s.services.config.imap.max_literal_size}`;
      default:
        return `RECENT ${recent(s, box, uids)}`;
    }
  });
  return `* STATUS ${formatMailbox(box.name, s.utf8)} (${values.join(' ')})\r\n`;
}

/**
 * RECENT: the messages with \Recent set for this session (RFC 3501 6.3.10). Another session's
 * claim hides a message; in the selected mailbox, those this session claimed still count.
 */
function recent(s: ImapSession, box: Mailbox, uids: number[]): number {
  const view = s.state.kind === 'selected' && s.state.view.mailboxId === box.id ? s.state.view : null;
  if (!view) return countRecent(box, uids);
  return view.recentCount() + countRecent(box, uids.filter((u) => view.seqOf(u) === 0));
}

export const status = {
  name: 'STATUS',
  states: ['authenticated', 'selected'],
  async run({ session: s, args }) {
    const name = args.mailbox();
    args.sp('after mailbox name');
    const items = parseStatusItems(args);
    args.end();
    const box = await requireMailbox(s, name);
    s.send(await statusLine(s, box, items));
  },
} as const satisfies ImapCommand;
