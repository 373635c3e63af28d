/**
 * RFC 5256 3 / RFC 5957 sort order over plain per-message facts, so the comparison is
 * table-testable without a store. Strings compare by i;ascii-casemap; ties fall back to
 * the next criterion and finally to mailbox order (sequence number), as the RFC requires.
 */
import type { SortCriterion, SortKey } from '../protocol/index.js';
import type { Address, Envelope } from '../../mime/types.js';
import { headerToText } from '../../mime/decode.js';
import { collationKey, baseSubject, compareOctets } from './base-subject.js';

/** What sorting needs of one message: all from the row and the stored MIME index. */
export interface SortFacts {
  seq: number;
  internalDate: number;
  /** Date: header parsed, ms UTC; null when missing or unparseable. */
  sentDate: number | null;
  size: number;
  envelope: Pick<Envelope, 'subject' | 'from' | 'to' | 'cc'>;
}

type Value = number | string;

// The first entry counts even when it opens a group (host NIL, mailbox the group name), as in Dovecot.

/** RFC 5256 3: addr-mailbox of the first address; "" when none. */
function mailbox(list: Address[] | null): string {
  const a = list?.[0];
  return a?.mailbox ? headerToText(a.mailbox) : '';
}

/** RFC 5957 7: the decoded display name of the first address, else its addr-spec. */
function display(list: Address[] | null): string {
  const a = list?.[0];
  if (!a) return '';
  const name = a.name ? headerToText(a.name).trim() : '';
  if (name) return name;
  if (!a.mailbox) return '';
  return a.host === null ? headerToText(a.mailbox) : `${headerToText(a.mailbox)}@${a.host}`;
}

export function sortValue(key: SortKey, m: SortFacts): Value {
  switch (key) {
    case 'ARRIVAL':
      return m.internalDate;
    case 'DATE':
      return m.sentDate ?? m.internalDate; // RFC 5256 3: no usable Date: header means INTERNALDATE
    case 'SIZE':
      return m.size;
    case 'SUBJECT':
      return collationKey(baseSubject(m.envelope.subject ? headerToText(m.envelope.subject) : ''));
    case 'FROM':
      return collationKey(mailbox(m.envelope.from));
    case 'TO':
      return collationKey(mailbox(m.envelope.to));
    case 'CC':
      return collationKey(mailbox(m.envelope.cc));
    case 'DISPLAYFROM':
      return collationKey(display(m.envelope.from));
    case 'DISPLAYTO':
      return collationKey(display(m.envelope.to));
  }
}

function compareValues(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareOctets(String(a), String(b));
}

/** The messages in SORT order; each key's value is computed once per message. */
export function sortMessages<T extends SortFacts>(messages: readonly T[], criteria: readonly SortCriterion[]): T[] {
  const keyed = messages.map((m) => ({ m, v: criteria.map((c) => sortValue(c.key, m)) }));
  keyed.sort((x, y) => {
    for (let i = 0; i < criteria.length; i++) {
      const d = compareValues(x.v[i], y.v[i]);
      if (d !== 0) return criteria[i].reverse ? -d : d;
    }
    return x.m.seq - y.m.seq; // RFC 5256 3: exact ties keep mailbox order, even under REVERSE
  });
  return keyed.map((k) => k.m);
}
