// THREAD / UID THREAD   RFC 5256 3 (ORDEREDSUBJECT, REFERENCES), draft-ietf-morg-inthread (REFS)
import { parseThread, type ThreadCommand } from '../protocol/index.js';
import type { MessageRow, Uid } from '../../store/types.js';
import { contentIdsOf } from '../content-ids.js';
import { threadHeadersOf } from '../thread-headers.js';
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

/**
 * What threading needs of each matching message: content ids and thread headers from the
 * process-wide maps (content-ids.ts, thread-headers.ts), so a repeated THREAD reads no row
 * and no content; rows only for messages without a usable Date: header (INTERNALDATE then).
 * The first reads of a big mailbox's headers are the slow part, reported as progress.
 */
async function threadFacts(s: ImapSession, view: MailboxView, cmd: ThreadCommand, uid: boolean, progress: Progress): Promise<ThreadFacts[]> {
  const store = s.services.store;
  const matched = await searchMatches(s, view, cmd.query, progress);
  const contentIds = new Map<number, string>();
  const unknown: Uid[] = [];
  for (const c of matched) {
    if (c.row) contentIds.set(c.uid, c.row.contentId);
    else unknown.push(c.uid as Uid);
  }
  if (unknown.length) for (const [u, id] of await contentIdsOf(store, view, unknown, s.viewerId())) contentIds.set(u, id);
  const headers = await threadHeadersOf(store, [...contentIds.values()], (done, total) => progress.set(done, total));
  const headersOf = (c: (typeof matched)[number]) => headers.get(contentIds.get(c.uid) ?? '');
  const undated = matched.filter((c) => !c.row && headersOf(c)?.sentDate === null).map((c) => c.uid as Uid);
  const rows = new Map<number, MessageRow>(matched.filter((c) => c.row).map((c) => [c.uid, c.row!]));
  if (undated.length) for (const r of await store.getMessages(view.mailboxId, undated, s.viewerId())) rows.set(r.uid, r);
  const facts: ThreadFacts[] = [];
  for (const c of matched) {
    const h = headersOf(c);
    const sentDate = h?.sentDate ?? rows.get(c.uid)?.internalDate.getTime();
    if (!h || sentDate === undefined) continue; // expunged elsewhere meanwhile
    facts.push({ id: uid ? c.uid : c.seq, sentDate, subject: h.subject, messageId: h.messageId, inReplyTo: h.inReplyTo, references: h.references });
  }
  return facts;
}
