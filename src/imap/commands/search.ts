// SEARCH [RETURN (opts)] [CHARSET x] keys   RFC9051 6.4.4, RFC3501 6.4.4, RFC4731 (ESEARCH), RFC5182 (SEARCHRES),
// RFC7162 3.1.5 (MODSEQ)
import { esearch, parseSearch, type SearchKey, type SearchReturnOption } from '../protocol/index.js';
import type { MessageRow, Uid } from '../../store/types.js';
import type { MailboxView } from '../selected.js';
import type { Store } from '../../store/types.js';
import { contentIdsOf, noteContentIds } from '../content-ids.js';
import { boundingUids, ContentCache, ContentNotLoaded, matches, needsContent, needsFlags, needsRows, textHits, type Candidate, type SearchEnv } from './search-eval.js';
import type { ImapCommand } from './types.js';

export const search = {
  name: 'SEARCH',
  states: ['selected'],
  usesSeqs: true,
  async run({ session: s, args, uid, tag }) {
    const cmd = parseSearch(args, { esearch: true });
    const withModSeq = hasModSeqKey(cmd.query);
    if (withModSeq) s.condstore = true; // RFC 7162 3.1: a CONDSTORE enabling command
    const view = s.view();
    const store = s.services.store;
    const env: SearchEnv = {
      view,
      contents: new ContentCache(store),
      max: view.exists,
      savedSeqs: savedSeqs(view),
      hits: await textHits(store, view.mailboxId, cmd.query, view.exists > HEADER_NARROW_FROM),
    };
    const rows = (only: readonly Uid[] | null) => (only ? store.getMessages(view.mailboxId, [...only], s.user().id) : store.listMessages(view.mailboxId, s.user().id));
    const found = await candidates(view, env, cmd.query, rows, (uids) => contentIdsOf(store, view, uids, s.user().id), store);
    // a MODSEQ key needs rows (needsRows), so with one every candidate has its row
    const hits = (await evaluate(cmd.query, found, env)).map((c) => ({ seq: c.seq, uid: c.uid, modSeq: c.row?.modSeq ?? 0 }));
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
 * Below this many messages a header key (SUBJECT x) is checked on every message's cached
 * header text without asking the text index first: for a word most messages contain, the
 * index's candidate list costs more than the check (bench imap: about 2.7 ms of store
 * worker time per SEARCH at 1000 messages, against well under 1 ms for the check).
 */
const HEADER_NARROW_FROM = 5000;

/** Candidates whose contents are read from the store together, when not cached. */
const LOAD_BATCH = 500;

/**
 * The candidates that match, in their order. Evaluation is synchronous; a candidate whose
 * keys reach a content not cached waits for the batch of such contents to be read at once.
 */
async function evaluate(query: SearchKey, found: readonly Candidate[], env: SearchEnv): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (let start = 0; start < found.length; start += LOAD_BATCH) {
    const batch = found.slice(start, start + LOAD_BATCH);
    const verdicts = new Array<boolean | undefined>(batch.length);
    for (let round = 0; ; round++) {
      const need = new Set<string>();
      batch.forEach((c, i) => {
        if (verdicts[i] !== undefined) return;
        try {
          verdicts[i] = matches(query, c, env);
        } catch (err) {
          if (!(err instanceof ContentNotLoaded) || round > 0) throw err; // loaded once: `get` answers from this search's loads
          need.add(err.contentId);
        }
      });
      if (need.size === 0) break;
      await env.contents.load([...need]);
    }
    batch.forEach((c, i) => {
      if (verdicts[i]) out.push(c);
    });
    env.contents.release();
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
): Promise<Candidate[]> {
  const bound = boundingUids(query, env.hits);
  const uids = bound ? ([...bound].filter((u) => view.seqOf(u) > 0).sort((a, b) => a - b) as Uid[]) : view.allUids();
  if (!needsRows(query)) {
    const flags = needsFlags(query);
    const content = needsContent(query);
    // Unbounded, the list is the whole view: a message's sequence number is its place in it.
    let list: Candidate[] = uids.map((u, i) => ({ seq: bound ? view.seqOf(u) : i + 1, uid: u, row: null }));
    // The store's answers hold only rows it has now, so a query answered by them alone needs
    // nothing more to leave out messages expunged elsewhere and not yet announced.
    if (!flags && !content) return list;
    // Flags and expunges made elsewhere, as a row read would see them. Announced numbers stay
    // (nothing is announced before the command's answer, RFC 9051 7.5.1); one the client was
    // never told of may leave the view silently, so numbers are read again.
    await view.poll(store);
    list = list.filter((c) => (c.seq = view.seqOf(c.uid)) > 0 && !view.isExpungedPending(c.uid));
    if (!content) return list;
    const ids = await contentIds(list.map((c) => c.uid as Uid));
    return list.filter((c) => (c.contentId = ids.get(c.uid)) !== undefined);
  }
  const read = await rows(bound ? uids : null);
  noteContentIds(store, view.uidValidity, read);
  const byUid = new Map(read.map((r) => [r.uid as number, r]));
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
