// SELECT mailbox [SP "(" select-param ... ")"] / EXAMINE ...   RFC9051 6.3.2-6.3.3, RFC3501 6.3.1-6.3.2,
// RFC7162 3.1.8 (CONDSTORE), 3.2.5 (QRESYNC), 3.2.11 (CLOSED)
import { deviceWindowSince } from '../../auth/device-limits.js';
import type { Changes } from '../../store/types.js';
import { codes, formatFlagList, formatMailbox, parseSelectParams, seqSetHas, seqSetRanges, type QresyncParams, type SeqSet } from '../protocol/index.js';
import { fetchHead, flagsWithRecent, MailboxView, vanishedLines, withHidden } from '../selected.js';
import type { ImapSession } from '../session.js';
import { ImapNo } from '../errors.js';
import { mailboxObjectId, requireMailbox } from './util.js';
import type { Completion, ImapCommand, CommandContext } from './types.js';

async function open({ session: s, args }: CommandContext, examine: boolean): Promise<Completion> {
  const readOnly = examine || s.deviceReadOnly; // a read-only device's SELECT is an EXAMINE (RFC 9051 6.3.2 allows READ-ONLY)
  const name = args.mailbox();
  const params = parseSelectParams(args);
  // RFC 7162 3.2.5 MUST: the QRESYNC parameter only after ENABLE QRESYNC
  if (params.qresync && !s.qresync) throw new ImapNo('QRESYNC parameter without ENABLE QRESYNC', 'CLIENTBUG', 'BAD');
  // RFC 9586 3: sequence match data names message numbers
  if (params.qresync?.seqMatch && s.uidOnly) throw new ImapNo('Sequence match data is not allowed with UIDONLY', 'UIDREQUIRED', 'BAD');
  if (params.condstore) s.condstore = true; // RFC 7162 3.1.8: a CONDSTORE enabling command
  const user = s.user();
  if (s.state.kind === 'selected') {
    s.state = { kind: 'authenticated', user };
    // RFC 9051 7.1, RFC 7162 3.2.11: CLOSED before the new mailbox's data
    if (s.rev2 || s.qresync) s.send('* OK [CLOSED] Previous mailbox closed\r\n');
  }
  const box = await requireMailbox(s, name, 'NONEXISTENT', 'r'); // a failed SELECT leaves no mailbox selected (RFC 9051 6.3.2)
  // RFC 4314 4: without a right that changes the mailbox (s w t e), it can only be read
  const view = await MailboxView.open(s.services.store, box, box.viewerId, readOnly || !/[swte]/.test(box.rights), s.login?.device?.id ?? null, deviceWindowSince(s.login?.device?.settings));
  view.rights = box.rights;
  // RFC 7162 3.2.5.1: a different UIDVALIDITY makes the client's cache worthless; plain SELECT then
  const q = params.qresync?.uidValidity === view.uidValidity ? params.qresync : undefined;
  const changes = q ? await view.catchUp(s.services.store, q.modSeq) : undefined;
  sendSelectData(s, view, box.recentlyDeleted ? '\\Noinferiors' : box.specialUse);
  if (q && changes) s.send(resyncLines(s, view, q, changes).join(''));
  s.state = { kind: 'selected', user, view };
  return { code: view.readOnly ? 'READ-ONLY' : 'READ-WRITE', text: `${examine ? 'EXAMINE' : 'SELECT'} completed` };
}

