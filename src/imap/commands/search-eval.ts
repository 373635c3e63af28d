/**
 * Evaluates a parsed SEARCH tree (protocol/search-parser.ts) against stored rows and the
 * stored MIME index: never re-parses a message (DESIGN.md). Strings match as
 * case-insensitive substrings of decoded text (RFC 9051 6.4.4). TEXT and BODY are answered
 * by the store (`Store.searchText`, with its text index) before the rows are walked; the
 * same answer for a header key's value narrows which rows need their header text read.
 */
import type { MessageRow, Store, Uid } from '../../store/types.js';
import { seqSetHas, type CalendarDate, type SearchKey, type SeqSet } from '../protocol/index.js';
import type { MailboxView } from '../selected.js';
import { cachedContent, type CachedContent, type SearchableContent } from '../content-cache.js';
import { addressSearchText } from '../../mime/search-text.js';

export interface Candidate {
  seq: number;
  uid: number;
  /** The stored row; null when the query needs none (see `needsRows`). */
  row: MessageRow | null;
}

/** Lazily loaded content, cached per search (several keys may need the same message). */
export class ContentCache {
  constructor(private readonly store: Store) {}
  /** Index and header text (cached process-wide). */
  get(id: string): Promise<SearchableContent | null> {
    return cachedContent(this.store, id);
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
}

/**
 * Asks the store once per TEXT/BODY key, and once per non-address header key (a header
 * value is in the search text wherever the header matches, so TEXT's answer bounds it;
 * FROM/TO/CC/BCC also match the parsed address, which is not, so they are not narrowed).
 */
export async function textHits(store: Pick<Store, 'searchText'>, mailboxId: number, key: SearchKey, out: TextHits = new Map()): Promise<TextHits> {
  switch (key.type) {
    case 'and':
      for (const k of key.keys) await textHits(store, mailboxId, k, out);
      break;
    case 'or':
      await textHits(store, mailboxId, key.left, out);
      await textHits(store, mailboxId, key.right, out);
      break;
    case 'not':
      await textHits(store, mailboxId, key.key, out);
      break;
    case 'text':
    case 'body':
      out.set(key, new Set(await store.searchText(mailboxId, key.type, key.value)));
      break;
    case 'header':
      if (!isAddressField(key.field)) out.set(key, new Set(await store.searchText(mailboxId, 'text', key.value)));
      break;
  }
  return out;
}

/** Does evaluating `key` read a stored row (flags, dates, sizes, ids, content)? */
export function needsRows(key: SearchKey): boolean {
  switch (key.type) {
    case 'and':
      return key.keys.some(needsRows);
    case 'or':
      return needsRows(key.left) || needsRows(key.right);
    case 'not':
      return needsRows(key.key);
    case 'flag':
      return key.flag !== '\\Recent';
    case 'all':
    case 'savedateSupported':
    case 'text':
    case 'body':
    case 'seq':
    case 'uid':
      return false;
    default:
      return true;
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

function headerMatches(text: string, field: string, value: string): boolean {
  const v = value.toLowerCase();
  for (const line of headerPart(text).split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== field) continue;
    if (line.slice(colon + 1).toLowerCase().includes(v)) return true; // RFC 9051 6.4.4: empty value = field present
  }
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
function addressMatches(meta: CachedContent, field: AddressField, value: string): boolean {
  meta.addresses ??= {};
  const text = (meta.addresses[field] ??= addressSearchText(meta.index.envelope[field]).toLowerCase());
  return text.includes(value.toLowerCase());
}

function rowOf(c: Candidate): MessageRow {
  if (c.row === null) throw new Error(`search: a key needs the row of UID ${c.uid}, which needsRows() did not load`);
  return c.row;
}

/** Does the message match the key? */
export async function matches(key: SearchKey, c: Candidate, env: SearchEnv): Promise<boolean> {
  const content = async () => (await env.contents.get(rowOf(c).contentId)) ?? null;
  const inSet = (set: SeqSet, n: number, max: number, saved: number[]) => seqSetHas(set, n, max, saved);
  switch (key.type) {
    case 'all':
    case 'savedateSupported':
      return true;
    case 'and':
      for (const k of key.keys) if (!(await matches(k, c, env))) return false;
      return true;
    case 'or':
      return (await matches(key.left, c, env)) || (await matches(key.right, c, env));
    case 'not':
      return !(await matches(key.key, c, env));
    case 'flag': {
      if (key.flag === '\\Recent') return env.view.isRecent(c.uid as Uid) === key.present;
      const has = rowOf(c).flags.some((f) => f.toLowerCase() === key.flag.toLowerCase());
      return has === key.present;
    }
    case 'header': {
      const narrowed = env.hits.get(key);
      if (narrowed && !narrowed.has(c.uid)) return false;
      const meta = await content();
      if (meta === null) return false;
      return headerMatches(meta.headerText, key.field, key.value) || (isAddressField(key.field) && addressMatches(meta, key.field, key.value));
    }
    case 'body':
    case 'text':
      return env.hits.get(key)?.has(c.uid) ?? false;
    case 'date': {
      if (key.field === 'internal') return compareDate(rowOf(c).internalDate.getTime(), key.cmp, key.date);
      if (key.field === 'saved') return compareDate(rowOf(c).saveDate.getTime(), key.cmp, key.date);
      const meta = await content();
      const sent = meta?.index.sentDate ?? null;
      // RFC 9051 6.4.4: SENT* compare the date as written, so the header's own zone applies
      return compareDate(sent === null ? null : sent + zoneOffsetMs(meta?.index.envelope.date ?? null), key.cmp, key.date);
    }
    case 'size': {
      const meta = await content();
      const size = meta?.index.size ?? rowOf(c).size;
      return key.cmp === 'larger' ? size > key.size : size < key.size;
    }
    case 'seq':
      return inSet(key.set, c.seq, env.max, env.savedSeqs);
    case 'uid': {
      const uids = env.view.allUids();
      const maxUid = uids.length ? uids[uids.length - 1] : 0;
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
