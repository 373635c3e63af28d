// SEARCH/UID SEARCH by flags alone, plain answer   RFC9051 6.4.4, RFC3501 7.2.5
// `SEARCH UNSEEN` of a 100,000-message mailbox: the verdict depends on a message's flag
// list alone, and a mailbox has a handful of distinct lists (message-columns.ts), so each
// list is judged once and the answer is a loop over the view's columns writing numbers as
// bytes: no candidate lists, no match objects, no string of 60,000 numbers to join.
import type { SearchKey } from '../protocol/index.js';
import type { MailboxView } from '../selected.js';
import type { ImapSession } from '../session.js';
import { INT_BYTES, writeInt } from '../ascii-bytes.js';
import { hasFlag } from './search-eval.js';

const HEAD = Buffer.from('* SEARCH', 'latin1');

/** True when the verdict on a message depends on its flag list alone: ALL and flags (not \Recent, the session's) under AND, OR, NOT. */
export function flagsOnlyQuery(key: SearchKey): boolean {
  switch (key.type) {
    case 'all':
      return true;
    case 'and':
      return key.keys.every(flagsOnlyQuery);
    case 'or':
      return flagsOnlyQuery(key.left) && flagsOnlyQuery(key.right);
    case 'not':
      return flagsOnlyQuery(key.key);
    case 'flag':
      return key.flag !== '\\Recent';
    default:
      return false;
  }
}

/** The verdict of a flags-only query (`flagsOnlyQuery`) on one flag list, as search-eval's `matches` gives it. */
function verdict(key: SearchKey, flags: readonly string[]): boolean {
  switch (key.type) {
    case 'and':
      return key.keys.every((k) => verdict(k, flags));
    case 'or':
      return verdict(key.left, flags) || verdict(key.right, flags);
    case 'not':
      return !verdict(key.key, flags);
    case 'flag':
      return hasFlag(flags, key.flag) === key.present; // keywords compare case-insensitively (RFC 9051 2.3.2)
    default:
      return true; // ALL
  }
}

/**
 * `* SEARCH n…\r\n` for a flags-only query, numbers by UID or by sequence, in sequence
 * order. The view first reads changes made elsewhere (flags as fresh as a store read); a
 * message expunged elsewhere and not yet announced keeps its number but is no match, as the
 * general search leaves it out (a store read would not find it).
 */
export async function searchFlagsAnswer(s: ImapSession, view: MailboxView, query: SearchKey, byUid: boolean): Promise<Buffer> {
  await view.poll(s.services.store);
  const verdicts = new Uint8Array(view.flagSetCount());
  for (let set = 0; set < verdicts.length; set++) verdicts[set] = verdict(query, view.flagsOfSet(set)) ? 1 : 0;
  const pending = !view.settled(); // usually nothing: no per-message lookup then
  const n = view.exists;
  const out = Buffer.allocUnsafe(HEAD.length + n * (INT_BYTES + 1) + 2);
  let pos = HEAD.copy(out, 0);
  for (let seq = 1; seq <= n; seq++) {
    if (verdicts[view.flagSetIdOfSeq(seq)] === 0) continue;
    const uid = view.uidAt(seq);
    if (pending && view.isExpungedPending(uid)) continue;
    out[pos++] = 0x20;
    pos = writeInt(out, pos, byUid ? uid : seq);
  }
  out[pos++] = 0x0d;
  out[pos++] = 0x0a;
  return out.subarray(0, pos);
}
