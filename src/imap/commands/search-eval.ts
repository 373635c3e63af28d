/**
 * Evaluates a parsed SEARCH tree (protocol/search-parser.ts) against stored rows and the
 * stored MIME index: never re-parses a message (DESIGN.md). Strings match as
 * case-insensitive substrings of decoded text (RFC 9051 6.4.4). TEXT and BODY are answered
 * by the store (`Store.searchText`, with its text index) before the rows are walked; the
 * same answer for a header key's value narrows which rows need their header text read.
 */
import type { MessageRow, Store, Uid } from '../../store/types.js';
import { seqSetHas, type CalendarDate, type SearchKey } from '../protocol/index.js';
import type { MailboxView } from '../selected.js';
import { cachedContent, peekContent, type SearchableContent } from '../content-cache.js';
import { addressSearchText } from '../../mime/search-text.js';

export interface Candidate {
  seq: number;
  uid: number;
  /** The stored row; null when the query needs none (see `needsRows`). */
  row: MessageRow | null;
  /** The content id when the query reads content but no row (see `needsContent`). */
  contentId?: string;
}

/** Thrown by `matches` when a key needs a content not loaded yet: the caller loads it and asks again. */
export class ContentNotLoaded extends Error {
  constructor(readonly contentId: string) {
    super(`content ${contentId} not loaded`);
  }
}

/**
 * Contents for one search: the process-wide cache read synchronously, plus what this search
 * loaded (including "not stored"), so evaluating a candidate is a synchronous walk and a
 * store read happens only for the contents a key really reached (in batches, see search.ts).
 */
export class ContentCache {
  private readonly loaded = new Map<string, SearchableContent | null>();
  constructor(private readonly store: Store) {}
  /** Index and header text; throws ContentNotLoaded when neither this search nor the process cache has it. */
  get(id: string): SearchableContent | null {
    const mine = this.loaded.get(id);
    if (mine !== undefined) return mine;
    const hit = peekContent(this.store, id);
    if (hit === undefined) throw new ContentNotLoaded(id);
    return hit;
  }
  /** Reads these contents (cached process-wide when stored), several at once. */
  async load(ids: readonly string[]): Promise<void> {
    const metas = await Promise.all(ids.map((id) => cachedContent(this.store, id)));
    ids.forEach((id, i) => this.loaded.set(id, metas[i]));
  }
  /** Forgets this search's own loads (the process cache keeps what it keeps). */
  release(): void {
    this.loaded.clear();
  }
}

/** The store's answers for the string keys of one query, by key: exact for TEXT/BODY, a superset for header keys. */
export type TextHits = Map<SearchKey, Set<number>>;

export interface SearchEnv {
  view: MailboxView;
  contents: ContentCache;
  max: number;
  savedSeqs: number[];
  hits: TextHits;
  /**
   * Per flag key, the verdict for each interned flag list of the view (a mailbox has few
   * distinct lists, so `UNSEEN` on 100,000 messages compares flag names a handful of times).
   */
  flagVerdicts?: Map<SearchKey, Map<number, boolean>>;
}

/**
 * Asks the store once per TEXT/BODY key, and, when `narrowHeaders`, once per non-address
 * header key (a header value is in the search text wherever the header matches, so the
 * text index's candidates bound it: no stored text is read for them, the header check runs
 * on the cached header text; FROM/TO/CC/BCC also match the parsed address, which is not in
 * the text, so they are not narrowed).
 */
export async function textHits(store: Pick<Store, 'searchText'>, mailboxId: number, key: SearchKey, narrowHeaders: boolean, out: TextHits = new Map()): Promise<TextHits> {
  switch (key.type) {
    case 'and':
      for (const k of key.keys) await textHits(store, mailboxId, k, narrowHeaders, out);
      break;
    case 'or':
      await textHits(store, mailboxId, key.left, narrowHeaders, out);
      await textHits(store, mailboxId, key.right, narrowHeaders, out);
      break;
    case 'not':
      await textHits(store, mailboxId, key.key, narrowHeaders, out);
      break;
    case 'text':
    case 'body':
      out.set(key, new Set(await store.searchText(mailboxId, key.type, key.value)));
      break;
    case 'header':
      if (narrowHeaders && !isAddressField(key.field)) out.set(key, new Set(await store.searchText(mailboxId, 'candidates', key.value)));
      break;
  }
  return out;
}

/**
 * Does evaluating `key` read a field only a stored row has (internal and save dates, MODSEQ,
 * EMAILID, THREADID)? Flags come from the view, content through its id (`needsContent`).
 */
