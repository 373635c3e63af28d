// APPEND mailbox [SP flag-list] [SP date-time] SP literal   RFC9051 6.3.12, RFC4315 3 (APPENDUID),
// RFC7888 (LITERAL+), RFC7889 (APPENDLIMIT), RFC3516 4.4 (literal8)
import { ingest, type Ingested } from '../../ingest.js';
import { MessageSource } from '../../mail/message-source.js';
import { isStoreError } from '../../store/errors.js';
import { codes, isUndecodableName, normalizeMailboxName } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import { SpoolSink } from '../session.js';
import type { ImapCommand } from './types.js';
import { refuseRecentlyDeleted } from './util.js';
import { appendDuplicateOf } from '../../mail/sent-copies.js';
import { resendGuardOf } from '../../mail/resend-guard.js';
import type { Uid } from '../../store/types.js';
import { seedContent } from '../content-cache.js';
import { warnQuota } from './util.js';


export const append = {
  name: 'APPEND',
  states: ['authenticated', 'selected'],
  async run({ session: s, args }) {
    const name = normalizeMailboxName(args.mailbox());
    args.sp('after mailbox name');
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
    const lit = args.literal({ binary: true });
    args.end();
    const store = s.services.store;
    // RFC 9051 6.3.12: TRYCREATE unless the mailbox certainly cannot be created (an undecodable name)
    if (isUndecodableName(name)) throw new ImapNo('Mailbox name is not valid modified UTF-7', 'NONEXISTENT');
    const box = await store.getMailbox(s.user().id, name);
    if (!box) throw new ImapNo('Mailbox does not exist', 'TRYCREATE'); // RFC 9051 6.3.12 MUST
    refuseRecentlyDeleted(box, 'APPEND');
    if (lit.size === 0) throw new ImapNo('Empty message', 'CANNOT');
    let source: MessageSource;
    if (lit.sink instanceof SpoolSink) {
      await lit.sink.finished;
      // The literal's spool is the message's one copy on disk; the session removes it after the command.
      source = MessageSource.fromFile(lit.sink.path, lit.size, { hash: lit.sink.sha256(), immutable: true });
    } else if (lit.data) source = MessageSource.fromBuffer(lit.data);
    else throw new ImapNo('Message could not be read', 'CANNOT');
    let ingested: Ingested = await ingest(store, source, { ...s.services.delivery.ingest, maxSize: s.services.config.imap.max_literal_size });
    // A client saving its own copy of a message the server already filed at submission (src/mail/sent-copies.ts).
    const dup = await appendDuplicateOf(store, s.user().id, box, ingested.index, source);
    if (dup !== null) {
      if (flags.length) await store.updateFlags({ mailboxId: box.id, uids: [dup], op: 'add', flags, viewerId: s.viewerId() });
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
    const req = () => ({ mailboxId: box.id, content: ingested.content, flags, internalDate: date, threadKeys: ingested.index.threadKeys, viewerId: s.viewerId() });
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
    if ('searchText' in ingested.content) seedContent(store, ingested.content, lit.data ?? undefined);
    return {
      code: codes.appendUid(result.uidValidity, [uid]), // RFC 4315 3
      text: 'APPEND completed',
      // RFC 9051 allows keeping it; the log says so, and a re-send within the window is not stored twice.
      onUndelivered: () => s.info.log.warn({ mailbox: box.id, uid, messageId }, 'message stored by APPEND, but the client left before the OK could be written'),
    };
  },
} as const satisfies ImapCommand;
