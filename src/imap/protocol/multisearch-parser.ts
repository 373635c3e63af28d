/**
 * ESEARCH command arguments (RFC 7377 4): `[IN (source-mbox [(scope-options)])] [RETURN (...)]
 * [CHARSET x] search-program`. The source filters are NOTIFY's (RFC 5465 6) as RFC 7377 2.2
 * changes them: no SELECTED-DELAYED, plus SUBTREE-ONE. No scope option is defined, so any is BAD.
 */
import type { ArgReader } from './arg-reader.js';
import { oneOrMoreMailbox } from './notify-parser.js';
import { parseSearch, type SearchCommand } from './search-parser.js';

export type SearchSource =
  | { kind: 'selected' | 'inboxes' | 'personal' | 'subscribed' }
  | { kind: 'subtree' | 'subtree-one' | 'mailboxes'; names: string[] };

export interface MultiSearchCommand {
  /** Where to search, in the order given; null when IN was left out (the selected mailbox, RFC 7377 2.2). */
  sources: SearchSource[] | null;
  search: SearchCommand;
}

export function parseMultiSearch(r: ArgReader): MultiSearchCommand {
  let sources: SearchSource[] | null = null;
  if (r.peekAtom()?.toUpperCase() === 'IN') {
    r.atom();
    r.sp('after IN');
    sources = sourceOptions(r);
    r.sp('after the source options');
  }
  return { sources, search: parseSearch(r, { esearch: true }) };
}

function sourceOptions(r: ArgReader): SearchSource[] {
  r.expect('(', 'to open the source options');
  const out: SearchSource[] = [];
  for (;;) {
    if (r.peekByte() === 0x28) throw r.error('Unknown scope option (none is defined)'); // RFC 7377 2.2
    out.push(source(r));
    if (!r.accept(' ')) break;
  }
  r.expect(')', 'to close the source options');
  return out;
}

function source(r: ArgReader): SearchSource {
  const word = r.atom('mailbox filter').toUpperCase();
  switch (word) {
    case 'SELECTED':
      return { kind: 'selected' };
    case 'INBOXES':
      return { kind: 'inboxes' };
    case 'PERSONAL':
      return { kind: 'personal' };
    case 'SUBSCRIBED':
      return { kind: 'subscribed' };
    case 'SUBTREE':
    case 'SUBTREE-ONE':
    case 'MAILBOXES': {
      r.sp(`after ${word}`);
      return { kind: word === 'SUBTREE' ? 'subtree' : word === 'SUBTREE-ONE' ? 'subtree-one' : 'mailboxes', names: oneOrMoreMailbox(r) };
    }
    default:
      // SELECTED-DELAYED means nothing for a search (RFC 7377 2.2)
      throw r.error(`Unknown mailbox filter ${word.slice(0, 30)}`);
  }
}
