// SEARCH [RETURN (opts)] [CHARSET x] keys   RFC9051 6.4.4, RFC3501 6.4.4, RFC4731 (ESEARCH), RFC5182 (SEARCHRES),
// RFC7162 3.1.5 (MODSEQ)
import { esearch, formatSeqSet, parseSearch, partialSlice, type EsearchResult, type PartialRange, type SearchKey, type SearchReturnOption } from '../protocol/index.js';
import type { MessageRow, Uid } from '../../store/types.js';
import type { MailboxView } from '../selected.js';
import type { Store } from '../../store/types.js';
import { contentIdsOf, noteContentIds } from '../content-ids.js';
import { boundingUids, ContentCache, ContentNotLoaded, matches, needsContent, needsFlags, needsRows, textHits, type Candidate, type SearchEnv } from './search-eval.js';
import type { ImapCommand } from './types.js';
import { registerContext } from './search-updates.js';
import { withProgress, type Progress } from '../progress.js';
import type { ImapSession } from '../session.js';
import { SearchBudget } from './search-budget.js';
import { ImapNo } from '../errors.js';
import { flagsOnlyQuery, searchFlagsAnswer } from './search-flags.js';

export const search = {
  name: 'SEARCH',
  states: ['selected'],
  usesSeqs: true,
  async run({ session: s, args, uid, tag }) {
    const cmd = parseSearch(args, { esearch: true });
    const withModSeq = hasModSeqKey(cmd.query);
    if (withModSeq) s.condstore = true; // RFC 7162 3.1: a CONDSTORE enabling command
    const view = s.view();
    const opts = cmd.returnOptions ?? (s.rev2 ? ['ALL'] : undefined); // RFC 9051 6.4.4: rev2 answers ESEARCH
    // `SEARCH UNSEEN` and the like, plainly answered: from the view's flag lists (search-flags.ts)
    if (!opts && flagsOnlyQuery(cmd.query) && needsFlags(cmd.query)) return void s.sendBytes(await searchFlagsAnswer(s, view, cmd.query, uid));
    const hits = await withProgress((l) => s.send(l), tag, s.services.config.imap.inprogress_ms, (p) => searchMatches(s, view, cmd.query, p));
    const numbers = hits.map((h) => (uid ? h.uid : h.seq));
    // RFC 7162 3.1.5: with a MODSEQ key, the highest MODSEQ of the messages returned (none when empty)
    const highest = (list: typeof hits) => (withModSeq && list.length > 0 ? list.reduce((m, h) => Math.max(m, h.modSeq), 0) : undefined);
    if (!opts) {
      const mod = highest(hits);
      s.send(`* SEARCH${numbers.length > 0 ? ` ${numbers.join(' ')}` : ''}${mod === undefined ? '' : ` (MODSEQ ${mod})`}\r\n`);
      return;
    }
    const window = cmd.partial ? partialSlice(hits, cmd.partial) : null; // RFC 9394 3.1: positions in the ascending result
    // RFC 5182 2.1; RFC 9394 3.1: with PARTIAL the messages returned are what is saved
    if (opts.includes('SAVE')) view.saved = (window ? window.map((h) => h.uid) : saveResult(opts, hits.map((h) => h.uid))) as typeof view.saved;
    if (opts.includes('UPDATE')) registerContext(s, view, { tag, uid, query: cmd.query, sort: null, uids: hits.map((h) => h.uid) }); // RFC 5267 4
    const shown: SearchReturnOption[] = opts.filter((o) => o !== 'SAVE' && o !== 'UPDATE');
    if (shown.length === 0 && cmd.returnOptions) return; // SAVE alone: no ESEARCH response
    s.send(esearch({ tag, uid, ...esearchData(hits, shown, cmd.partial, uid, withModSeq) }));
  },
} as const satisfies ImapCommand;

/**
 * What an ESEARCH response says of `hits` for the options shown (RFC 4731 3.1, RFC 9394 3.1
 * PARTIAL, RFC 7162 3.1.5 MODSEQ), numbers as UIDs or sequence numbers.
 */
export function esearchData(hits: readonly Match[], shown: readonly SearchReturnOption[], partial: PartialRange | undefined, uid: boolean, withModSeq: boolean): Omit<EsearchResult, 'tag' | 'uid'> {
  const numbers = hits.map((h) => (uid ? h.uid : h.seq));
  const has = (o: SearchReturnOption) => shown.includes(o);
  const window = partial ? partialSlice(hits, partial) : null; // RFC 9394 3.1: positions in the ascending result
  // RFC 7162 3.1.5: with a MODSEQ key, the highest MODSEQ of the messages returned (none when empty)
  const highest = (list: readonly (Match | undefined)[]) => {
    const present = list.filter((h): h is Match => h !== undefined);
    return withModSeq && present.length > 0 ? present.reduce((m, h) => Math.max(m, h.modSeq), 0) : undefined;
  };
  return {
    min: has('MIN') && numbers.length ? Math.min(...numbers) : undefined,
    max: has('MAX') && numbers.length ? Math.max(...numbers) : undefined,
    count: has('COUNT') ? numbers.length : undefined,
    all: has('ALL') ? numbers : undefined,
    partial: window && partial ? { range: partial.text, set: window.length ? formatSeqSet(window.map((h) => (uid ? h.uid : h.seq))) : 'NIL' } : undefined,
    // MIN/MAX (and a PARTIAL window) return only some messages: the MODSEQ is theirs (RFC 7162 3.1.5)
    modseq: highest(has('ALL') || has('COUNT') ? hits : [...(window ?? []), has('MIN') ? hits[0] : undefined, has('MAX') ? hits[hits.length - 1] : undefined]),
  };
}

