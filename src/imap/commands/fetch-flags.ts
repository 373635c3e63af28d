// FETCH/UID FETCH of FLAGS and UID only   RFC9051 6.4.5, 6.4.9
// Answered from the selected view's compact state (selected.ts), with no store read per
// message: `UID FETCH 1:* (FLAGS)` of a 100,000-message mailbox is a loop over two typed
// arrays, each distinct flag list formatted once, written in large chunks with backpressure.
import type { FetchItem } from '../protocol/index.js';
import { flagsWithRecent, type ViewMessage } from '../selected.js';
import type { ImapSession } from '../session.js';

/** Messages per write: large enough that a big FETCH is a few hundred writes, small enough to keep memory flat. */
const CHUNK = 2000;

/** True when every item is FLAGS or UID: nothing but what the view holds. */
export function onlyFlagsAndUid(items: readonly FetchItem[]): boolean {
  return items.every((i) => i.type === 'simple' && (i.attr === 'FLAGS' || i.attr === 'UID'));
}

/**
 * Writes the FETCH responses for `msgs` from the view. The view first reads changes made
 * elsewhere (not yet announced: the numbering of `msgs` stays valid, RFC 9051 7.5.1), so
 * the flags are as fresh as a store read would give.
 */
export async function fetchFlagsFromView(s: ImapSession, msgs: readonly ViewMessage[], items: readonly FetchItem[]): Promise<void> {
  const view = s.view();
  await view.poll(s.services.store);
  const formatted = new Map<number, string>();
  const flagsText = (seq: number, uid: number): string => {
    const { set, flags } = view.flagSetOfSeq(seq);
    const recent = !s.rev2 && view.isRecent(uid);
    const key = set * 2 + (recent ? 1 : 0);
    let text = formatted.get(key);
    if (text === undefined) formatted.set(key, (text = `FLAGS ${flagsWithRecent(flags, recent, s.rev2)}`));
    return text;
  };
  const attrs = items.map((i) => (i.type === 'simple' ? i.attr : ''));
  for (let start = 0; start < msgs.length && !s.isClosed; start += CHUNK) {
    let out = '';
    for (let k = start; k < Math.min(msgs.length, start + CHUNK); k++) {
      const m = msgs[k];
      out += `* ${m.seq} FETCH (`;
      for (let a = 0; a < attrs.length; a++) {
        if (a > 0) out += ' ';
        out += attrs[a] === 'UID' ? `UID ${m.uid}` : flagsText(m.seq, m.uid);
      }
      out += ')\r\n';
    }
    s.send(out);
    if (s.needsDrain()) await s.drain();
  }
}
