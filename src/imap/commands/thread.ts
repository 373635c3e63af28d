// THREAD / UID THREAD   RFC 5256 3 (ORDEREDSUBJECT, REFERENCES), draft-ietf-morg-inthread (REFS)
import { parseThread, type ThreadCommand } from '../protocol/index.js';
import type { MessageRow, Uid } from '../../store/types.js';
import { headerToText } from '../../mime/decode.js';
import { cachedContent } from '../content-cache.js';
import { withProgress, type Progress } from '../progress.js';
import type { MailboxView } from '../selected.js';
import type { ImapSession } from '../session.js';
import { formatThreads, threadOrderedSubject, threadReferences, type ThreadFacts } from '../sort/thread.js';
import { threadRefs } from '../sort/thread-refs.js';
import { searchMatches } from './search.js';
import type { ImapCommand } from './types.js';

export const thread = {
  name: 'THREAD',
  states: ['selected'],
  usesSeqs: true,
  async run({ session: s, args, uid, tag }) {
    const cmd = parseThread(args);
    const view = s.view();
    const facts = await withProgress((l) => s.send(l), tag, s.services.config.imap.inprogress_ms, (p) => threadFacts(s, view, cmd, uid, p));
    const roots = cmd.algorithm === 'REFERENCES' ? threadReferences(facts) : cmd.algorithm === 'REFS' ? threadRefs(facts) : threadOrderedSubject(facts);
    s.send(`* THREAD${roots.length ? ` ${formatThreads(roots)}` : ''}\r\n`);
  },
} as const satisfies ImapCommand;

/** What threading needs of each matching message; the header reads are the slow part, reported as progress. */
async function threadFacts(s: ImapSession, view: MailboxView, cmd: ThreadCommand, uid: boolean, progress: Progress): Promise<ThreadFacts[]> {
  const store = s.services.store;
  const matched = await searchMatches(s, view, cmd.query, progress);
  const missing = matched.filter((c) => c.row === null).map((c) => c.uid as Uid);
  const fetched = missing.length ? new Map((await store.getMessages(view.mailboxId, missing, s.viewerId())).map((r) => [r.uid as number, r])) : new Map<number, MessageRow>();
  const facts: ThreadFacts[] = [];
  for (const [i, c] of matched.entries()) {
    progress.set(i, matched.length);
    const row = c.row ?? fetched.get(c.uid);
    if (!row) continue; // expunged elsewhere meanwhile
    // References is not in the MIME index; the header lines are (cached process-wide)
    const meta = await cachedContent(store, row.contentId);
    const env = meta?.index.envelope;
    facts.push({
      id: uid ? c.uid : c.seq,
      sentDate: meta?.index.sentDate ?? row.internalDate.getTime(),
      subject: env?.subject ? headerToText(env.subject) : '',
      messageId: env?.messageId ?? null,
      inReplyTo: env?.inReplyTo ?? null,
      references: meta ? referencesOf(meta.headerText) : null,
    });
  }
  return facts;
}

/** The first References line of the decoded header lines. */
function referencesOf(headerText: string): string | null {
  for (const line of headerText.split('\n')) {
    if (line.length > 11 && line.slice(0, 11).toLowerCase() === 'references:') return line.slice(11);
  }
  return null;
}