export function needsRows(key: SearchKey): boolean {
  switch (key.type) {
    case 'and':
      return key.keys.some(needsRows);
    case 'or':
      return needsRows(key.left) || needsRows(key.right);
    case 'not':
      return needsRows(key.key);
    case 'date':
      return key.field !== 'sent';
    case 'modseq':
    case 'emailid':
    case 'threadid':
    case 'age':
      return true;
    default:
      return false;
  }
}

/** Does evaluating `key` read a message's content (header text, sent date, size)? */
export function needsContent(key: SearchKey): boolean {
  switch (key.type) {
    case 'and':
      return key.keys.some(needsContent);
    case 'or':
      return needsContent(key.left) || needsContent(key.right);
    case 'not':
      return needsContent(key.key);
    case 'date':
      return key.field === 'sent';
    case 'header':
    case 'size':
      return true;
    default:
      return false;
  }
}

/** Does evaluating `key` read flags (other than \Recent, which is the session's)? */
export function needsFlags(key: SearchKey): boolean {
  switch (key.type) {
    case 'and':
      return key.keys.some(needsFlags);
    case 'or':
      return needsFlags(key.left) || needsFlags(key.right);
    case 'not':
      return needsFlags(key.key);
    case 'flag':
      return key.flag !== '\\Recent';
    default:
      return false;
  }
}

/**
 * The UIDs any match must be among, when the store's answers bound the query (every match
 * needs a TEXT/BODY/header hit); null when any row may match.
 */
export function boundingUids(key: SearchKey, hits: TextHits): Set<number> | null {
  switch (key.type) {
    case 'text':
    case 'body':
    case 'header':
      return hits.get(key) ?? null;
    case 'and': {
      let best: Set<number> | null = null;
      for (const k of key.keys) {
        const b = boundingUids(k, hits);
        if (b && (!best || b.size < best.size)) best = b;
      }
      return best;
    }
    case 'or': {
      const l = boundingUids(key.left, hits);
      const r = l && boundingUids(key.right, hits);
      return l && r ? new Set([...l, ...r]) : null;
    }
    default:
      return null;
  }
}

function dayNumber(d: CalendarDate): number {
  return Date.UTC(d.year, d.month - 1, d.day) / 86_400_000;
}

function dayOf(ms: number): number {
  return Math.floor(ms / 86_400_000);
}

function compareDate(ms: number | null, cmp: 'before' | 'on' | 'since', d: CalendarDate): boolean {
  if (ms === null) return false;
  const day = dayOf(ms);
  const want = dayNumber(d);
  return cmp === 'before' ? day < want : cmp === 'on' ? day === want : day >= want;
}

/** The `+hhmm`/`-hhmm` zone at the end of a Date header, in ms (0 when absent). */
function zoneOffsetMs(date: string | null): number {
  const m = date ? /([+-])(\d\d)(\d\d)\s*(?:\([^)]*\))?\s*$/.exec(date) : null;
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

function headerPart(text: string): string {
  const i = text.indexOf('\n\n');
  return i < 0 ? text : text.slice(0, i);
}

/** The lower-cased values of each header field, split once per cached content (a search tests every candidate). */
function headerFields(meta: SearchableContent): Map<string, string[]> {
  if (meta.fields) return meta.fields;
  const fields = new Map<string, string[]>();
  for (const line of headerPart(meta.headerText).split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = fields.get(name);
    const value = line.slice(colon + 1).toLowerCase();
    if (values) values.push(value);
    else fields.set(name, [value]);
  }
  return (meta.fields = fields);
}

/** Flags and keywords compare case-insensitively (RFC 9051 2.3.2). */
export function hasFlag(flags: readonly string[], flag: string): boolean {
  const want = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === want);
}

/** Lower-cased search values, once per query (a key is tested against every candidate). */
const lowered = new WeakMap<SearchKey, string>();

function lowerValue(key: SearchKey & { value: string }): string {
  let v = lowered.get(key);
  if (v === undefined) lowered.set(key, (v = key.value.toLowerCase()));
  return v;
}

function headerMatches(meta: SearchableContent, field: string, v: string): boolean {
  const values = headerFields(meta).get(field);
  if (!values) return false;
  for (const line of values) if (line.includes(v)) return true; // RFC 9051 6.4.4: empty value = field present
  return false;
}

const ADDRESS_FIELDS = new Set(['from', 'to', 'cc', 'bcc'] as const);
type AddressField = 'from' | 'to' | 'cc' | 'bcc';

