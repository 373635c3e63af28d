// IDLE ... DONE   RFC2177, RFC9051 6.3.13
// Changes in this process ring the bus at once; changes by other processes (`mailroom deliver`,
// another node) are found by a cheap poll, so a client learns of either within a second.
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
    let busy: Promise<void> = Promise.resolve();
    let lastModSeq = -1;
    const check = (force: boolean) => {
      busy = busy.then(() => push(s, force, lastModSeq).then((m) => void (lastModSeq = m))).catch(() => {});
    };
    const view = s.state.kind === 'selected' ? s.state.view : null;
    const unsubscribe = s.services.bus.subscribe(s.user().id, (e) => {
      if (view && e.mailboxId === view.mailboxId) check(true);
    });
    const timer = view ? setInterval(() => check(false), s.services.config.imap.idle_poll_ms) : null;
    try {
      const line = await s.readLine();
      if (line.trim().toUpperCase() !== 'DONE') throw new ImapNo('Expected DONE to end IDLE', 'CLIENTBUG', 'BAD'); // RFC 2177 3
    } finally {
      unsubscribe();
      if (timer) clearInterval(timer);
      await busy;
      s.idling = false;
    }
    return { text: 'IDLE terminated' };
  },
} as const satisfies ImapCommand;

/** Announces pending changes (EXPUNGE allowed: no command uses sequence numbers during IDLE). */
async function push(s: ImapSession, force: boolean, lastModSeq: number): Promise<number> {
  if (s.state.kind !== 'selected' || s.isClosed) return lastModSeq;
  const box = await s.services.store.getMailboxById(s.state.view.mailboxId);
  const modSeq = box?.highestModSeq ?? -2;
  if (!force && modSeq === lastModSeq) return lastModSeq;
  await s.announce(true);
  return modSeq;
}
