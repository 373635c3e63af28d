/**
 * Evaluates a parsed SEARCH tree (protocol/search-parser.ts) against stored rows and the
 * stored MIME index / search text: never re-parses a message (DESIGN.md). Strings match
 * as case-insensitive substrings of decoded text (RFC 9051 6.4.4).
 */
import type { MessageRow, Store } from '../../store/types.js';
import { seqSetHas, type CalendarDate, type SearchKey, type SeqSet } from '../protocol/index.js';
import type { MailboxView } from '../selected.js';
import { cachedContent, type CachedContent } from '../content-cache.js';
import { addressSearchText } from '../../mime/search-text.js';

export interface Candidate {
  seq: number;
  row: MessageRow;
}

/** Lazily loaded content, cached per search (several keys may need the same message). */
export class ContentCache {
  constructor(private readonly store: Store) {}
  /** Index and header text (cached process-wide). */
  get(id: string): Promise<CachedContent | null> {
    return cachedContent(this.store, id);
  }
  /** The whole search text, for BODY/TEXT (not cached: it can be large). */
  async text(id: string): Promise<string | null> {
    return (await this.store.getContent(id))?.searchText ?? null;
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

function bodyPart(text: string): string {
  const i = text.indexOf('\n\n');
  return i < 0 ? '' : text.slice(i + 2);
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

/** Does the message match the key? */
export async function matches(key: SearchKey, c: Candidate, env: { view: MailboxView; contents: ContentCache; max: number; savedSeqs: number[] }): Promise<boolean> {
  const { row } = c;
  const content = async () => (await env.contents.get(row.contentId)) ?? null;
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
      if (key.flag === '\\Recent') return env.view.isRecent(row.uid) === key.present;
      const has = row.flags.some((f) => f.toLowerCase() === key.flag.toLowerCase());
      return has === key.present;
    }
    case 'header': {
      const meta = await content();
      if (meta === null) return false;
      return headerMatches(meta.headerText, key.field, key.value) || (isAddressField(key.field) && addressMatches(meta, key.field, key.value));
    }
    case 'body': {
      const text = await env.contents.text(row.contentId);
      return text !== null && bodyPart(text).toLowerCase().includes(key.value.toLowerCase());
    }
    case 'text': {
      const text = await env.contents.text(row.contentId);
      return text !== null && text.toLowerCase().includes(key.value.toLowerCase());
    }
    case 'date': {
      if (key.field === 'internal') return compareDate(row.internalDate.getTime(), key.cmp, key.date);
      if (key.field === 'saved') return compareDate(row.saveDate.getTime(), key.cmp, key.date);
      const meta = await content();
      const sent = meta?.index.sentDate ?? null;
      // RFC 9051 6.4.4: SENT* compare the date as written, so the header's own zone applies
      return compareDate(sent === null ? null : sent + zoneOffsetMs(meta?.index.envelope.date ?? null), key.cmp, key.date);
    }
    case 'size': {
      const meta = await content();
      const size = meta?.index.size ?? row.size;
      return key.cmp === 'larger' ? size > key.size : size < key.size;
    }
    case 'seq':
      return inSet(key.set, c.seq, env.max, env.savedSeqs);
    case 'uid': {
      const uids = env.view.allUids();
      const maxUid = uids.length ? uids[uids.length - 1] : 0;
      if (key.set.kind === 'saved') return env.view.saved.includes(row.uid);
      return inSet(key.set, row.uid, Math.max(maxUid, row.uid), []);
    }
    case 'modseq':
      return row.modSeq >= key.modseq;
    case 'emailid':
      return row.emailId === key.id;
    case 'threadid':
      return row.threadId === key.id;
    case 'age': {
      const age = (Date.now() - row.internalDate.getTime()) / 1000;
      return key.cmp === 'older' ? age > key.seconds : age <= key.seconds;
    }
  }
}
