/**
 * SEARCH / UID SEARCH arguments (RFC 9051 6.4.4, RFC 3501 6.4.4) into a typed tree.
 * Extensions: ESEARCH return options (RFC 4731 3.1, SEARCHRES SAVE RFC 5182),
 * MODSEQ (RFC 7162 3.1.5), EMAILID/THREADID (RFC 8474 6), SAVED* (RFC 8514),
 * OLDER/YOUNGER (RFC 5032).
 *
 * The tree is lowered a little so evaluators have fewer cases: FROM/TO/CC/BCC/SUBJECT
 * become `header` keys, ANSWERED/UNSEEN/KEYWORD/... become `flag` keys, NEW is
 * `RECENT UNSEEN` and OLD is `NOT RECENT` (RFC 3501 6.4.4 defines them so).
 */
import type { ArgReader, CalendarDate } from './arg-reader.js';
import type { SeqSet } from './seq-set.js';
import { partialRange, type PartialRange } from './partial-range.js';

/** A search key; `and` holds a parenthesised list or the top-level list. */
export type SearchKey =
  | { type: 'all' }
  | { type: 'and'; keys: SearchKey[] }
  | { type: 'or'; left: SearchKey; right: SearchKey }
  | { type: 'not'; key: SearchKey }
  /** A system flag (canonical case, `\Recent` included) or keyword; `present` false for UN*. */
  | { type: 'flag'; flag: string; present: boolean }
  /** Header substring match; `field` is lower-case (`from`, `subject`, or any HEADER name). */
  | { type: 'header'; field: string; value: string }
  | { type: 'body'; value: string }
  | { type: 'text'; value: string }
  /** BEFORE/ON/SINCE (internal date), SENT* (Date: header), SAVED* (save date, RFC 8514). */
  | { type: 'date'; field: 'internal' | 'sent' | 'saved'; cmp: 'before' | 'on' | 'since'; date: CalendarDate }
  | { type: 'size'; cmp: 'larger' | 'smaller'; size: number }
  | { type: 'seq'; set: SeqSet }
  | { type: 'uid'; set: SeqSet }
  /** RFC 7162 3.1.5: messages with modseq >= `modseq`; the entry names one flag's metadata. */
  | { type: 'modseq'; modseq: number; entry?: { flag: string; kind: 'priv' | 'shared' | 'all' } }
  | { type: 'emailid'; id: string }
  | { type: 'threadid'; id: string }
  | { type: 'savedateSupported' }
  /** RFC 5032: OLDER n = internal date more than n seconds ago; YOUNGER n = within n seconds. */
  | { type: 'age'; cmp: 'older' | 'younger'; seconds: number };

/** ESEARCH result options (RFC 4731 3.1, RFC 5182 2.2). */
export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE' | 'UPDATE' | 'PARTIAL';

/** A parsed SEARCH command. */
export interface SearchCommand {
  /** Upper-cased charset when CHARSET was given (only UTF-8 and US-ASCII pass). */
  charset: string | undefined;
  /** RETURN options; undefined means a plain SEARCH response, `RETURN ()` means [ALL] (RFC 4731 3.1). */
  returnOptions: SearchReturnOption[] | undefined;
  /** The window of RETURN (PARTIAL range), RFC 9394 3.1; set exactly when returnOptions holds PARTIAL. */
  partial?: PartialRange;
  query: SearchKey;
}