/**
 * Below this many messages a header key (SUBJECT x) is checked on every message's cached
 * header text without asking the text index first: for a word most messages contain, the
 * index's candidate list costs more than the check (bench imap: about 2.7 ms of store
 * worker time per SEARCH at 1000 messages, against well under 1 ms for the check).
 */
const HEADER_NARROW_FROM = 5000;

/** A message that matched, with its row when the query needed rows (a MODSEQ key always does). */
export interface Match {
  seq: number;
  uid: number;
  modSeq: number;
  row: MessageRow | null;
}

/**
 * The messages matching a query, in sequence order; SORT and THREAD use this, so every
 * command means the same by a search key.
 */
export async function searchMatches(s: ImapSession, view: MailboxView, query: SearchKey, progress?: Progress, budget = new SearchBudget(s.services.config.imap.search_timeout_ms)): Promise<Match[]> {
  // RFC 9586 3: a sequence set among the keys names messages by number (`$` does not)
  if (s.uidOnly && someKey(query, (k) => k.type === 'seq' && k.set.kind === 'ranges')) {
    throw new ImapNo('Message sequence numbers in search keys are not allowed with UIDONLY', 'UIDREQUIRED', 'BAD');
  }
  const store = s.services.store;
  const env: SearchEnv = {
    view,
    contents: new ContentCache(store),
    max: view.exists,
    savedSeqs: savedSeqs(view),
    hits: await textHits(budget.textSearch(store), view.mailboxId, query, view.exists > HEADER_NARROW_FROM),
  };
  const rows = (only: readonly Uid[] | null) => (only ? store.getMessages(view.mailboxId, [...only], s.viewerId()) : store.listMessages(view.mailboxId, s.viewerId()));
  const found = await candidates(view, env, query, rows, (uids) => contentIdsOf(store, view, uids, s.viewerId()), store);
  budget.check();
  return evaluate(query, found, env, budget, progress);
}

/** Candidates whose contents are read from the store together, when not cached. */
const LOAD_BATCH = 500;

/**
 * The messages to evaluate, as parallel columns (a search of a big mailbox allocates no
 * object per message): sequence numbers, UIDs, and the row or the content id of each when
 * the query reads them.
 */
interface CandidateList {
  seqs: number[];
  uids: number[];
  rows: MessageRow[] | null;
  contentIds: string[] | null;
}

/**
 * The candidates that match, in their order. Evaluation is synchronous, on one scratch
 * Candidate; a message whose keys reach a content not cached waits for the batch of such
 * contents to be read at once.
 */
async function evaluate(query: SearchKey, list: CandidateList, env: SearchEnv, budget: SearchBudget, progress?: Progress): Promise<Match[]> {
  const out: Match[] = [];
  const c: Candidate = { seq: 0, uid: 0, row: null, contentId: undefined };
  const at = (i: number): Candidate => {
    c.seq = list.seqs[i];
    c.uid = list.uids[i];
    c.row = list.rows ? list.rows[i] : null;
    c.contentId = list.contentIds ? list.contentIds[i] : undefined;
    return c;
  };
  const total = list.seqs.length;
  for (let start = 0; start < total; start += LOAD_BATCH) {
    progress?.set(start, total);
    const end = Math.min(total, start + LOAD_BATCH);
    const verdicts = new Array<boolean | undefined>(end - start);
    for (let round = 0; ; round++) {
      const need = new Set<string>();
      for (let i = start; i < end; i++) {
        if (verdicts[i - start] !== undefined) continue;
        try {
          verdicts[i - start] = matches(query, at(i), env);
        } catch (err) {
          if (!(err instanceof ContentNotLoaded) || round > 0) throw err; // loaded once: `get` answers from this search's loads
          need.add(err.contentId);
        }
      }
      if (need.size === 0) break;
      await env.contents.load([...need]);
      budget.check();
    }
    for (let i = start; i < end; i++) {
      // a MODSEQ key needs rows (needsRows), so with one every candidate has its row
      if (verdicts[i - start]) out.push({ seq: list.seqs[i], uid: list.uids[i], modSeq: list.rows ? list.rows[i].modSeq : 0, row: list.rows ? list.rows[i] : null });
    }
    env.contents.release();
    await budget.pause();
  }
  return out;
}

/** True when a MODSEQ key appears anywhere in the query. */
function hasModSeqKey(k: SearchKey): boolean {
  return someKey(k, (x) => x.type === 'modseq');
}

