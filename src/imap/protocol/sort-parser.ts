// SORT [RETURN (opts)] (criteria) charset keys   RFC 5256 3, RFC 5957 (DISPLAYFROM/DISPLAYTO), RFC 5267 3 (ESORT)
import type { ArgReader } from './arg-reader.js';
import { parseReturnOptions, searchCharset, searchQuery, type SearchKey, type SearchReturnOption } from './search-parser.js';
import type { PartialRange } from './partial-range.js';

export const SORT_KEYS = ['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

export interface SortCommand {
  criteria: SortCriterion[];
  charset: string;
  /** RFC 5267 3: ESORT's RETURN options (SAVE is not among them for SORT here). */
  returnOptions?: SearchReturnOption[];
  /** RFC 9394 3.1: the window of RETURN (PARTIAL range), positions in sort order. */
  partial?: PartialRange;
  query: SearchKey;
}

const RETURN_OPTIONS = new Set<string>(['MIN', 'MAX', 'ALL', 'COUNT', 'UPDATE', 'PARTIAL']);

export function parseSort(r: ArgReader): SortCommand {
  const returned = r.peekAtom() === 'RETURN' ? parseReturnOptions(r, RETURN_OPTIONS, 'SORT RETURN option') : undefined;
  const criteria = r.list((x) => criterion(x), { what: 'sort criteria' });
  if (criteria.some((c) => c === null)) throw r.error('REVERSE must be followed by a sort key');
  r.sp('after sort criteria');
  const charset = searchCharset(r);
  r.sp('after charset');
  const query = searchQuery(r);
  const cmd: SortCommand = { criteria: criteria as SortCriterion[], charset, returnOptions: returned?.options, query };
  if (returned?.partial) cmd.partial = returned.partial;
  return cmd;
}

/** One `[REVERSE SP] key`; the list reader splits on spaces, so REVERSE reads its key itself. */
function criterion(r: ArgReader): SortCriterion | null {
  let word = r.atom('sort key').toUpperCase();
  let reverse = false;
  if (word === 'REVERSE') {
    reverse = true;
    if (!r.optionalSp()) return null;
    word = r.atom('sort key').toUpperCase();
  }
  if (!(SORT_KEYS as readonly string[]).includes(word)) throw r.error(`Unknown sort key ${word}`);
  return { key: word as SortKey, reverse };
}

// THREAD algorithm charset keys   RFC 5256 3; REFS: draft-ietf-morg-inthread
export const THREAD_ALGORITHMS = ['ORDEREDSUBJECT', 'REFERENCES', 'REFS'] as const;
export type ThreadAlgorithm = (typeof THREAD_ALGORITHMS)[number];

export interface ThreadCommand {
  algorithm: ThreadAlgorithm;
  charset: string;
  query: SearchKey;
}

export function parseThread(r: ArgReader): ThreadCommand {
  const algorithm = r.atom('thread algorithm').toUpperCase();
  if (!(THREAD_ALGORITHMS as readonly string[]).includes(algorithm)) throw r.error(`Unknown thread algorithm ${algorithm}`);
  r.sp('after thread algorithm');
  const charset = searchCharset(r);
  r.sp('after charset');
  const query = searchQuery(r);
  return { algorithm: algorithm as ThreadAlgorithm, charset, query };
}
