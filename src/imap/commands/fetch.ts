// FETCH sequence-set (macro / fetch-att / "(" fetch-att *(SP fetch-att) ")")   RFC9051 6.4.5, RFC3501 6.4.5,
// RFC3516 (BINARY), RFC8970 (PREVIEW), RFC8474 (EMAILID/THREADID), RFC7162 3.1.4 (MODSEQ, CHANGEDSINCE), 3.2.6 (VANISHED)
// Messages are read in batches; each response is written as it is built and the socket's
// backpressure is awaited between messages, so 10,000 BODY[] stream with bounded memory.
import type { MessageRow, Store } from '../../store/types.js';
import { fetchSetsSeen, parseFetch, partialSlice, seqSetHas, seqSetMaxNumber, type FetchCommand, type FetchItem } from '../protocol/index.js';
import { formatEnvelope } from '../protocol/envelope.js';
import { formatBodyStructure } from '../protocol/body-structure.js';
import { ImapNo } from '../errors.js';
import { isStoreError } from '../../store/errors.js';
import { cachedIndexes, type CachedContent } from '../content-cache.js';
import { knownContentId, noteContentIds } from '../content-ids.js';
import { fetchHead, flagsWithRecent, vanishedLines, withHidden, type MailboxView, type ViewMessage } from '../selected.js';
import type { ImapSession } from '../session.js';
import { binaryData, HEADER_BLOCK_MAX, readAll, sectionData, type BodyData } from './fetch-body.js';
import { fetchFlagsFromView, onlyFlagsAndUid, spansOf } from './fetch-flags.js';
import { cleanPreview } from '../../mime/preview.js';
import type { ImapCommand } from './types.js';

/** Messages per store read when bodies are sent (bounded memory) and when only metadata is (fewer round trips). */
const BODY_BATCH = 100;
const META_BATCH = 1000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** date-time (RFC 9051 9) in UTC: `"17-Jul-1996 09:44:25 +0000"`. */
export function formatDateTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `"${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000"`;
}