/** True when `test` holds for some key of the query, looking inside AND, OR and NOT. */
export function someKey(k: SearchKey, test: (k: SearchKey) => boolean): boolean {
  if (test(k)) return true;
  switch (k.type) {
    case 'and':
      return k.keys.some((x) => someKey(x, test));
    case 'or':
      return someKey(k.left, test) || someKey(k.right, test);
    case 'not':
      return someKey(k.key, test);
    default:
      return false;
  }
}

/** RFC 5182 2.1: with SAVE plus only MIN and/or MAX, just those are saved. */
export function saveResult(opts: readonly SearchReturnOption[], uids: number[]): number[] {
  if (opts.includes('ALL') || opts.includes('COUNT') || !(opts.includes('MIN') || opts.includes('MAX'))) return uids;
  const out: number[] = [];
  if (uids.length && opts.includes('MIN')) out.push(uids[0]);
  if (uids.length && opts.includes('MAX') && !out.includes(uids[uids.length - 1])) out.push(uids[uids.length - 1]);
  return out;
}

/**
 * The messages to evaluate, in sequence order: only those the store's text answers allow
 * when they bound the query. Rows are read only for keys that need a row's own fields
 * (dates, MODSEQ, ids): flags come from the view, read fresh first, and content (headers,
 * sizes) through the message's content id, which is cached process-wide (content-ids.ts),
 * so `UID SEARCH UNSEEN` or `FROM x` reads no row and a big mailbox's `TEXT word` costs the
 * index lookup.
 */
async function candidates(
  view: MailboxView,
  env: SearchEnv,
  query: SearchKey,
  rows: (only: readonly Uid[] | null) => Promise<MessageRow[]>,
  contentIds: (uids: readonly Uid[]) => Promise<Map<number, string>>,
  store: Store,
): Promise<CandidateList> {
  const bound = boundingUids(query, env.hits);
  if (!bound && !needsRows(query) && !needsContent(query) && needsFlags(query)) {
    // Flags only (UNSEEN, FLAGGED ...), the commonest search of a big mailbox: every message
    // the view holds after reading the changes made elsewhere, numbered once, no lookup each.
    await view.poll(store);
    return wholeView(view);
  }
  const list: CandidateList = { seqs: [], uids: [], rows: null, contentIds: null };
  if (bound) {
    for (const u of [...bound].sort((a, b) => a - b)) {
      const seq = view.seqOf(u);
      if (seq === 0) continue;
      list.seqs.push(seq);
      list.uids.push(u);
    }
  } else {
    for (let seq = 1; seq <= view.exists; seq++) {
      list.seqs.push(seq);
      list.uids.push(view.uidAt(seq));
    }
  }
  if (!needsRows(query)) {
    // The store's answers hold only rows it has now, so a query answered by them alone needs
    // nothing more to leave out messages expunged elsewhere and not yet announced.
    const content = needsContent(query);
    if (!needsFlags(query) && !content) return list;
    // Flags and expunges made elsewhere, as a row read would see them. Announced numbers stay
    // (nothing is announced before the command's answer, RFC 9051 7.5.1); one the client was
    // never told of may leave the view silently, so numbers are read again.
    await view.poll(store);
    const kept: CandidateList = { seqs: [], uids: [], rows: null, contentIds: content ? [] : null };
    const ids = content ? await contentIds(list.uids.filter((u) => !view.isExpungedPending(u)) as Uid[]) : null;
    for (const u of list.uids) {
      const seq = view.seqOf(u);
      if (seq === 0 || view.isExpungedPending(u)) continue;
      const id = ids?.get(u);
      if (ids && id === undefined) continue; // its row is gone
      kept.seqs.push(seq);
      kept.uids.push(u);
      if (id !== undefined) kept.contentIds!.push(id);
    }
    return kept;
  }
  const read = await rows(bound ? (list.uids as Uid[]) : null);
  noteContentIds(store, view.uidValidity, read);
  const byUid = new Map(read.map((r) => [r.uid as number, r]));
  const kept: CandidateList = { seqs: [], uids: [], rows: [], contentIds: null };
  list.uids.forEach((u, i) => {
    const row = byUid.get(u);
    if (!row) return; // expunged elsewhere, not yet announced
    kept.seqs.push(list.seqs[i]);
    kept.uids.push(u);
    kept.rows!.push(row);
  });
  return kept;
}

/** Every message of the view, in sequence order, less those expunged elsewhere and not yet announced. */
function wholeView(view: MailboxView): CandidateList {
  const n = view.exists;
  const list: CandidateList = { seqs: new Array<number>(n), uids: new Array<number>(n), rows: null, contentIds: null };
  let k = 0;
  for (let seq = 1; seq <= n; seq++) {
    const uid = view.uidAt(seq);
    if (view.isExpungedPending(uid)) continue;
    list.seqs[k] = seq;
    list.uids[k++] = uid;
  }
  list.seqs.length = list.uids.length = k;
  return list;
}

function savedSeqs(view: MailboxView): number[] {
  return view.saved.map((u) => view.seqOf(u)).filter((n) => n > 0);
}
