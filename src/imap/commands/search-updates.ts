// SEARCH/SORT RETURN (UPDATE) and CANCELUPDATE   RFC 5267 4 (CONTEXT=SEARCH, CONTEXT=SORT)
import { ImapNo } from '../errors.js';
import { formatString } from '../protocol/index.js';
import { contextUpdate, MAX_CONTEXTS, type SearchContext } from '../search-context.js';
import type { MailboxView } from '../selected.js';
import type { ImapSession } from '../session.js';
import { searchMatches } from './search.js';
import { sortedMatches } from './sort.js';
import type { ImapCommand } from './types.js';

/**
 * Remembers a context on the view (it ends with the view: another SELECT, CLOSE, UNSELECT).
 * Updates are kept for UID SEARCH/SORT only: sequence numbers in a live result would shift
 * with every expunge, so a plain SEARCH gets `NO [NOUPDATE "tag"]` (RFC 5267 4.3.1) and its
 * result as usual.
 */
export function registerContext(s: ImapSession, view: MailboxView, ctx: SearchContext & { uid: boolean }): void {
  const refuse = (why: string) => s.send(`* NO [NOUPDATE ${formatString(ctx.tag)}] ${why}\r\n`);
  if (!ctx.uid) return refuse('Updates are sent for UID SEARCH and UID SORT only');
  if (!view.contexts.has(ctx.tag) && view.contexts.size >= MAX_CONTEXTS) return refuse(`At most ${MAX_CONTEXTS} contexts per mailbox`);
  view.contexts.set(ctx.tag, { tag: ctx.tag, query: ctx.query, sort: ctx.sort, uids: ctx.uids });
}

/** The ESEARCH ADDTO/REMOVEFROM lines for every context whose result changed; each context then holds the new result. */
export async function contextUpdateLines(s: ImapSession, view: MailboxView): Promise<string[]> {
  const out: string[] = [];
  for (const ctx of view.contexts.values()) {
    const now = ctx.sort ? (await sortedMatches(s, view, ctx.query, ctx.sort)).map((m) => m.uid) : (await searchMatches(s, view, ctx.query)).map((m) => m.uid);
    const line = contextUpdate(ctx, ctx.uids, now);
    ctx.uids = now;
    if (line) out.push(line);
  }
  return out;
}

export const cancelupdate = {
  name: 'CANCELUPDATE',
  states: ['selected'],
  async run({ session: s, args }) {
    const tags = [args.string('context tag')];
    while (args.optionalSp()) tags.push(args.string('context tag'));
    args.end();
    const view = s.view();
    const unknown = tags.filter((t) => !view.contexts.has(t));
    if (unknown.length) throw new ImapNo(`No context with tag ${formatString(unknown[0].slice(0, 40))}`, 'CLIENTBUG');
    for (const t of tags) view.contexts.delete(t);
  },
} as const satisfies ImapCommand;
