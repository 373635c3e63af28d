// SORT / UID SORT   RFC 5256 3, RFC 5957 (SORT=DISPLAY), RFC 5267 3 (ESORT)
import { parseSort, partialSlice, untagged, formatString, type SearchKey, type SortCriterion } from '../protocol/index.js';
import type { MessageRow, Uid } from '../../store/types.js';
import { sortMessages, type SortFacts } from '../sort/sort-order.js';
import type { MailboxView } from '../selected.js';
import type { ImapSession } from '../session.js';
import { registerContext } from './search-updates.js';
import { withProgress, type Progress } from '../progress.js';
import { searchMatches } from './search.js';
import type { ImapCommand } from './types.js';

/** The messages matching `query` in `criteria` order (RFC 5256 3); SORT and CONTEXT=SORT updates share it. */
export async function sortedMatches(s: ImapSession, view: MailboxView, query: SearchKey, criteria: SortCriterion[], progress?: Progress): Promise<{ seq: number; uid: number }[]> {
  const store = s.services.store;
  const matched = await searchMatches(s, view, query, progress);
  // Sorting reads rows and MIME indexes only, each in one batch: never a message body.
  const missing = matched.filter((c) => c.row === null).map((c) => c.uid as Uid);
  const fetched = missing.length ? new Map((await store.getMessages(view.mailboxId, missing, s.viewerId())).map((r) => [r.uid as number, r])) : new Map<number, MessageRow>();
  const rows: { seq: number; uid: number; row: MessageRow }[] = [];
  for (const c of matched) {
    const row = c.row ?? fetched.get(c.uid);
    if (row) rows.push({ seq: c.seq, uid: c.uid, row }); // else expunged elsewhere meanwhile
  }
  const indexes = await store.getIndexes([...new Set(rows.map((r) => r.row.contentId))]);
  const facts: (SortFacts & { uid: number })[] = rows.map(({ seq, uid: u, row }) => {
    const index = indexes.get(row.contentId)?.index;
    return {
      seq,
      uid: u,
      internalDate: row.internalDate.getTime(),
      sentDate: index?.sentDate ?? null,
      size: row.size,
      envelope: index?.envelope ?? { subject: null, from: null, to: null, cc: null },
    };
  });
  return sortMessages(facts, criteria);
}

export const sort = {
  name: 'SORT',
  states: ['selected'],
  usesSeqs: true,
  async run({ session: s, args, uid, tag }) {
    const cmd = parseSort(args);
    const view = s.view();
    const sorted = await withProgress((l) => s.send(l), tag, s.services.config.imap.inprogress_ms, (p) => sortedMatches(s, view, cmd.query, cmd.criteria, p));
    const numbers = sorted.map((m) => (uid ? m.uid : m.seq));
    const opts = cmd.returnOptions;
    // RFC 5267 4: remembered before the ESEARCH is sent, so the next announcement reports changes since it
    if (opts?.includes('UPDATE')) registerContext(s, view, { tag, uid, query: cmd.query, sort: cmd.criteria, uids: sorted.map((m) => m.uid) });
    if (!opts) {
      s.send(`* SORT${numbers.map((n) => ` ${n}`).join('')}\r\n`);
      return;
    }
    // RFC 5267 3: MIN/MAX are the first and last in sort order, ALL keeps the sort order
    let out = `ESEARCH (TAG ${formatString(tag)})${uid ? ' UID' : ''}`;
    if (opts.includes('MIN') && numbers.length) out += ` MIN ${numbers[0]}`;
    if (opts.includes('MAX') && numbers.length) out += ` MAX ${numbers[numbers.length - 1]}`;
    if (opts.includes('COUNT')) out += ` COUNT ${numbers.length}`;
    if (opts.includes('ALL') && numbers.length) out += ` ALL ${orderedSet(numbers)}`;
    if (cmd.partial) {
      // RFC 9394 3.1: positions count in sort order, and the window keeps that order
      const window = partialSlice(numbers, cmd.partial);
      out += ` PARTIAL (${cmd.partial.text} ${window.length ? orderedSet(window) : 'NIL'})`;
    }
    s.send(untagged(out));
  },
} as const satisfies ImapCommand;

/** A sequence set that keeps the given order: only ascending runs collapse to `a:b`. */
export function orderedSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(j > i ? `${numbers[i]}:${numbers[j]}` : `${numbers[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}
