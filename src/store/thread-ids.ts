/**
 * What RFC 5256 threading (THREAD=REFERENCES, THREAD=REFS, ORDEREDSUBJECT) needs of one
 * message, reduced to its essentials: the Subject, its own msg-id and the parent chain
 * (References, else the first msg-id of In-Reply-To). Part of the store contract
 * (Store.sortKeys): computed once per content at delivery (store/core/sort-keys.ts) and by
 * THREAD's table tests, with the same function, so both give the same threads.
 * Never imports: anything but types. The subject stays as the header has it (RFC 2047
 * words undecoded): decoding needs the charset tables, which a one-shot CLI command that
 * opens the store must not load; THREAD decodes it (imap/sort-keys.ts).
 */
import type { MessageIndex } from '../mime/types.js';

export interface ThreadIds {
  /** Subject as the header has it ('' when none); decoded by the reader. */
  subject: string;
  /** The first msg-id of Message-ID, without angle brackets; null when none. */
  messageId: string | null;
  /** RFC 5256 step 1: References' msg-ids in order, else In-Reply-To's first one; oldest first. */
  parents: string[];
}

/** The msg-ids of a Message-ID/References/In-Reply-To value: `<...>` with an `@` inside; anything else skipped. */
export function parseMessageIds(value: string | null): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const m of value.matchAll(/<([^<>\s]*)>/g)) {
    if (m.index > 0 && value[m.index - 1] === '<') continue; // "<<id>" is not a msg-id (Dovecot agrees)
    if (m[1].includes('@')) out.push(m[1]);
  }
  return out;
}

/** The thread ids of raw header values (Message-ID, In-Reply-To, References as the header says them). */
export function threadIdsOf(subject: string, messageId: string | null, inReplyTo: string | null, references: string | null): ThreadIds {
  const refs = parseMessageIds(references);
  return { subject, messageId: parseMessageIds(messageId)[0] ?? null, parents: refs.length ? refs : parseMessageIds(inReplyTo).slice(0, 1) };
}

/**
 * The thread ids of a stored content: Subject, Message-ID and In-Reply-To from its MIME
 * index, References (not in the index) from the decoded header lines that open its
 * search text (mime/search-text.ts): the first `References:` line.
 */
export function threadIdsOfContent(index: MessageIndex, searchText: string): ThreadIds {
  const env = index.envelope;
  return threadIdsOf(env.subject ?? '', env.messageId ?? null, env.inReplyTo ?? null, referencesOf(searchText));
}

function referencesOf(searchText: string): string | null {
  const cut = searchText.indexOf('\n\n');
  const headerText = cut < 0 ? searchText : searchText.slice(0, cut);
  for (const line of headerText.split('\n')) {
    if (line.length > 11 && line.slice(0, 11).toLowerCase() === 'references:') return line.slice(11);
  }
  return null;
}
