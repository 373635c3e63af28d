// APPEND mailbox [SP flag-list] [SP date-time] SP literal   RFC9051 6.3.12, RFC4315 3 (APPENDUID),
// RFC7888 (LITERAL+), RFC7889 (APPENDLIMIT), RFC3516 4.4 (literal8), RFC6855 4 (UTF8 (literal8)), RFC3502 (MULTIAPPEND),
// RFC4469 (CATENATE)
import { ingest, type Ingested } from '../../ingest.js';
import { MessageSource } from '../../mail/message-source.js';
import { isStoreError } from '../../store/errors.js';
import { codes, isUndecodableName, normalizeMailboxName, type ArgReader, type Literal } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import { SpoolSink } from '../session.js';
import type { Completion, ImapCommand } from './types.js';
import type { ImapSession } from '../session.js';
import { refuseRecentlyDeleted, requireRights } from './util.js';
import { permittedFlags, resolveMailbox, type AccessibleMailbox } from '../mailbox-access.js';
import { appendDuplicateOf } from '../../mail/sent-copies.js';
import { resendGuardOf } from '../../mail/resend-guard.js';
import type { Uid } from '../../store/types.js';
import { seedContent } from '../content-cache.js';
import { warnQuota } from './util.js';
import { catenatedSource, parseCatenate, type CatPart } from './catenate.js';

/** The message: a literal (literal8 allowed), or with UTF8=ACCEPT enabled `UTF8 (literal8)` (RFC 6855 4). */
function messageLiteral(args: ArgReader, utf8Accept: boolean): Literal {
  if (args.peekAtom()?.toUpperCase() !== 'UTF8') return args.literal({ binary: true });
  if (!utf8Accept) throw args.error('APPEND ... UTF8 needs ENABLE UTF8=ACCEPT first');
  args.atom();
  args.sp('after UTF8');
  args.expect('(', 'before the UTF8 message');
  if (!args.peekLiteral()?.binary) throw args.error('UTF8 takes a literal8 (~{n})');
  const lit = args.literal({ binary: true });
  args.expect(')', 'after the UTF8 message');
  return lit;
}

/** One message of an APPEND: its flags, date and literal (RFC 3502 2: MULTIAPPEND repeats these). */
export interface AppendItem {
  flags: string[];
  date: Date | undefined;
  /** The message literal, or null when the message is built by CATENATE. */
  lit: Literal | null;
  catenate?: CatPart[];
}

/** `catenate`: APPEND takes `CATENATE (...)` in place of the literal (RFC 4469 5); REPLACE does not. */
export function parseItem(args: ArgReader, utf8Accept = false, catenate = false): AppendItem {
  let flags: string[] = [];
  if (args.peekByte() === 0x28) {
    flags = args.flagList();
    args.sp('after flag list');
  }
  let date: Date | undefined;
  if (args.peekByte() === 0x22) {
    date = args.dateTime();
    args.sp('after date-time');
  }
  if (catenate && args.peekAtom()?.toUpperCase() === 'CATENATE') return { flags, date, lit: null, catenate: parseCatenate(args) };
  return { flags, date, lit: messageLiteral(args, utf8Accept) };
}

/** The literal as a message source (the spool file of a big one, the bytes of a small one). */
export async function sourceOf(lit: Literal | null): Promise<MessageSource> {
  if (!lit) throw new ImapNo('Message could not be read', 'CANNOT');
  if (lit.size === 0) throw new ImapNo('Empty message', 'CANNOT');
  if (lit.sink instanceof SpoolSink) {
    await lit.sink.finished;
    // The literal's spool is the message's one copy on disk; the session removes it after the command.
    return MessageSource.fromFile(lit.sink.path, lit.size, { hash: lit.sink.sha256(), immutable: true });
  }
  if (lit.data) return MessageSource.fromBuffer(lit.data);
  throw new ImapNo('Message could not be read', 'CANNOT');
}

export const append = {
  name: 'APPEND',
  states: ['authenticated', 'selected'],
  async run({ session: s, args }) {
    const name = normalizeMailboxName(args.mailbox());
    args.sp('after mailbox name');
    const items = [parseItem(args, s.utf8Accept, true)];
    while (args.optionalSp()) items.push(parseItem(args, s.utf8Accept, true)); // RFC 3502 MULTIAPPEND
    args.end();
    // RFC 9051 6.3.12: TRYCREATE unless the mailbox certainly cannot be created (an undecodable name)
    if (isUndecodableName(name)) throw new ImapNo('Mailbox name is not valid modified UTF-7', 'NONEXISTENT');
    const box = await resolveMailbox(s, name);
    if (!box) throw new ImapNo('Mailbox does not exist', 'TRYCREATE'); // RFC 9051 6.3.12 MUST
    refuseRecentlyDeleted(box, 'APPEND');
    requireRights(box, 'i'); // RFC 4314 4: APPEND needs i; flags without their right are dropped
    for (const item of items) item.flags = permittedFlags(box.rights, item.flags);
    const sources: MessageSource[] = [];
    try {
      for (const item of items) sources.push(await itemSource(s, item)); // in order: the first bad URL is the one reported
      return await (items.length > 1 ? multiAppend(s, box, items, sources) : appendOne(s, box, items[0], sources[0]));
    } finally {
      for (const source of sources) await source.dispose();
    }
  },
} as const satisfies ImapCommand;