function isAddressField(field: string): field is AddressField {
  return ADDRESS_FIELDS.has(field as AddressField);
}

/**
 * FROM/TO/CC/BCC also match the parsed addresses as ENVELOPE shows them (RFC 9051 6.4.4), so
 * `user@domain.org` finds `<user (comment)@ (comment) domain.org>` and a decoded display name
 * finds its encoded words; still a case-insensitive substring.
 */
function addressMatches(meta: SearchableContent, field: AddressField, v: string): boolean {
  meta.addresses ??= {};
  const text = (meta.addresses[field] ??= addressSearchText(meta.index.envelope[field]).toLowerCase());
  return text.includes(v);
}

function contentOf(c: Candidate, env: SearchEnv): SearchableContent | null {
  const id = c.row?.contentId ?? c.contentId;
  if (id === undefined) throw new Error(`search: a key needs the content of UID ${c.uid}, which needsContent() did not resolve`);
  return env.contents.get(id);
}

function rowOf(c: Candidate): MessageRow {
  if (c.row === null) throw new Error(`search: a key needs the row of UID ${c.uid}, which needsRows() did not load`);
  return c.row;
}

/**
 * Does the message match the key? Synchronous: throws ContentNotLoaded when a key needs a
 * content that `env.contents` has not loaded (the caller loads it and evaluates again).
 */
export function matches(key: SearchKey, c: Candidate, env: SearchEnv): boolean {
  const content = () => contentOf(c, env);
  const inSet = seqSetHas;
  switch (key.type) {
    case 'all':
    case 'savedateSupported':
      return true;
    case 'and':
      for (const k of key.keys) if (!matches(k, c, env)) return false;
      return true;
    case 'or':
      return matches(key.left, c, env) || matches(key.right, c, env);
    case 'not':
      return !matches(key.key, c, env);
    case 'flag': {
      if (key.flag === '\\Recent') return env.view.isRecent(c.uid as Uid) === key.present;
      if (c.row) return hasFlag(c.row.flags, key.flag) === key.present;
      // no row: the candidate's number is the view's, polled first (search.ts)
      const set = env.view.flagSetIdOfSeq(c.seq);
      const verdicts = (env.flagVerdicts ??= new Map()).get(key) ?? new Map<number, boolean>();
      if (verdicts.size === 0) env.flagVerdicts.set(key, verdicts);
      let verdict = verdicts.get(set);
      if (verdict === undefined) verdicts.set(set, (verdict = hasFlag(env.view.flagsOfSet(set), key.flag) === key.present));
      return verdict;
    }
    case 'header': {
      const narrowed = env.hits.get(key);
      if (narrowed && !narrowed.has(c.uid)) return false;
      const meta = content();
      if (meta === null) return false;
      const v = lowerValue(key);
      return headerMatches(meta, key.field, v) || (isAddressField(key.field) && addressMatches(meta, key.field, v));
    }
    case 'body':
    case 'text':
      return env.hits.get(key)?.has(c.uid) ?? false;
    case 'date': {
      if (key.field === 'internal') return compareDate(rowOf(c).internalDate.getTime(), key.cmp, key.date);
      if (key.field === 'saved') return compareDate(rowOf(c).saveDate.getTime(), key.cmp, key.date);
      const meta = content();
      const sent = meta?.index.sentDate ?? null;
      // RFC 9051 6.4.4: SENT* compare the date as written, so the header's own zone applies
      return compareDate(sent === null ? null : sent + zoneOffsetMs(meta?.index.envelope.date ?? null), key.cmp, key.date);
    }
    case 'size': {
      const meta = content();
      const size = meta?.index.size ?? c.row?.size;
      if (size === undefined) return false; // its content is gone: expunged meanwhile
      return key.cmp === 'larger' ? size > key.size : size < key.size;
    }
    case 'seq':
      return inSet(key.set, c.seq, env.max, env.savedSeqs);
    case 'uid': {
      const maxUid = env.view.lastUid();
      if (key.set.kind === 'saved') return env.view.saved.includes(c.uid as Uid);
      return inSet(key.set, c.uid, Math.max(maxUid, c.uid), []);
    }
    case 'modseq':
      return rowOf(c).modSeq >= key.modseq;
    case 'emailid':
      return rowOf(c).emailId === key.id;
    case 'threadid':
      return rowOf(c).threadId === key.id;
    case 'age': {
      const age = (Date.now() - rowOf(c).internalDate.getTime()) / 1000;
      return key.cmp === 'older' ? age > key.seconds : age <= key.seconds;
    }
  }
}