const NEEDS_CONTENT = new Set(['RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);
const SENDS_BYTES = new Set(['RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);

/** True when a response carries message bytes (sections, BINARY, RFC822*), not only metadata. */
function sendsBytes(items: readonly FetchItem[]): boolean {
  return items.some((i) => i.type === 'section' || i.type === 'binary' || (i.type === 'simple' && SENDS_BYTES.has(i.attr)));
}

function needsContent(items: readonly FetchItem[]): boolean {
  return items.some((i) => i.type !== 'simple' || NEEDS_CONTENT.has(i.attr));
}

/** True when the only bytes sent are from the top-level header (HEADER, HEADER.FIELDS…, RFC822.HEADER): a mail client's message list. */
function readsOnlyTopHeader(items: readonly FetchItem[]): boolean {
  let header = false;
  for (const i of items) {
    if (i.type === 'section') {
      if (i.section.part.length > 0 || !i.section.text?.startsWith('HEADER')) return false;
      header = true;
    } else if (i.type === 'binary' || i.type === 'binary.size' || (i.type === 'simple' && (i.attr === 'RFC822' || i.attr === 'RFC822.TEXT'))) return false;
    else if (i.type === 'simple' && i.attr === 'RFC822.HEADER') header = true;
  }
  return header;
}

/** Header blocks read at once per FETCH batch: the reads overlap instead of waiting one by one. */
const HEADER_READS = 16;

/**
 * Reads the top-level header blocks the cache lacks, HEADER_READS at a time (each is a
 * segment lookup in the store and one small file read), so a cold FETCH of 500 messages'
 * header fields waits for about 500/16 reads in a row, not 500. A content gone meanwhile is
 * left for the per-message path to report.
 */
async function prefetchHeaders(store: Store, metas: CachedContent[]): Promise<void> {
  const todo = metas.filter((m) => m.header === undefined && m.index.body.headerEnd <= HEADER_BLOCK_MAX);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const m = todo[next++];
      try {
        m.header ??= await readAll(await store.openContent(m.id, 0, m.index.body.headerEnd));
      } catch (err) {
        if (!isStoreError(err, 'notfound')) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEADER_READS, todo.length) }, worker));
}

/** Latin-1 response text, raw bytes, or a literal body. */
type Piece = string | Buffer | BodyData;

export const fetch = {
  name: 'FETCH',
  states: ['selected'],
  usesSeqs: true,
  async run({ session: s, args, uid }) {
    const cmd = parseFetch(args, { uid, uidOnly: s.uidOnly });
    if (cmd.vanished && !s.qresync) throw args.error('VANISHED needs ENABLE QRESYNC'); // RFC 7162 3.2.6 MUST
    if (cmd.changedSince !== undefined || cmd.items.some((i) => i.type === 'simple' && i.attr === 'MODSEQ')) s.condstore = true; // RFC 7162 3.1
    const view = s.view();
    // FLAGS/UID only: from the view. CHANGEDSINCE always asks for MODSEQ (fetch-parser), which the view does not hold.
    const flagsOnly = onlyFlagsAndUid(cmd.items);
    // `UID FETCH 1:* (FLAGS)` of a big mailbox: index spans, no object per message
    if (flagsOnly && cmd.set.kind === 'ranges' && !cmd.partial && cmd.changedSince === undefined) return fetchFlagsFromView(s, view.resolveSpans(cmd.set, uid), cmd.items);
    const all = cmd.changedSince === undefined ? view.resolve(cmd.set, uid) : await changedMessages(s, view, cmd, uid);
    // RFC 9394 3.2: positions count over the set's messages in ascending order
    const msgs = cmd.partial ? partialSlice([...all].sort((a, b) => a.uid - b.uid), cmd.partial) : all;
    if (flagsOnly) return fetchFlagsFromView(s, spansOf(msgs), cmd.items);
    const setSeen = fetchSetsSeen(cmd.items) && !view.readOnly; // RFC 9051 6.4.5: \Seen set unless PEEK or read-only
    const withContent = needsContent(cmd.items);
    const headerOnly = readsOnlyTopHeader(cmd.items);
    const batchSize = sendsBytes(cmd.items) && !headerOnly ? BODY_BATCH : META_BATCH;
    let missing = 0;
    const rowFree = !setSeen && rowFreeItems(cmd.items);
    if (rowFree) await view.poll(s.services.store); // flags from the view, as fresh as a store read (fetch-flags.ts)
    for (let i = 0; i < msgs.length && !s.isClosed; i += batchSize) {
      const batch = msgs.slice(i, i + batchSize);
      const rows = rowFree ? await rowsFromView(s, view, batch) : await readRows(s, view, batch);
      const seenNow = setSeen && view.rights.includes('s') ? await markSeen(s, view, [...rows.values()], rows) : new Set<number>();
      const metas = withContent ? await cachedIndexes(s.services.store, batch.map((m) => (rows.get(m.uid) ?? view.rememberedRow(m.uid))?.contentId).filter((id) => id !== undefined)) : null;
      if (metas && headerOnly) await prefetchHeaders(s.services.store, [...metas.values()]);
      s.cork(); // one write per batch instead of several per message
      const out = new PendingText(s);
      try {
        for (const m of batch) {
          // RFC 2180 4.1.1: a message expunged elsewhere is still served until its EXPUNGE is announced
          const row = rows.get(m.uid) ?? view.rememberedRow(m.uid);
          const meta = row && metas ? (metas.get(row.contentId) ?? null) : null;
          if (!row || (withContent && !meta) || !(await writeMessage(s, out, view, m, row, meta, cmd.items, seenNow.has(m.uid)))) {
            missing++; // gone for good (content released); its EXPUNGE comes at an allowed moment
            continue;
          }
          if (out.full()) out.flush();
          if (s.needsDrain()) {
            s.uncork();
            await s.drain();
            s.cork();
          }
        }
      } finally {
        out.flush();
        s.uncork();
      }
    }
    // RFC 5530 EXPUNGEISSUED: say why data is missing (a UID FETCH announces the EXPUNGE right after).
    // OK, not NO, as Dovecot answers: the rest of the data was sent, and some clients treat a NO to FETCH as fatal.
    if (missing > 0 && !uid) return { code: 'EXPUNGEISSUED', text: 'Some messages were already expunged' };
  },
} as const satisfies ImapCommand;

/**
 * CHANGEDSINCE (RFC 7162 3.1.4.1): the messages of the set changed after the MODSEQ, found
 * from the change log (work proportional to the changes, not the mailbox); with VANISHED
 * (3.2.6) the UIDs of the set expunged after it go out first as `* VANISHED (EARLIER)`.
 */
async function changedMessages(s: ImapSession, view: MailboxView, cmd: FetchCommand, uid: boolean): Promise<ViewMessage[]> {
  // RFC 9051 6.4.5: a sequence number above EXISTS is a client error, with or without modifiers
  if (!uid && cmd.set.kind === 'ranges' && seqSetMaxNumber(cmd.set) > view.exists) {
    throw new ImapNo(`Invalid sequence number (mailbox has ${view.exists} messages)`, 'CLIENTBUG', 'BAD');
  }
  const ch = await s.services.store.changesSince(view.mailboxId, cmd.changedSince!, s.viewerId());
  const maxUid = view.lastUid();
  const savedSeqs = uid ? view.saved : view.saved.map((u) => view.seqOf(u));
  const out: ViewMessage[] = [];
  for (const row of ch.changed) {
    const seq = view.seqOf(row.uid);
    if (seq > 0 && seqSetHas(cmd.set, uid ? row.uid : seq, uid ? maxUid : view.exists, savedSeqs)) out.push({ seq, uid: row.uid });
  }
  if (cmd.vanished) {
    // `*` reaches to UIDNEXT-1 here: the highest UIDs may be the expunged ones
    const inSet = (u: number) => view.seqOf(u) === 0 && seqSetHas(cmd.set, u, view.uidNext - 1, view.saved);
    const gone = ch.expungedComplete ? withHidden(view, ch.expunged).filter(inSet) : absentInSet(view, inSet);
    s.send(vanishedLines(gone, true).join(''));
  }
  return out;
}

/** Pruned expunge log: every UID of the set below UIDNEXT that is not in the view (RFC 7162 3.2.6 allows more than needed). */
function absentInSet(view: MailboxView, inSet: (u: number) => boolean): number[] {
  const out: number[] = [];
  for (let u = 1; u < view.uidNext; u++) if (inSet(u)) out.push(u);
  return out;
}

/** Simple items answered from the view and the content alone (no INTERNALDATE, MODSEQ, object ids). */
const ROW_FREE = new Set(['UID', 'FLAGS', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);

/** True when no item needs the message row beyond its UID, flags and content (the caller excludes \Seen-setting FETCH). */
function rowFreeItems(items: readonly FetchItem[]): boolean {
  return items.every((i) => i.type !== 'simple' || ROW_FREE.has(i.attr));
}

/** The batch's rows from the store (remembered by the view, their content ids noted). */
async function readRows(s: ImapSession, view: MailboxView, batch: readonly ViewMessage[]): Promise<Map<number, MessageRow>> {
  const fresh = await s.services.store.getMessages(view.mailboxId, batch.map((m) => m.uid), s.viewerId());
  view.remember(fresh);
  noteContentIds(s.services.store, view.uidValidity, fresh);
  return new Map(fresh.map((r) => [r.uid as number, r]));
}

/**
 * Rows for items that need only UID, flags and content: flags from the view, content ids
 * from the process-wide map (content-ids.ts); only the messages it does not know are read.
 * A message expunged elsewhere but still in the view is served as RFC 2180 4.1.1 allows.
 */
async function rowsFromView(s: ImapSession, view: MailboxView, batch: readonly ViewMessage[]): Promise<Map<number, MessageRow>> {
  const store = s.services.store;
  const unknown = batch.filter((m) => knownContentId(store, view.mailboxId, view.uidValidity, m.uid) === undefined);
  const read = unknown.length > 0 ? await readRows(s, view, unknown) : new Map<number, MessageRow>();
  const rows = new Map<number, MessageRow>();
  for (const m of batch) {
    const contentId = knownContentId(store, view.mailboxId, view.uidValidity, m.uid);
    const row = read.get(m.uid) ?? view.rememberedRow(m.uid);
    if (row) rows.set(m.uid, { ...row, flags: [...view.flagsOf(m.uid)] });
    else if (contentId !== undefined && view.seqOf(m.uid) > 0) rows.set(m.uid, { uid: m.uid, mailboxId: view.mailboxId, flags: [...view.flagsOf(m.uid)], contentId } as MessageRow);
  }
  return rows;
}

async function markSeen(s: ImapSession, view: MailboxView, rows: MessageRow[], byUid: Map<number, MessageRow>): Promise<Set<number>> {
  const unseen = rows.filter((r) => !r.flags.includes('\\Seen')).map((r) => r.uid);
  if (unseen.length === 0) return new Set();
  const result = await s.services.store.updateFlags({ mailboxId: view.mailboxId, uids: unseen, op: 'add', flags: ['\\Seen'], viewerId: s.viewerId() });
  view.noteFlags(result.changed);
  for (const r of result.changed) byUid.set(r.uid, r);
  return new Set(result.changed.map((r) => r.uid as number));
}

/** Bytes of response text gathered before a write: a batch of ENVELOPE or BODYSTRUCTURE answers leaves in a few writes. */
const PENDING_TEXT_MAX = 64 * 1024;

/**
 * Latin-1 response text not yet written, so the metadata answers of a batch become one
 * Buffer and one socket write, not one per message (500 of each was most of a FETCH of the
 * last 500 BODYSTRUCTUREs after its cached strings).
 */
class PendingText {
  text = '';

  constructor(private readonly s: ImapSession) {}

  full(): boolean {
    return this.text.length >= PENDING_TEXT_MAX;
  }

  flush(): void {
    if (this.text === '') return;
    this.s.sendBytes(Buffer.from(this.text, 'latin1'));
    this.text = '';
  }
}

/** Writes one FETCH response (its text may wait in `out`, written before any bytes that follow it); false (nothing written) when the content is no longer stored. */
async function writeMessage(s: ImapSession, out: PendingText, view: MailboxView, m: ViewMessage, row: MessageRow, meta: CachedContent | null, items: readonly FetchItem[], flagsChanged: boolean): Promise<boolean> {
  let pieces: Piece[];
  try {
    pieces = await buildPieces(s, view, row, meta, items, flagsChanged);
  } catch (err) {
    if (isStoreError(err, 'notfound')) return false;
    throw err;
  }
  let text = fetchHead(m, s.uidOnly); // latin1 text is gathered and written in as few pieces as possible
  for (const p of pieces) {
    if (typeof p === 'string') text += p;
    else if (Buffer.isBuffer(p)) {
      out.flush();
      s.sendBytes(Buffer.concat([Buffer.from(text, 'latin1'), p]));
      text = '';
    } else {
      out.flush();
      s.sendBytes(Buffer.from(text, 'latin1'));
      text = '';
      await sendBody(s, p);
    }
  }
  out.text += `${text})\r\n`; // whole responses only, so a failure later in the batch still sends the ones before it
  return true;
}

async function buildPieces(s: ImapSession, view: MailboxView, row: MessageRow, meta: CachedContent | null, items: readonly FetchItem[], flagsChanged: boolean): Promise<Piece[]> {
  const pieces: Piece[] = [];
  const text = (t: string) => pieces.push(t);
  let first = true;
  const sep = () => (first ? (first = false) : text(' '));
  const flags = () => `FLAGS ${flagsWithRecent(row.flags, view.isRecent(row.uid), s.rev2)}`;
  let flagsSent = false;
  for (const item of items) {
    sep();
    if (item.type === 'simple') {
      if (item.attr === 'FLAGS') flagsSent = true;
      const v = await simpleItem(s, item.attr, row, meta as CachedContent, flags);
      if (typeof v === 'string') text(v);
      else pieces.push(`${item.name} `, v);
    } else if (item.type === 'preview') {
      // RFC 8970 3: always available here (indexed at delivery), so LAZY never needs NIL; UTF-8 text in a literal
      const p = Buffer.from(cleanPreview((meta as CachedContent).index.preview), 'utf8');
      pieces.push(Buffer.from(`PREVIEW {${p.length}}\r\n`, 'latin1'), p);
    } else if (item.type === 'section') {
      text(`${item.name} `);
      pieces.push(await sectionData(s.services.store, meta as CachedContent, item.section, item.partial));
    } else if (item.type === 'binary') {
      const bytes = await binaryData(s.services.store, meta as CachedContent, item.part);
      const part = item.partial ? bytes.subarray(Math.min(item.partial.offset, bytes.length), Math.min(item.partial.offset + item.partial.length, bytes.length)) : bytes;
      text(`${item.name} `);
      pieces.push(Buffer.from(`~{${part.length}}\r\n`, 'latin1'), part); // RFC 3516 4.2: literal8 may carry NUL
    } else {
      const bytes = await binaryData(s.services.store, meta as CachedContent, item.part);
      text(`${item.name} ${bytes.length}`);
    }
  }
  if (flagsChanged && !flagsSent) {
    sep();
    text(flags()); // RFC 9051 6.4.5: an implicit \Seen change is reported
    // RFC 7162 3.1: with CONDSTORE, the new MODSEQ too
    if (s.condstore && !items.some((i) => i.type === 'simple' && i.attr === 'MODSEQ')) text(` MODSEQ (${row.modSeq})`);
  }
  return pieces;
}

async function simpleItem(s: ImapSession, attr: string, row: MessageRow, meta: CachedContent, flags: () => string): Promise<string | BodyData> {
  switch (attr) {
    case 'FLAGS':
      return flags();
    case 'UID':
      return `UID ${row.uid}`;
    case 'INTERNALDATE':
      return `INTERNALDATE ${formatDateTime(row.internalDate)}`;
    case 'SAVEDATE':
      return `SAVEDATE ${formatDateTime(row.saveDate)}`;
    case 'MODSEQ':
      return `MODSEQ (${row.modSeq})`;
    case 'EMAILID':
      return `EMAILID (${row.emailId})`;
    case 'THREADID':
      return `THREADID (${row.threadId})`;
    case 'RFC822.SIZE':
      return `RFC822.SIZE ${meta.index.size}`; // counts bare LF as CRLF, like BODY[] on the wire
    case 'ENVELOPE':
    case 'BODY':
    case 'BODYSTRUCTURE':
      return formattedItem(meta, attr);
    case 'RFC822':
      return sectionData(s.services.store, meta, { part: [] }, undefined);
    case 'RFC822.HEADER':
      return sectionData(s.services.store, meta, { part: [], text: 'HEADER' }, undefined);
    case 'RFC822.TEXT':
      return sectionData(s.services.store, meta, { part: [], text: 'TEXT' }, undefined);
    default:
      throw new ImapNo(`Unsupported FETCH item ${attr}`, 'CLIENTBUG', 'BAD');
  }
}

/** The item as formatted once per content (cached with the content's index). */
function formattedItem(meta: CachedContent, attr: 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE'): string {
  const done = (meta.formatted ??= {});
  return (done[attr] ??=
    attr === 'ENVELOPE' ? `ENVELOPE ${formatEnvelope(meta.index.envelope)}` : `${attr} ${formatBodyStructure(meta.index.body, attr === 'BODYSTRUCTURE')}`);
}

/**
 * Writes `{n}\r\n` and exactly n bytes (the caller has corked the session). The length guard pads with spaces or cuts, so a
 * bug in a size computation can never desync the protocol (STYLE.md 4).
 */
export async function sendBody(s: ImapSession, body: BodyData): Promise<void> {
  if (body.kind === 'bytes') {
    s.sendBytes(Buffer.concat([Buffer.from(`{${body.bytes.length}}\r\n`, 'latin1'), body.bytes]));
    return;
  }
  s.sendBytes(Buffer.from(`{${body.length}}\r\n`, 'latin1'));
  s.uncork(); // a big literal flows with backpressure, not into the cork buffer
  try {
    await streamLiteral(s, body);
  } finally {
    s.cork();
  }
}

async function streamLiteral(s: ImapSession, body: Extract<BodyData, { kind: 'stream' }>): Promise<void> {
  let sent = 0;
  let stream;
  try {
    stream = await body.open();
  } catch (err) {
    // the content vanished after the literal was announced: keep the protocol in step
    s.info.log.warn({ err }, 'content vanished during FETCH; literal padded');
    s.sendBytes(Buffer.alloc(body.length, 0x20));
    return;
  }
  for await (const chunk of stream) {
    const c = chunk as Buffer;
    const part = c.subarray(0, Math.max(0, body.length - sent));
    if (part.length > 0) s.sendBytes(part);
    sent += part.length;
    await s.drain();
    if (s.isClosed) {
      stream.destroy();
      return;
    }
  }
  if (sent < body.length) {
    s.info.log.error({ expected: body.length, sent }, 'literal shorter than announced; padded');
    s.sendBytes(Buffer.alloc(body.length - sent, 0x20));
  }
}