function sendSelectData(s: ImapSession, view: MailboxView, specialUse: string | null): void {
  const lines = [`* ${view.exists} EXISTS\r\n`];
  if (!s.rev2) lines.push(`* ${view.recentCount()} RECENT\r\n`); // RFC 3501 7.3.2; gone in rev2
  lines.push(`* FLAGS ${formatFlagList(view.flagList())}\r\n`);
  lines.push(`* OK [${codes.permanentFlags(view.permanentFlags())}] Flags permitted\r\n`);
  const unseen = view.firstUnseen(); // a sequence number: never sent with UIDONLY (RFC 9586 3)
  if (!s.rev2 && !s.uidOnly && unseen > 0) lines.push(`* OK [${codes.unseen(unseen)}] First unseen\r\n`);
  lines.push(`* OK [${codes.uidValidity(view.uidValidity)}] UIDs valid\r\n`);
  lines.push(`* OK [${codes.uidNext(view.uidNext)}] Predicted next UID\r\n`);
  // RFC 7162 3.1.2.1: on every SELECT/EXAMINE, since every mailbox keeps MODSEQs (never NOMODSEQ)
  lines.push(`* OK [${codes.highestModSeq(view.highestModSeq)}] Highest\r\n`);
  lines.push(`* OK [${codes.mailboxId(mailboxObjectId({ id: view.mailboxId, uidValidity: view.uidValidity }))}] Mailbox id\r\n`); // RFC 8474 4.2: MUST
  lines.push(`* OK [URLMECH INTERNAL] URLAUTH mechanisms\r\n`); // RFC 4467 8 (BASE.7.1): on SELECT and EXAMINE
  if (s.rev2) {
    // RFC 9051 6.3.2: the mailbox name in a LIST response
    const attrs = specialUse ? specialUse : '';
    lines.push(`* LIST (${attrs}) "/" ${formatMailbox(view.name, true)}\r\n`);
  }
  s.send(lines.join(''));
}

/**
 * RFC 7162 3.2.5.1: `* VANISHED (EARLIER)` for known UIDs expunged after the client's MODSEQ,
 * then a FETCH (UID FLAGS MODSEQ) per known message changed after it. Work is proportional
 * to the changes, not to the mailbox, unless the expunge log was pruned past that MODSEQ.
 */
function resyncLines(s: ImapSession, view: MailboxView, q: QresyncParams, ch: Changes): string[] {
  const lastUid = view.uidNext - 1;
  const known = (uid: number) => !q.knownUids || seqSetHas(q.knownUids, uid, lastUid);
  const out = ch.expungedComplete
    ? vanishedLines(withHidden(view, ch.expunged).filter((u) => known(u) && view.seqOf(u) === 0), true)
    : vanishedRangeLines(absentRanges(view, q.knownUids)); // hidden UIDs are absent from the view, so in the ranges
  for (const row of ch.changed) {
    const seq = view.seqOf(row.uid);
    if (seq === 0 || row.modSeq <= q.modSeq || !known(row.uid)) continue;
    const data = `FLAGS ${flagsWithRecent(view.flagsOf(row.uid), view.isRecent(row.uid), s.rev2)} MODSEQ (${row.modSeq}))\r\n`;
    out.push(s.uidOnly ? `${fetchHead({ seq, uid: row.uid }, true)}${data}` : `* ${seq} FETCH (UID ${row.uid} ${data}`);
  }
  return out;
}

/**
 * The known UIDs (all below UIDNEXT when none were given) that are not in the mailbox, as
 * ranges: the answer when tombstones after the client's MODSEQ were pruned. It may name UIDs
 * the client already saw vanish, which RFC 7162 3.2.5.2 allows. One pass over the UIDs.
 */
function absentRanges(view: MailboxView, knownUids: SeqSet | undefined): [number, number][] {
  const lastUid = view.uidNext - 1;
  const uids = view.allUids();
  const out: [number, number][] = [];
  let i = 0;
  for (const [lo, high] of knownUids ? seqSetRanges(knownUids, lastUid) : [[1, lastUid]]) {
    const hi = Math.min(high, lastUid);
    while (i < uids.length && uids[i] < lo) i++;
    for (let next = lo; next <= hi; i++) {
      const present = i < uids.length ? uids[i] : Infinity;
      if (present > hi) {
        out.push([next, hi]);
        break;
      }
      if (present > next) out.push([next, present - 1]);
      next = present + 1;
    }
  }
  return out;
}

/** `* VANISHED (EARLIER) a:b,c` lines of at most 1000 ranges each. */
function vanishedRangeLines(ranges: [number, number][]): string[] {
  const out: string[] = [];
  for (let i = 0; i < ranges.length; i += 1000) {
    const set = ranges.slice(i, i + 1000).map(([a, b]) => (a === b ? `${a}` : `${a}:${b}`));
    out.push(`* VANISHED (EARLIER) ${set.join(',')}\r\n`);
  }
  return out;
}

export const select = {
  name: 'SELECT',
  states: ['authenticated', 'selected'],
  run: (ctx) => open(ctx, false),
} as const satisfies ImapCommand;

export const examine = {
  name: 'EXAMINE',
  states: ['authenticated', 'selected'],
  run: (ctx) => open(ctx, true),
} as const satisfies ImapCommand;
