/**
 * CATENATE (RFC 4469): an APPEND message built from TEXT literals and IMAP URLs to messages
 * (or parts of them) in the user's own mailboxes. The pieces are spooled through
 * MessageSource.fromStream in order, so neither a big literal nor a big referenced message
 * is held in memory; the size limit is checked while spooling ([TOOBIG]).
 */
import { resolveMailbox } from '../mailbox-access.js';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { MessageSource, MessageSourceError } from '../../mail/message-source.js';
import { type ArgReader, type Literal } from '../protocol/index.js';
import { ImapNo } from '../errors.js';
import { SpoolSink, type ImapSession } from '../session.js';
import { cachedContent } from '../content-cache.js';
import { sectionData } from './fetch-body.js';
import { parseMessageUrl, type MessageUrl } from '../url/imap-url.js';
import type { Uid } from '../../store/types.js';

export type CatPart = { kind: 'text'; lit: Literal } | { kind: 'url'; url: string };

/** `CATENATE SP "(" cat-part *(SP cat-part) ")"`, after the CATENATE atom (RFC 4469 5). */
export function parseCatenate(args: ArgReader): CatPart[] {
  args.atom();
  args.sp('after CATENATE');
  args.expect('(', 'before the CATENATE parts');
  const parts: CatPart[] = [];
  do {
    const word = args.atom('TEXT or URL').toUpperCase();
    args.sp(`after ${word}`);
    if (word === 'TEXT') parts.push({ kind: 'text', lit: args.literal({ binary: true }) });
    else if (word === 'URL') parts.push({ kind: 'url', url: args.astring('URL') });
    else throw args.error('CATENATE parts are TEXT literal or URL astring');
  } while (args.optionalSp());
  args.expect(')', 'after the CATENATE parts');
  return parts;
}

function badUrl(url: string, why: string): ImapNo {
  return new ImapNo(why, `BADURL ${url}`);
}

/** The bytes a URL names, as a stream; NO [BADURL url] when it names nothing this user can read. */
async function urlStream(s: ImapSession, text: string): Promise<Readable | Buffer> {
  const url: MessageUrl | null = parseMessageUrl(text);
  if (!url) throw badUrl(text, 'Not an IMAP URL to a message this server can resolve');
  const user = s.user();
  if (url.user !== undefined && url.user.toLowerCase() !== user.address.toLowerCase()) throw badUrl(text, 'URL names another user');
  const store = s.services.store;
  let mailboxId;
  let uidValidity;
  if (url.mailbox === undefined) {
    if (s.state.kind !== 'selected') throw badUrl(text, 'Relative URL without a selected mailbox');
    ({ mailboxId, uidValidity } = s.state.view);
  } else {
    const box = await resolveMailbox(s, url.mailbox);
    if (!box || !box.rights.includes('r')) throw badUrl(text, 'No such mailbox'); // RFC 4314 4: reading needs r
    ({ id: mailboxId, uidValidity } = box);
  }
  if (url.uidValidity !== undefined && url.uidValidity !== uidValidity) throw badUrl(text, 'UIDVALIDITY changed');
  const [row] = await store.getMessages(mailboxId, [url.uid as Uid], s.viewerId()); // flags are not used: any viewer
  const meta = row ? await cachedContent(store, row.contentId) : null;
  if (!meta) throw badUrl(text, 'No such message');
  let data;
  try {
    data = await sectionData(store, meta, url.section ?? { part: [] }, url.partial);
  } catch (err) {
    if (err instanceof ImapNo) throw badUrl(text, 'No such section');
    throw err;
  }
  return data.kind === 'bytes' ? data.bytes : data.open();
}

async function literalStream(lit: Literal): Promise<Readable | Buffer> {
  if (lit.sink instanceof SpoolSink) {
    await lit.sink.finished;
    return createReadStream(lit.sink.path);
  }
  if (lit.data) return lit.data;
  throw new ImapNo('Message text could not be read', 'CANNOT');
}

async function* pieces(s: ImapSession, parts: CatPart[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    const piece = part.kind === 'text' ? await literalStream(part.lit) : await urlStream(s, part.url);
    if (Buffer.isBuffer(piece)) yield piece;
    else for await (const chunk of piece) yield chunk as Buffer;
  }
}

/** The catenated message; the caller disposes it. NO [BADURL], [TOOBIG] or CANNOT (empty). */
export async function catenatedSource(s: ImapSession, parts: CatPart[]): Promise<MessageSource> {
  const maxSize = s.services.config.imap.max_literal_size;
  let source: MessageSource;
  try {
    source = await MessageSource.fromStream(pieces(s, parts), s.services.delivery.ingest.spoolDir, { maxSize, prefix: 'catenate' });
  } catch (err) {
    if (err instanceof MessageSourceError) throw new ImapNo(`Catenated message exceeds the limit of ${maxSize} bytes`, 'TOOBIG');
    throw err;
  }
  if (source.size === 0) {
    await source.dispose();
    throw new ImapNo('Empty message', 'CANNOT');
  }
  return source;
}