/** The message of one APPEND item: its literal, or the CATENATE result (NO [BADURL] / [TOOBIG]). */
function itemSource(s: ImapSession, item: AppendItem): Promise<MessageSource> {
  return item.catenate ? catenatedSource(s, item.catenate) : sourceOf(item.lit);
}

async function appendOne(s: ImapSession, box: AccessibleMailbox, { flags, date, lit }: AppendItem, source: MessageSource): Promise<Completion> {
  const store = s.services.store;
  let ingested: Ingested = await ingest(store, source, { ...s.services.delivery.ingest, maxSize: s.services.config.imap.max_literal_size });
  // A client saving its own copy of a message the server already filed at submission (src/mail/sent-copies.ts).
  const dup = await appendDuplicateOf(store, s.user().id, box, ingested.index, source);
  if (dup !== null) {
    if (flags.length) await store.updateFlags({ mailboxId: box.id, uids: [dup], op: 'add', flags, viewerId: box.viewerId });
    return { code: codes.appendUid(box.uidValidity, [dup]), text: 'APPEND completed (already saved at submission)' };
  }
  const messageId = ingested.index.envelope.messageId;
  const key = messageId ? `imap|user:${s.user().id}|box:${box.id}:${box.uidValidity}|${messageId}|${ingested.content.id}` : undefined;
  const guard = resendGuardOf(s.services); // same user, mailbox, Message-ID and bytes: a client retrying after a lost OK
  const earlier = Number(guard.earlier(key)) as Uid;
  if (earlier > 0 && (await store.getMessages(box.id, [earlier], s.viewerId())).length === 1) {
    s.info.log.info({ mailbox: box.id, uid: earlier, messageId }, 'APPEND of a message stored moments ago: not stored again');
    return { code: codes.appendUid(box.uidValidity, [earlier]), text: 'APPEND completed (already saved)' };
  }
  if (s.isClosed) {
    // Nobody is left to answer: store nothing, so the client's retry is the only copy.
    s.info.log.info({ mailbox: box.id, messageId }, 'APPEND not stored: the client left before the message was stored');
    throw new ImapNo('Client gone before the message was stored', 'UNAVAILABLE');
  }
  const req = () => ({ mailboxId: box.id, content: ingested.content, flags, internalDate: date, threadKeys: ingested.index.threadKeys, viewerId: box.viewerId });
  let result;
  try {
    result = await store.appendMessage(req());
  } catch (err) {
    if (!isStoreError(err, 'notfound') || !('existing' in ingested.content)) throw err;
    ingested = await ingested.fresh(); // the shared content was expunged meanwhile: write it again
    result = await store.appendMessage(req());
  }
  const uid = result.row.uid;
  guard.remember(key, String(uid));
  await warnQuota(s);
  // Another session may expunge it before this client fetches its headers: keep them servable (RFC 2180 4.1.1).
  if ('searchText' in ingested.content) seedContent(store, ingested.content, lit?.data ?? undefined);
  return {
    code: codes.appendUid(result.uidValidity, [uid]), // RFC 4315 3
    text: 'APPEND completed',
    // RFC 9051 allows keeping it; the log says so, and a re-send within the window is not stored twice.
    onUndelivered: () => s.info.log.warn({ mailbox: box.id, uid, messageId }, 'message stored by APPEND, but the client left before the OK could be written'),
  };
}

/**
 * MULTIAPPEND (RFC 3502 3): every message is stored, in one store transaction, or none is;
 * one APPENDUID names the new UIDs in order. Each message is ingested first (a failing one
 * stores nothing); the Sent-copy and resend rules of a single APPEND do not apply to a batch.
 */
async function multiAppend(s: ImapSession, box: AccessibleMailbox, items: AppendItem[], sources: MessageSource[]): Promise<Completion> {
  const store = s.services.store;
  const opts = { ...s.services.delivery.ingest, maxSize: s.services.config.imap.max_literal_size };
  let ingested: Ingested[] = [];
  for (const source of sources) ingested.push(await ingest(store, source, opts));
  if (s.isClosed) throw new ImapNo('Client gone before the messages were stored', 'UNAVAILABLE');
  const reqs = () =>
    ingested.map((x, i) => ({ mailboxId: box.id, content: x.content, flags: items[i].flags, internalDate: items[i].date, threadKeys: x.index.threadKeys, viewerId: box.viewerId }));
  let results;
  try {
    results = await store.appendMessages(reqs());
  } catch (err) {
    if (!isStoreError(err, 'notfound') || !ingested.some((x) => 'existing' in x.content)) throw err;
    ingested = await Promise.all(ingested.map((x) => ('existing' in x.content ? x.fresh() : x))); // shared content expunged meanwhile
    results = await store.appendMessages(reqs());
  }
  ingested.forEach((x, i) => 'searchText' in x.content && seedContent(store, x.content, items[i].lit?.data ?? undefined));
  await warnQuota(s);
  const uids = results.map((r) => r.row.uid);
  return {
    code: codes.appendUid(results[0].uidValidity, uids),
    text: `APPEND completed (${uids.length} messages)`,
    onUndelivered: () => s.info.log.warn({ mailbox: box.id, uids }, 'messages stored by MULTIAPPEND, but the client left before the OK could be written'),
  };
}
