// ESEARCH [IN (source-mbox)] [RETURN (opts)] [CHARSET x] keys   RFC7377 (MULTISEARCH), RFC4731 (ESEARCH),
// RFC9394 3.1 (PARTIAL), RFC5182 (SAVE), RFC9585 (INPROGRESS)
// Searches several mailboxes in one command, in authenticated or selected state. Each mailbox
// with matches gets one `* ESEARCH (TAG "t" MAILBOX "m" UIDVALIDITY n) UID ...` response; the
// whole command shares one search budget (imap.search_timeout_ms, NO [LIMIT] past it).
import { deviceWindowSince } from '../../auth/device-limits.js';
import type { Id, Mailbox } from '../../store/types.js';
import { resolveMailbox } from '../mailbox-access.js';
import { esearch, formatMailbox, parseMultiSearch, partialSlice, type PartialRange, type SearchReturnOption, type SearchSource } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import { withProgress } from '../progress.js';
import { MailboxView } from '../selected.js';
import type { ImapSession } from '../session.js';
import { SearchBudget } from './search-budget.js';
import { esearchData, saveResult, searchMatches, someKey, type Match } from './search.js';
import type { ImapCommand } from './types.js';

export const multisearch = {
  name: 'ESEARCH',
  states: ['authenticated', 'selected'], // RFC 7377 4: command-auth and command-select
  async run({ session: s, args, tag }) {
    const cmd = parseMultiSearch(args);
    const sources = cmd.sources ?? [{ kind: 'selected' }]; // RFC 7377 2.2: no IN means the selected mailbox
    const onlySelected = sources.every((x) => x.kind === 'selected');
    const selected = s.state.kind === 'selected' ? s.state.view : null;
    // RFC 7377 2.2: "selected" names the selected mailbox; without one it names nothing a client could mean
    if (!selected && sources.some((x) => x.kind === 'selected')) throw new ImapNo('No mailbox is selected for the "selected" source', 'CLIENTBUG', 'BAD');
    const opts = cmd.search.returnOptions ?? ['ALL'];
    // RFC 7377 2.2: SAVE keeps a result for the selected mailbox only
    if (opts.includes('SAVE') && !onlySelected) throw new ImapNo('SAVE needs the selected mailbox as the only source', 'CLIENTBUG', 'BAD');
    if (opts.includes('UPDATE')) throw new ImapNo('UPDATE is not available with ESEARCH; use UID SEARCH RETURN (UPDATE)', 'CLIENTBUG', 'BAD');
    // Sequence numbers and `$` mean messages of the selected mailbox, nowhere else
    if (!onlySelected && someKey(cmd.search.query, (k) => k.type === 'seq')) throw new ImapNo('Sequence numbers and $ apply to the selected mailbox only', 'CLIENTBUG', 'BAD');
    const withModSeq = someKey(cmd.search.query, (k) => k.type === 'modseq');
    if (withModSeq) s.condstore = true; // RFC 7162 3.1: a CONDSTORE enabling command
    const boxes = await mailboxesOf(s, sources);
    const budget = new SearchBudget(s.services.config.imap.search_timeout_ms);
    const shown = opts.filter((o): o is SearchReturnOption => o !== 'SAVE');
    await withProgress((l) => s.send(l), tag, s.services.config.imap.inprogress_ms, async (p) => {
      for (let i = 0; i < boxes.length; i++) {
        p.set(i, boxes.length);
        const box = boxes[i];
        const view = selected && selected.mailboxId === box.id ? selected : await openView(s, box, box.viewerId);
        const hits = await searchMatches(s, view, cmd.search.query, undefined, budget);
        if (opts.includes('SAVE')) view.saved = savedUids(hits, opts, cmd.search.partial) as typeof view.saved;
        if (hits.length === 0 || shown.length === 0) continue; // RFC 7377 2.1: mailboxes without matches are not reported
        const mailbox = { name: formatMailbox(box.name, s.utf8), uidValidity: view.uidValidity };
        s.send(esearch({ tag, mailbox, uid: true, ...esearchData(hits, shown, cmd.search.partial, true, withModSeq) }));
        if (s.needsDrain()) await s.drain();
      }
    });
  },
} as const satisfies ImapCommand;

/** RFC 5182 2.1, RFC 9394 3.1: what SAVE keeps: the PARTIAL window, or MIN/MAX alone, or all. */
function savedUids(hits: readonly Match[], opts: readonly SearchReturnOption[], partial: PartialRange | undefined): number[] {
  return partial ? partialSlice(hits, partial).map((h) => h.uid) : saveResult(opts, hits.map((h) => h.uid));
}

/** A read-only view of a mailbox other than the selected one, as this login's device sees it (hidden mail, window). */
function openView(s: ImapSession, box: Mailbox, viewerId: Id): Promise<MailboxView> {
  return MailboxView.open(s.services.store, box, viewerId, true, s.login?.device?.id ?? null, deviceWindowSince(s.login?.device?.settings));
}

/** A mailbox to search: `name` as the client knows it, `viewerId` whose \Seen it reads. */
type Searched = Mailbox & { viewerId: Id };

/**
 * The mailboxes the sources name, each once, in the order first named (RFC 7377 2.2: the
 * client should not name one twice). Names that do not exist are left out, as NOTIFY does;
 * another user's mailbox counts only with the right to read it (RFC 4314 `r`), and
 * personal/subscribed/subtree sources cover the user's own mailboxes.
 */
async function mailboxesOf(s: ImapSession, sources: readonly SearchSource[]): Promise<Searched[]> {
  const viewerId = s.viewerId();
  const all: Searched[] = (await s.services.store.listMailboxes(s.user().id)).map((b) => ({ ...b, viewerId }));
  const byName = new Map(all.map((b) => [b.name, b]));
  const out: Searched[] = [];
  const seen = new Set<number>();
  const add = (b: Searched | undefined | null) => {
    if (!b || seen.has(b.id)) return;
    seen.add(b.id);
    out.push(b);
  };
  const named = async (n: string): Promise<Searched | null> => {
    const own = byName.get(n);
    if (own) return own;
    const box = await resolveMailbox(s, n); // another user's, shared with this one
    return box && box.rights.includes('r') ? { ...box, viewerId: box.viewerId } : null;
  };
  for (const src of sources) {
    switch (src.kind) {
      case 'selected': {
        const view = s.state.kind === 'selected' ? s.state.view : null;
        if (view) add((await named(view.name)) ?? undefined);
        break;
      }
      case 'inboxes':
        add(byName.get('INBOX')); // RFC 5465 6: where new mail is delivered
        break;
      case 'personal':
        all.forEach(add);
        break;
      case 'subscribed':
        all.filter((b) => b.subscribed).forEach(add);
        break;
      case 'mailboxes':
        for (const n of src.names) add(await named(n));
        break;
      default:
        for (const n of src.names) {
          add(await named(n));
          // SUBTREE: every mailbox below; SUBTREE-ONE: the children only (RFC 7377 2.2)
          const below = all.filter((b) => b.name.startsWith(`${n}/`) && (src.kind === 'subtree' || !b.name.slice(n.length + 1).includes('/')));
          below.forEach(add);
        }
    }
  }
  return out;
}
