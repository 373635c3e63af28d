/**
 * Search contexts (RFC 5267 4, CONTEXT=SEARCH and CONTEXT=SORT): a `UID SEARCH` or `UID
 * SORT` with RETURN (UPDATE) is remembered by the selected mailbox's view, and whenever the
 * session announces changes it re-evaluates the search and reports the difference as
 * `* ESEARCH (TAG "t") UID REMOVEFROM (...) ADDTO (...)`. This module is the pure part:
 * what a context holds and how a difference is written.
 *
 * Positions: a SEARCH result has no order, so its position is 0 (RFC 5267 5: "may be 0 for
 * SEARCH result additions"). A SORT result lists one pair per message: removals by
 * descending position, then additions by ascending final position, so applying them one
 * after another and reading every position against the list before (removals) or after
 * (additions) give the same list. Sort keys never change for a message, so messages that
 * stay keep their relative order.
 */
import { formatSeqSet, formatString, type SearchKey, type SortCriterion } from './protocol/index.js';

export interface SearchContext {
  tag: string;
  query: SearchKey;
  /** The SORT criteria; null for a SEARCH context. */
  sort: SortCriterion[] | null;
  /** The last result reported, as UIDs (sort order for SORT, ascending for SEARCH). */
  uids: number[];
}

/** Contexts one selected mailbox keeps at most; more get NO [NOUPDATE] (RFC 5267 4.3.1). */
export const MAX_CONTEXTS = 10;

/** The ESEARCH line telling the client how `before` became `after`, or null when nothing changed. */
export function contextUpdate(ctx: Pick<SearchContext, 'tag' | 'sort'>, before: readonly number[], after: readonly number[]): string | null {
  const now = new Set(after);
  const was = new Set(before);
  const removed: [number, number][] = [];
  before.forEach((uid, i) => {
    if (!now.has(uid)) removed.push([i + 1, uid]);
  });
  const added: [number, number][] = [];
  after.forEach((uid, i) => {
    if (!was.has(uid)) added.push([i + 1, uid]);
  });
  if (removed.length === 0 && added.length === 0) return null;
  const items: string[] = [];
  if (ctx.sort === null) {
    if (removed.length) items.push(`REMOVEFROM (0 ${formatSeqSet(removed.map(([, u]) => u))})`);
    if (added.length) items.push(`ADDTO (0 ${formatSeqSet(added.map(([, u]) => u))})`);
  } else {
    if (removed.length) items.push(`REMOVEFROM (${removed.reverse().map(([p, u]) => `${p} ${u}`).join(' ')})`);
    if (added.length) items.push(`ADDTO (${added.map(([p, u]) => `${p} ${u}`).join(' ')})`);
  }
  return `* ESEARCH (TAG ${formatString(ctx.tag)}) UID ${items.join(' ')}\r\n`;
}