/** Charsets the search parser accepts; anything else is NO [BADCHARSET (...)]. */
export const SEARCH_CHARSETS = ['UTF-8', 'US-ASCII'] as const;
const RETURN_OPTIONS = new Set<string>(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE', 'UPDATE', 'PARTIAL']);
const MAX_DEPTH = 64;

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  RECENT: ['\\Recent', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};
const HEADER_KEYS: Record<string, string> = { BCC: 'bcc', CC: 'cc', FROM: 'from', SUBJECT: 'subject', TO: 'to' };
const DATE_KEY: Record<string, { field: 'internal' | 'sent' | 'saved'; cmp: 'before' | 'on' | 'since' }> = {
  BEFORE: { field: 'internal', cmp: 'before' },
  ON: { field: 'internal', cmp: 'on' },
  SINCE: { field: 'internal', cmp: 'since' },
  SENTBEFORE: { field: 'sent', cmp: 'before' },
  SENTON: { field: 'sent', cmp: 'on' },
  SENTSINCE: { field: 'sent', cmp: 'since' },
  SAVEDBEFORE: { field: 'saved', cmp: 'before' },
  SAVEDON: { field: 'saved', cmp: 'on' },
  SAVEDSINCE: { field: 'saved', cmp: 'since' },
};

/**
 * Parses `[RETURN (...)] [CHARSET x] search-key *(SP search-key)` from the cursor to the
 * end of the command (RFC 9051 6.4.4). Throws ImapParseError: BAD for syntax, NO with
 * code `BADCHARSET (UTF-8 US-ASCII)` for an unsupported charset (RFC 9051 6.4.4 MUST).
 * `esearch` false refuses RETURN (when ESEARCH is not advertised).
 */
export function parseSearch(r: ArgReader, opts: { esearch?: boolean } = {}): SearchCommand {
  let returned: ReturnOptions | undefined;
  if (r.peekAtom() === 'RETURN') {
    if (opts.esearch === false) throw r.error('RETURN is not supported');
    returned = parseReturnOptions(r, RETURN_OPTIONS, 'RETURN option');
  }
  let charset: string | undefined;
  if (r.peekAtom() === 'CHARSET') {
    r.atom();
    r.sp('after CHARSET');
    charset = searchCharset(r);
    r.sp('after charset');
  }
  const query = searchQuery(r);
  return returned?.partial ? { charset, returnOptions: returned.options, partial: returned.partial, query } : { charset, returnOptions: returned?.options, query };
}

/** RETURN options with the PARTIAL window when one was asked for. */
export interface ReturnOptions {
  options: SearchReturnOption[];
  partial?: PartialRange;
}

/**
 * Reads `RETURN (opts) SP` (RFC 4731 3.1, RFC 5267 3 and 4, RFC 9394 3.1) for SEARCH and SORT,
 * each passing the options it knows; `what` names an unknown one in the BAD text.
 */
export function parseReturnOptions(r: ArgReader, known: ReadonlySet<string>, what: string): ReturnOptions {
  r.atom();
  r.sp('after RETURN');
  let partial: PartialRange | undefined;
  let options = r.list(
    (x) => {
      const o = x.atom(what).toUpperCase();
      if (!known.has(o)) throw x.error(`Unknown ${what} ${o}`);
      if (o === 'PARTIAL') {
        if (partial) throw x.error('PARTIAL given twice');
        x.sp('after PARTIAL');
        partial = partialRange(x);
      }
      return o as SearchReturnOption;
    },
    { allowEmpty: true, what: 'RETURN options' },
  );
  if (options.length === 0) options = ['ALL']; // RFC 4731 3.1: RETURN () is RETURN (ALL)
  if (options.length === 1 && options[0] === 'UPDATE') options.push('ALL'); // RFC 5267 4: the updates start from the full result
  // RFC 9394 3.1: ALL and PARTIAL answer the same question two ways; one command asks one of them
  if (partial && options.includes('ALL')) throw r.error('PARTIAL and ALL cannot be combined');
  // Updates to a window would need positions re-counted on every change; RFC 9394 does not require it
  if (partial && options.includes('UPDATE')) throw r.error('PARTIAL cannot be combined with UPDATE');
  r.sp('after RETURN options');
  return partial ? { options, partial } : { options };
}

/** A charset SEARCH, SORT and THREAD accept; any other is a tagged NO with BADCHARSET (RFC 9051 6.4.4, RFC 5256 3). */
export function searchCharset(r: ArgReader): string {
  const charset = r.astring('charset').toUpperCase();
  if (!(SEARCH_CHARSETS as readonly string[]).includes(charset)) {
    throw r.error(`Unsupported charset ${charset}`, { response: 'NO', code: `BADCHARSET (${SEARCH_CHARSETS.join(' ')})` });
  }
  return charset;
}

/** The search keys up to the end of the command, ANDed (RFC 9051 6.4.4). */
export function searchQuery(r: ArgReader): SearchKey {
  const keys = [searchKey(r, 0)];
  while (r.optionalSp()) keys.push(searchKey(r, 0));
  r.end();
  return keys.length === 1 ? keys[0] : { type: 'and', keys };
}

/** Reads one search-key (RFC 9051 9), recursing for NOT, OR and parentheses up to a fixed depth. */
export function searchKey(r: ArgReader, depth: number): SearchKey {
  if (depth > MAX_DEPTH) throw r.error(`Search nested deeper than ${MAX_DEPTH} levels`);
  const b = r.peekByte();
  if (b === 0x28) {
    const keys = r.list((x) => searchKey(x, depth + 1), { what: 'search keys' });
    return keys.length === 1 ? keys[0] : { type: 'and', keys };
  }
  if ((b >= 0x30 && b <= 0x39) || b === 0x2a || b === 0x24) return { type: 'seq', set: r.seqSet() };
  const name = r.atom('search key').toUpperCase();
  const flag = FLAG_KEYS[name];
  if (flag) return { type: 'flag', flag: flag[0], present: flag[1] };
  const header = HEADER_KEYS[name];
  if (header) {
    r.sp(`after ${name}`);
    return { type: 'header', field: header, value: r.astring(`${name} string`) };
  }
  const date = DATE_KEY[name];
  if (date) {
    r.sp(`after ${name}`);
    return { type: 'date', ...date, date: r.date() };
  }
  return otherKey(r, name, depth);
}

function otherKey(r: ArgReader, name: string, depth: number): SearchKey {
  const arg = (what: string): void => r.sp(`after ${what}`);
  switch (name) {
    case 'ALL':
      return { type: 'all' };
    case 'NEW':
      return { type: 'and', keys: [{ type: 'flag', flag: '\\Recent', present: true }, { type: 'flag', flag: '\\Seen', present: false }] };
    case 'OLD':
      return { type: 'flag', flag: '\\Recent', present: false };
    case 'KEYWORD':
    case 'UNKEYWORD':
      arg(name);
      return { type: 'flag', flag: r.atom('keyword'), present: name === 'KEYWORD' };
    case 'HEADER': {
      arg(name);
      const field = r.astring('header field name').toLowerCase();
      arg('header field name');
      return { type: 'header', field, value: r.astring('header value') };
    }
    case 'BODY':
    case 'TEXT':
      arg(name);
      return { type: name === 'BODY' ? 'body' : 'text', value: r.astring(`${name} string`) };
    case 'LARGER':
    case 'SMALLER':
      arg(name);
      return { type: 'size', cmp: name === 'LARGER' ? 'larger' : 'smaller', size: r.number64('size') };
    case 'UID':
      arg(name);
      return { type: 'uid', set: r.seqSet() };
    case 'NOT':
      arg(name);
      return { type: 'not', key: searchKey(r, depth + 1) };
    case 'OR': {
      arg(name);
      const left = searchKey(r, depth + 1);
      r.sp('between OR keys');
      return { type: 'or', left, right: searchKey(r, depth + 1) };
    }
    case 'MODSEQ':
      arg(name);
      return modseqKey(r);
    case 'EMAILID':
    case 'THREADID':
      arg(name);
      return { type: name === 'EMAILID' ? 'emailid' : 'threadid', id: objectId(r) };
    case 'SAVEDATESUPPORTED':
      return { type: 'savedateSupported' };
    case 'OLDER':
    case 'YOUNGER':
      arg(name);
      return { type: 'age', cmp: name === 'OLDER' ? 'older' : 'younger', seconds: r.nzNumber('interval in seconds') };
    default:
      throw r.error(`Unknown search key ${name.slice(0, 40)}`);
  }
}

/** MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer (RFC 7162 7). */
function modseqKey(r: ArgReader): SearchKey {
  if (r.peekByte() !== 0x22) return { type: 'modseq', modseq: r.number64('mod-sequence value') };
  const entry = r.string('entry name');
  const m = /^\/flags\/(\\?[^\s()]+)$/i.exec(entry);
  if (!m) throw r.error(`Invalid MODSEQ entry name "${entry.slice(0, 40)}"`);
  r.sp('after MODSEQ entry name');
  const kind = r.atom('entry type (priv, shared or all)').toLowerCase();
  if (kind !== 'priv' && kind !== 'shared' && kind !== 'all') throw r.error(`Invalid MODSEQ entry type ${kind}`);
  r.sp('after MODSEQ entry type');
  return { type: 'modseq', modseq: r.number64('mod-sequence value'), entry: { flag: m[1], kind } };
}

/** objectid = 1*255(ALPHA / DIGIT / "_" / "-") (RFC 8474 7). */
function objectId(r: ArgReader): string {
  const id = r.atom('object id');
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(id)) throw r.error(`Invalid object id "${id.slice(0, 40)}"`);
  return id;
}
