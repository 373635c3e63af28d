// SEARCH [RETURN (opts)] [CHARSET x] keys   RFC9051 6.4.4, RFC3501 6.4.4, RFC4731 (ESEARCH), RFC5182 (SEARCHRES),
// RFC7162 3.1.5 (MODSEQ)
import { esearch, parseSearch, type SearchKey, type SearchReturnOption } from '../protocol/index.js';
import type { MessageRow, Uid } from '../../store/types.js';
import type { MailboxView } from '../selected.js';
import { boundingUids, ContentCache, matches, needsRows, textHits, type Candidate, type SearchEnv } from './search-eval.js';
import type { ImapCommand } from './types.js';
import type { ImapSession } from '../session.js';

export const search = {
  name: 'SEARCH',
  states: ['selected'],
  usesSeqs: true,
  async run({ session: s, args, uid, tag }) {
    const cmd = parseSearch(args, { esearch: true });
    const withModSeq = hasModSeqKey(cmd.query);
    if (withModSeq) s.condstore = true; // RFC 7162 3.1: a CONDSTORE enabling command
    const view = s.view();
    const hits = (await searchMatches(s, view, cmd.query)).map((c) => ({ seq: c.seq, uid: c.uid, modSeq: c.row?.modSeq ?? 0 }));
    const numbers = hits.map((h) => (uid ? h.uid : h.seq));
    const opts = cmd.returnOptions ?? (s.rev2 ? ['ALL'] : undefined); // RFC 9051 6.4.4: rev2 answers ESEARCH
    // RFC 7162 3.1.5: with a MODSEQ key, the highest MODSEQ of the messages returned (none when empty)
    const highest = (list: typeof hits) => (withModSeq && list.length > 0 ? list.reduce((m, h) => Math.max(m, h.modSeq), 0) : undefined);
    if (!opts) {
      const mod = highest(hits);
      s.send(`* SEARCH${numbers.map((n) => ` ${n}`).join('')}${mod === undefined ? '' : ` (MODSEQ ${mod})`}\r\n`);
      return;
    }
    if (opts.includes('SAVE')) view.saved = saveResult(opts, hits.map((h) => h.uid)) as typeof view.saved; // RFC 5182 2.1
    const shown: SearchReturnOption[] = opts.filter((o) => o !== 'SAVE');
    if (shown.length === 0 && cmd.returnOptions) return; // SAVE alone: no ESEARCH response
    const has = (o: SearchReturnOption) => shown.includes(o);
    s.send(
      esearch({
        tag,
        uid,
        min: has('MIN') && numbers.length ? Math.min(...numbers) : undefined,
        max: has('MAX') && numbers.length ? Math.max(...numbers) : undefined,
        count: has('COUNT') ? numbers.length : undefined,
        all: has('ALL') ? numbers : undefined,
        // MIN/MAX alone return one or two messages: the MODSEQ is theirs (RFC 7162 3.1.5)
        modseq: highest(has('ALL') || has('COUNT') ? hits : [hits[0], hits[hits.length - 1]].filter((h, i) => h && (i === 0 ? has('MIN') : has('MAX')))),
      }),
    );
  },
} as const satisfies ImapCommand;

/**
 * The messages matching a query, in sequence order, with their rows when the query needed
 * them; SORT reuses this so both commands mean the same by a search key.
 */
export async function searchMatches(s: ImapSession, view: MailboxView, query: SearchKey): Promise<Candidate[]> {
  const store = s.services.store;
  const env: SearchEnv = {
    view,
    contents: new ContentCache(store),
    max: view.exists,
    savedSeqs: savedSeqs(view),
    hits: await textHits(store, view.mailboxId, query),
  };
  const rows = (only: readonly Uid[] | null) => (only ? store.getMessages(view.mailboxId, [...only], s.viewerId()) : store.listMessages(view.mailboxId, s.viewerId()));
  const out: Candidate[] = [];
  for (const c of await candidates(view, env, query, rows)) {
    // a MODSEQ key needs rows (needsRows), so with one every candidate has its row
    if (await matches(query, c, env)) out.push(c);
  }
  return out;
}

/** True when a MODSEQ key appears anywhere in the query. */
function hasModSeqKey(k: SearchKey): boolean {
  switch (k.type) {
    case 'modseq':
      return true;
    case 'and':
      return k.keys.some(hasModSeqKey);
    case 'or':
      return hasModSeqKey(k.left) || hasModSeqKey(k.right);
    case 'not':
      return hasModSeqKey(k.key);
    default:
      return false;
  }
}

/** RFC 5182 2.1: with SAVE plus only MIN and/or MAX, just those are saved. */
function saveResult(opts: readonly SearchReturnOption[], uids: number[]): number[] {
  if (opts.includes('ALL') || opts.includes('COUNT') || !(opts.includes('MIN') || opts.includes('MAX'))) return uids;
  const out: number[] = [];
  if (uids.length && opts.includes('MIN')) out.push(uids[0]);
  if (uids.length && opts.includes('MAX') && !out.includes(uids[uids.length - 1])) out.push(uids[uids.length - 1]);
  return out;
}

/**
 * The rows to evaluate, in sequence order: only those the store's text answers allow when
 * they bound the query, without loading rows when no key needs them (a big mailbox's
 * `TEXT word` then costs the index lookup, not a read of every row).
 */
async function candidates(view: MailboxView, env: SearchEnv, query: SearchKey, rows: (only: readonly Uid[] | null) => Promise<MessageRow[]>): Promise<Candidate[]> {
  const bound = boundingUids(query, env.hits);
  const uids = bound ? ([...bound].filter((u) => view.seqOf(u) > 0).sort((a, b) => a - b) as Uid[]) : view.allUids();
  // The store's answers hold only rows it has now, so a bounded query needs no rows to leave out
  // those expunged elsewhere and not yet announced; any other query reads them (only the
  // bounded UIDs' rows when bounded: SUBJECT x on a big mailbox reads a few rows, not all).
  if (bound && !needsRows(query)) return uids.map((u) => ({ seq: view.seqOf(u), uid: u, row: null }));
  const byUid = new Map((await rows(bound ? uids : null)).map((r) => [r.uid as number, r]));
  const out: Candidate[] = [];
  for (const u of uids) {
    const row = byUid.get(u);
    if (row) out.push({ seq: view.seqOf(u), uid: u, row }); // else expunged elsewhere, not yet announced
  }
  return out;
}

function savedSeqs(view: MailboxView): number[] {
  return view.saved.map((u) => view.seqOf(u)).filter((n) => n > 0);
}
