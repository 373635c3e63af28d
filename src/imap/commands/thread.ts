// THREAD / UID THREAD   RFC 5256 3 (ORDEREDSUBJECT, REFERENCES), draft-ietf-morg-inthread (REFS)
import { parseThread, type ThreadCommand } from '../protocol/index.js';
import { sortKeysOf } from '../sort-keys.js';
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
 * What threading needs of each matching message, from the keys the store keeps with each row
 * (sort-keys.ts): one query for a mailbox not threaded before, none for a repeated THREAD.
 */
async function threadFacts(s: ImapSession, view: MailboxView, cmd: ThreadCommand, uid: boolean, progress: Progress): Promise<ThreadFacts[]> {
  const matched = await searchMatches(s, view, cmd.query, progress);
  const keys = await sortKeysOf(s.services.store, view, matched.map((c) => c.uid), true);
  const facts: ThreadFacts[] = [];
  for (const c of matched) {
    const k = keys.get(c.uid);
    if (!k?.thread) continue; // expunged elsewhere meanwhile
    facts.push({ id: uid ? c.uid : c.seq, sentDate: k.sentDate ?? k.internalDate, ...k.thread });
  }
  return facts;
}
