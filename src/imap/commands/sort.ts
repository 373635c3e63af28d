// SORT / UID SORT   RFC 5256 3, RFC 5957 (SORT=DISPLAY), RFC 5267 3 (ESORT)
import { parseSort, partialSlice, untagged, formatString, type SearchKey, type SortCriterion, type SortKey } from '../protocol/index.js';
import type { MessageRow, Uid } from '../../store/types.js';
import { sortMessages, type SortFacts } from '../sort/sort-order.js';
import type { MailboxView } from '../selected.js';
import type { ImapSession } from '../session.js';
import { registerContext } from './search-updates.js';
import { withProgress, type Progress } from '../progress.js';
import { searchMatches } from './search.js';
import { noteContentIds } from '../content-ids.js';
import { sortKeysOf } from '../sort-keys.js';
import type { ImapCommand } from './types.js';

/** The messages matching `query` in `criteria` order (RFC 5256 3); SORT and CONTEXT=SORT updates share it. */
export async function sortedMatches(s: ImapSession, view: MailboxView, query: SearchKey, criteria: SortCriterion[], progress?: Progress): Promise<{ seq: number; uid: number }[]> {
  const matched = await searchMatches(s, view, query, progress);
  const facts = criteria.some((c) => ENVELOPE_KEYS.has(c.key)) ? await factsFromIndexes(s, view, matched) : await factsWithoutEnvelope(s, view, matched);
  return sortMessages(facts, criteria);
}

const ENVELOPE_KEYS: ReadonlySet<SortKey> = new Set(['SUBJECT', 'FROM', 'TO', 'CC', 'DISPLAYFROM', 'DISPLAYTO']);
const NO_ENVELOPE: SortFacts['envelope'] = { subject: null, from: null, to: null, cc: null };

type Matched = Awaited<ReturnType<typeof searchMatches>>;

/** The rows of the matches that came without one, in one batch; expunged meanwhile ones are absent. */
async function rowsOf(s: ImapSession, view: MailboxView, matched: Matched): Promise<Map<number, MessageRow>> {
  const out = new Map<number, MessageRow>();
  const missing: Uid[] = [];
  for (const c of matched) {
    if (c.row) out.set(c.uid, c.row);
    else missing.push(c.uid as Uid);
  }
  if (missing.length) {
    const read = await s.services.store.getMessages(view.mailboxId, missing, s.viewerId());
    noteContentIds(s.services.store, view.uidValidity, read);
    for (const r of read) out.set(r.uid, r);
  }
  return out;
}

/** Every fact, from the rows and the MIME indexes, each read in one batch: never a message body. */
async function factsFromIndexes(s: ImapSession, view: MailboxView, matched: Matched): Promise<(SortFacts & { uid: number })[]> {
  const rows = await rowsOf(s, view, matched);
  const indexes = await s.services.store.getIndexes([...new Set([...rows.values()].map((r) => r.contentId))]);
  const facts: (SortFacts & { uid: number })[] = [];
  for (const c of matched) {
    const row = rows.get(c.uid);
    if (!row) continue; // expunged elsewhere meanwhile
    const index = indexes.get(row.contentId)?.index;
    facts.push({ seq: c.seq, uid: c.uid, internalDate: row.internalDate.getTime(), sentDate: index?.sentDate ?? null, size: row.size, envelope: index?.envelope ?? NO_ENVELOPE });
  }
  return facts;
}

/**
 * DATE, ARRIVAL and SIZE: from the keys the store keeps with each row (sort-keys.ts),
 * one query for a mailbox not sorted before, none for a repeated SORT.
 */
async function factsWithoutEnvelope(s: ImapSession, view: MailboxView, matched: Matched): Promise<(SortFacts & { uid: number })[]> {
  const keys = await sortKeysOf(s.services.store, view, matched.map((c) => c.uid), false);
  const facts: (SortFacts & { uid: number })[] = [];
  for (const c of matched) {
    const k = keys.get(c.uid);
    if (!k) continue; // expunged elsewhere meanwhile
    facts.push({ seq: c.seq, uid: c.uid, internalDate: k.internalDate, sentDate: k.sentDate, size: k.size, envelope: NO_ENVELOPE });
  }
  return facts;
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
