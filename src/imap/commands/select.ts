// SELECT mailbox / EXAMINE mailbox   RFC9051 6.3.2-6.3.3, RFC3501 6.3.1-6.3.2
import { codes, formatFlagList, formatMailbox } from '../protocol/index.js';
import { MailboxView } from '../selected.js';
import type { ImapSession } from '../session.js';
import { mailboxObjectId, requireMailbox } from './util.js';
import type { Completion, ImapCommand, CommandContext } from './types.js';

async function open({ session: s, args }: CommandContext, readOnly: boolean): Promise<Completion> {
  const name = args.mailbox();
  args.end(); // select-params (CONDSTORE, QRESYNC) are not offered
  const user = s.user();
  if (s.state.kind === 'selected') {
    s.state = { kind: 'authenticated', user };
    if (s.rev2) s.send('* OK [CLOSED] Previous mailbox closed\r\n'); // RFC 9051 7.1: CLOSED before the new mailbox's data
  }
  const box = await requireMailbox(s, name); // a failed SELECT leaves no mailbox selected (RFC 9051 6.3.2)
  const view = await MailboxView.open(s.services.store, box.id, user.id, readOnly);
  sendSelectData(s, view, box.specialUse);
  s.state = { kind: 'selected', user, view };
  return { code: readOnly ? 'READ-ONLY' : 'READ-WRITE', text: `${readOnly ? 'EXAMINE' : 'SELECT'} completed` };
}

function sendSelectData(s: ImapSession, view: MailboxView, specialUse: string | null): void {
  const lines = [`* ${view.exists} EXISTS\r\n`];
  if (!s.rev2) lines.push(`* ${view.recentCount()} RECENT\r\n`); // RFC 3501 7.3.2; gone in rev2
  lines.push(`* FLAGS ${formatFlagList(view.flagList())}\r\n`);
  lines.push(`* OK [${codes.permanentFlags(view.permanentFlags())}] Flags permitted\r\n`);
  const unseen = view.firstUnseen();
  if (!s.rev2 && unseen > 0) lines.push(`* OK [${codes.unseen(unseen)}] First unseen\r\n`);
  lines.push(`* OK [${codes.uidValidity(view.uidValidity)}] UIDs valid\r\n`);
  lines.push(`* OK [${codes.uidNext(view.uidNext)}] Predicted next UID\r\n`);
  lines.push(`* OK [${codes.mailboxId(mailboxObjectId({ id: view.mailboxId, uidValidity: view.uidValidity }))}] Mailbox id\r\n`); // RFC 8474 4.2: MUST
  if (s.rev2) {
    // RFC 9051 6.3.2: the mailbox name in a LIST response
    const attrs = specialUse ? specialUse : '';
    lines.push(`* LIST (${attrs}) "/" ${formatMailbox(view.name, true)}\r\n`);
  }
  s.send(lines.join(''));
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
