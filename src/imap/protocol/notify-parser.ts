/**
 * NOTIFY arguments (RFC 5465 8): `NONE` or `SET [STATUS] event-group...`, checked against
 * what Mailroom delivers. Syntax errors and the RFC's combination rules are BAD; an event
 * Mailroom does not deliver (AnnotationChange, MailboxMetadataChange, ServerMetadataChange,
 * any extension) is NO [BADEVENT (supported...)] (RFC 5465 3.1, 5).
 */
import type { ArgReader } from './arg-reader.js';
import { fetchAtt, fetchSetsSeen, type FetchItem } from './fetch-parser.js';
import { normalizeMailboxName } from './mailbox-name.js';

/** The events Mailroom delivers, as the BADEVENT code lists them. */
export const NOTIFY_EVENTS = ['MessageNew', 'MessageExpunge', 'FlagChange', 'MailboxName', 'SubscriptionChange'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export type NotifyFilter =
  | { kind: 'selected'; delayed: boolean }
  | { kind: 'inboxes' | 'personal' | 'subscribed' }
  | { kind: 'subtree' | 'mailboxes'; names: string[] };

export interface NotifyGroup {
  filter: NotifyFilter;
  events: ReadonlySet<NotifyEvent>;
  /** MessageNew's fetch-att list as written, e.g. `(UID FLAGS)` (selected mailbox only). */
  fetchText?: string;
  fetchItems?: FetchItem[];
}

export type NotifyRequest = { kind: 'none' } | { kind: 'set'; status: boolean; groups: NotifyGroup[] };

/** Raised for a syntactically valid event Mailroom does not deliver: NO [BADEVENT (...)]. */
export class BadEventError extends Error {}

export function parseNotify(r: ArgReader): NotifyRequest {
  const verb = r.atom('SET or NONE').toUpperCase();
  if (verb === 'NONE') {
    r.end();
    return { kind: 'none' };
  }
  if (verb !== 'SET') throw r.error('Expected SET or NONE');
  r.sp('after SET');
  let status = false;
  if (r.peekAtom()?.toUpperCase() === 'STATUS') {
    r.atom();
    r.sp('after STATUS');
    status = true;
  }
  const groups: NotifyGroup[] = [group(r)];
  while (r.optionalSp()) groups.push(group(r));
  r.end();
  const seen = new Set<string>();
  for (const g of groups) {
    const key = g.filter.kind === 'subtree' || g.filter.kind === 'mailboxes' ? null : g.filter.kind;
    if (key && seen.has(key)) throw r.error(`The ${key.toUpperCase()} filter is given twice`);
    if (key) seen.add(key);
  }
  return { kind: 'set', status, groups };
}

function group(r: ArgReader): NotifyGroup {
  r.expect('(', 'to open an event group');
  const filter = filterOf(r);
  r.sp('after the mailbox filter');
  const out: NotifyGroup = { filter, events: new Set() };
  const events = new Set<NotifyEvent>();
  if (r.peekAtom()?.toUpperCase() === 'NONE') r.atom();
  else {
    r.list((x) => {
      const name = x.atom('event');
      const ev = NOTIFY_EVENTS.find((e) => e.toLowerCase() === name.toLowerCase());
      if (!ev) throw new BadEventError(name); // event-ext is any atom (RFC 5465 8); not delivered here
      if (events.has(ev)) throw x.error(`Event ${ev} is given twice`);
      events.add(ev);
      if (ev !== 'MessageNew') return;
      const m = x.mark();
      const items = x.optionalList((y) => fetchAtt(y));
      if (!items) return;
      const text = x.textSince(m);
      if (text === null) throw x.error('Literals are not accepted in NOTIFY fetch attributes');
      if (fetchSetsSeen(items)) throw x.error('NOTIFY fetch attributes must not set \\Seen (use BODY.PEEK)');
      out.fetchText = text.trim();
      out.fetchItems = items;
    }, { what: 'events' });
  }
  r.expect(')', 'to close the event group');
  // RFC 5465 5: MessageNew and MessageExpunge go together; FlagChange needs both
  if (events.has('MessageNew') !== events.has('MessageExpunge')) throw r.error('MessageNew and MessageExpunge must be requested together');
  if (events.has('FlagChange') && !events.has('MessageNew')) throw r.error('FlagChange needs MessageNew and MessageExpunge');
  if (out.fetchText !== undefined && filter.kind !== 'selected') throw r.error('Fetch attributes are allowed for SELECTED and SELECTED-DELAYED only');
  return { ...out, events };
}

function filterOf(r: ArgReader): NotifyFilter {
  const word = r.atom('mailbox filter').toUpperCase();
  switch (word) {
    case 'SELECTED':
      return { kind: 'selected', delayed: false };
    case 'SELECTED-DELAYED':
      return { kind: 'selected', delayed: true };
    case 'INBOXES':
      return { kind: 'inboxes' };
    case 'PERSONAL':
      return { kind: 'personal' };
    case 'SUBSCRIBED':
      return { kind: 'subscribed' };
    case 'SUBTREE':
    case 'MAILBOXES': {
      r.sp(`after ${word}`);
      return { kind: word === 'SUBTREE' ? 'subtree' : 'mailboxes', names: oneOrMoreMailbox(r) };
    }
    default:
      throw r.error(`Unknown mailbox filter ${word.slice(0, 30)}`);
  }
}

/** one-or-more-mailbox (RFC 5465 8, also RFC 7377's filter-mailboxes): a name or a parenthesized list of names. */
export function oneOrMoreMailbox(r: ArgReader): string[] {
  return r.peekByte() === 0x28 ? r.list((x) => normalizeMailboxName(x.mailbox()), { what: 'mailboxes' }) : [normalizeMailboxName(r.mailbox())];
}
