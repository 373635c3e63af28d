// IDLE ... DONE   RFC2177, RFC9051 6.3.13
// A session waits on the change bus only: changes in this process ring it at once with the
// mailbox id; changes by other processes ring RECHECK from the ONE poller of the process
// (SQLite data_version, store/worker/poller.ts) or arrive by LISTEN/NOTIFY (PostgreSQL).
// No per-session fast poll (10,000 IDLE sessions polling every 500 ms were 20,000 queries/s);
// `imap.idle_poll_ms` (>= 30 s) is only a safety net bounding the delay of a lost doorbell.
import { ImapNo } from '../errors.js';
import type { ImapSession } from '../session.js';
import type { ImapCommand } from './types.js';

export const idle = {
  name: 'IDLE',
  states: ['authenticated', 'selected'],
  async run({ session: s, args }) {
    args.end();
    s.send('+ idling\r\n');
    s.idling = true;
    s.notifier?.afterCommand(); // what piled up before IDLE goes out now
    let busy: Promise<void> = Promise.resolve();
    const view = s.state.kind === 'selected' ? s.state.view : null;
    let lastModSeq = -1;
    // NOTIFY SELECTED: the notifier announces, also for another user's mailbox (it hears the owner's channel)
    const notifierAnnounces = () => !!s.notifier?.watchesSelected();
    const check = (force: boolean) => {
      if (notifierAnnounces()) return;
      busy = busy.then(() => push(s, force, lastModSeq).then((m) => void (lastModSeq = m))).catch(() => {});
    };
    // another user's mailbox rings on its owner's channel (mailbox-access.ts)
    const unsubscribe = s.services.bus.subscribe(view?.ownerId || s.user().id, (e) => {
      if (!view || notifierAnnounces()) return; // NOTIFY SELECTED: the notifier announces (notifier.ts)
      if (e.mailboxId === view.mailboxId) check(true);
      else if (e.kind === 'recheck') check(false); // someone else committed something: announce only if our mailbox moved
    });
    const timer = view ? setInterval(() => check(false), s.services.config.imap.idle_poll_ms) : null;
    try {
      const line = await s.readLine();
      if (line.trim().toUpperCase() !== 'DONE') throw new ImapNo('Expected DONE to end IDLE', 'CLIENTBUG', 'BAD'); // RFC 2177 3
    } finally {
      unsubscribe();
      if (timer) clearInterval(timer);
      await busy;
      await s.notifier?.settled(); // a notification under way is written before the tagged OK
      s.idling = false;
    }
    return { text: 'IDLE terminated' };
  },
} as const satisfies ImapCommand;

/**
 * Announces pending changes (EXPUNGE allowed: no command uses sequence numbers during IDLE).
 * A doorbell for our mailbox announces at once (the view's read is shared with every other
 * session rung by the same change: selected.ts); a RECHECK first compares HIGHESTMODSEQ.
 */
async function push(s: ImapSession, force: boolean, lastModSeq: number): Promise<number> {
  if (s.state.kind !== 'selected' || s.isClosed) return lastModSeq;
  const view = s.state.view;
  if (!force) {
    const box = await s.services.store.getMailboxById(view.mailboxId);
    const modSeq = box?.highestModSeq ?? -2;
    if (modSeq === lastModSeq || modSeq === view.highestModSeq) return modSeq;
  }
  await s.announce(true);
  return view.highestModSeq;
}
