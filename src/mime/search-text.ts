/**
 * The text SEARCH TEXT / BODY match against (RFC 9051 6.4.4): decoded header values
 * (RFC 2047 words, charsets) then decoded text parts, attachments included (transfer
 * encoding, charset, HTML stripped), as one UTF-8 string computed once at delivery.
 */
import type { Address, MessageIndex } from './types.js';
import { readHeaderBlock } from './header-block.js';
import { headerToText } from './decode.js';
import { leafParts, partText } from './text-parts.js';

/**
 * Cap on the stored search text. 1 MiB holds every real text body we have seen (a
 * novel is ~500 KiB) while bounding the row size and SEARCH time for mail whose "text"
 * is really a huge generated log; the rest of such a body is not searchable.
 */
export const SEARCH_TEXT_MAX = 1024 * 1024;

/** Header text and body text joined by a blank line; at most SEARCH_TEXT_MAX characters. */
export function searchText(raw: Buffer, index: MessageIndex): string {
  const headers = readHeaderBlock(raw, 0, null).fields;
  const parts: string[] = [];
  let total = 0;
  const add = (s: string): boolean => {
    parts.push(s);
    total += s.length + 1;
    return total < SEARCH_TEXT_MAX;
  };
  for (const f of headers) {
    if (f.value !== null && !add(`${f.name}: ${headerToText(f.value.replace(/\n/g, ''))}`)) break;
  }
  if (total < SEARCH_TEXT_MAX) add('');
  for (const part of leafParts(index.body)) {
    if (total >= SEARCH_TEXT_MAX) break;
    // Every text part, attachments too (a .txt or .csv attachment is text a user searches for),
    // as Dovecot's SEARCH BODY/TEXT does; binary parts are never decoded into the search text.
    if (part.type !== 'text') continue;
    const text = partText(raw, part, SEARCH_TEXT_MAX * 4);
    if (text !== null) add(text);
  }
  return parts.join('\n').slice(0, SEARCH_TEXT_MAX);
}

/**
 * An ENVELOPE address list as SEARCH FROM/TO/CC/BCC match it (RFC 9051 6.4.4: the string is
 * compared with the address, not with the header's spelling): one line per address,
 * `display name <mailbox@host>` with encoded words and 8-bit text decoded, comments and
 * whitespace gone (they are not in the parsed address); group names on lines of their own.
 */
export function addressSearchText(list: readonly Address[] | null): string {
  if (!list) return '';
  const lines: string[] = [];
  for (const a of list) {
    if (a.host === null) {
      if (a.mailbox !== null) lines.push(headerToText(a.mailbox)); // group start: its display name
      continue;
    }
    const name = a.name === null ? '' : `${headerToText(a.name)} `;
    lines.push(`${name}<${headerToText(a.mailbox ?? '')}@${headerToText(a.host)}>`);
  }
  return lines.join('\n');
}
