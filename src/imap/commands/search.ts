// SEARCH [RETURN (opts)] [CHARSET x] keys   RFC9051 6.4.4, RFC3501 6.4.4, RFC4731 (ESEARCH), RFC5182 (SEARCHRES)
import type { MessageRow } from '../../store/types.js';
import { esearch, parseSearch, type SearchKey, type SearchReturnOption } from '../protocol/index.js';
import type { MailboxView } from '../selected.js';
import type { ImapSession } from '../session.js';
import { ContentCache, matches } from './search-eval.js';
import type { ImapCommand } from './types.js';

export const search = {
  name: 'SEARCH',
  states: ['selected'],
  usesSeqs: true,
  async run({ session: s, args, uid, tag }) {
    const cmd = parseSearch(args, { esearch: true });
    const view = s.view();
    const uids = view.allUids().slice(); // the numbering the client knows: taken before changes are read
    const byUid = await candidateRows(s, view, uids, cmd.query);
    const env = { view, contents: new ContentCache(s.services.store), max: view.exists, savedSeqs: savedSeqs(view) };
    const hits: { seq: number; uid: number }[] = [];
    for (let i = 0; i < uids.length; i++) {
      const row = byUid.get(uids[i]);
      if (!row) continue; // expunged elsewhere, not yet announced
      if (await matches(cmd.query, { seq: i + 1, row }, env)) hits.push({ seq: i + 1, uid: uids[i] });
    }
    const numbers = hits.map((h) => (uid ? h.uid : h.seq));
    const opts = cmd.returnOptions ?? (s.rev2 ? ['ALL'] : undefined); // RFC 9051 6.4.4: rev2 answers ESEARCH
    if (!opts) {
      s.send(`* SEARCH${numbers.map((n) => ` ${n}`).join('')}\r\n`);
      return;
    }
    if (opts.includes('SAVE')) view.saved = saveResult(opts, hits.map((h) => h.uid)) as typeof view.saved; // RFC 5182 2.1
    const shown: SearchReturnOption[] = opts.filter((o) => o !== 'SAVE');
    if (shown.length === 0 && cmd.returnOptions) return; // SAVE alone: no ESEARCH response
    const has = (o: SearchReturnOption) => shown.includes(o);
    s.send(
      esearch({
        tag,
        uid,
        min: has('MIN') && numbers.length ? Math.min(...numbers) : undefined,
        max: has('MAX') && numbers.length ? Math.max(...numbers) : undefined,
        count: has('COUNT') ? numbers.length : undefined,
        all: has('ALL') ? numbers : undefined,
      }),
    );
  },
} as const satisfies ImapCommand;

/**
 * The current row of every message of the view not expunged elsewhere. After one read of the
 * changes since the view's last look, the rows the view remembers are current in every field a
 * key reads but MODSEQ, so only a MODSEQ key or a view that does not remember every row
 * (a big mailbox) loads the mailbox's rows from the store.
 */
async function candidateRows(s: ImapSession, view: MailboxView, uids: readonly number[], query: SearchKey): Promise<Map<number, MessageRow>> {
  if (!usesModSeq(query)) {
    await view.poll(s.services.store); // records changes only; numbering moves at the announcement (RFC 9051 7.5.1)
    const out = new Map<number, MessageRow>();
    for (const uid of uids) {
      if (view.isExpungedPending(uid)) continue;
      const row = view.rememberedRow(uid);
      if (!row) break;
      out.set(uid, row);
    }
    if (out.size === uids.filter((u) => !view.isExpungedPending(u)).length) return out;
  }
  const rows = await s.services.store.listMessages(view.mailboxId, s.user().id);
  return new Map(rows.map((r) => [r.uid as number, r]));
}

function usesModSeq(key: SearchKey): boolean {
  switch (key.type) {
    case 'modseq':
      return true;
    case 'and':
      return key.keys.some(usesModSeq);
    case 'or':
      return usesModSeq(key.left) || usesModSeq(key.right);
    case 'not':
      return usesModSeq(key.key);
    default:
      return false;
  }
}

/** RFC 5182 2.1: with SAVE plus only MIN and/or MAX, just those are saved. */
function saveResult(opts: readonly SearchReturnOption[], uids: number[]): number[] {
  if (opts.includes('ALL') || opts.includes('COUNT') || !(opts.includes('MIN') || opts.includes('MAX'))) return uids;
  const out: number[] = [];
  if (uids.length && opts.includes('MIN')) out.push(uids[0]);
  if (uids.length && opts.includes('MAX') && !out.includes(uids[uids.length - 1])) out.push(uids[uids.length - 1]);
  return out;
}

function savedSeqs(view: MailboxView): number[] {
  return view.saved.map((u) => view.seqOf(u)).filter((n) => n > 0);
}
