/**
 * The MIME indexer: raw message bytes in, the {@link MessageIndex} out, computed once at
 * delivery/APPEND so FETCH and SEARCH never re-parse.
 *
 * Never imports: the store, the network, mail services (codecs are pure).
 * Invariants:
 *  - indexMessage never throws and never copies the message: parts are offsets into `raw`;
 *  - every part satisfies headerStart <= headerEnd <= bodyEnd <= raw.length, and children
 *    lie inside their parent's body;
 *  - structure and sizes agree with Dovecot 2.3 (the reference our fixtures were recorded
 *    from); deliberate differences are listed in test/fixtures/mime/DIFFERENCES.md.
 */
import type { Envelope, MessageIndex, MimePart } from './types.js';
import type { Node } from './structure.js';
import { scanStructure } from './structure.js';
import { readEnvelope } from './part-headers.js';
import { buildPreview } from './preview.js';
import { parseDate } from './date.js';
import { cutAtNul } from './header-block.js';

export const INDEX_VERSION = 1;

export interface IndexOptions {
  /** Parts nested this deep are left unparsed (Dovecot's max_nested_mime_parts, 100). */
  maxDepth?: number;
  /** Leaf bodies at least this large are listed in largeBodies (default 64 KiB). */
  largeBodyThreshold?: number;
}

const LF = 10;
const CR = 13;

/** LF count and bare-LF count (LF without a CR before it) in [start, end). */
function countLines(buf: Buffer, start: number, end: number): { lines: number; bare: number } {
  let lines = 0;
  let bare = 0;
  let i = buf.indexOf(LF, start);
  while (i >= 0 && i < end) {
    lines++;
    if (i === start || buf[i - 1] !== CR) bare++;
    i = buf.indexOf(LF, i + 1);
  }
  return { lines, bare };
}

interface Ctx {
  raw: Buffer;
  /** False when the message has no bare LF at all: virtual sizes are then raw sizes. */
  anyBareLf: boolean;
  threshold: number;
  large: { start: number; end: number }[];
}

function virtualSize(ctx: Ctx, start: number, end: number): number {
  if (!ctx.anyBareLf) return end - start;
  return end - start + countLines(ctx.raw, start, end).bare;
}

function childSection(prefix: string, n: number): string {
  return prefix === '' ? String(n) : `${prefix}.${n}`;
}

/** The empty text/plain IMAP requires for a multipart without parts (RFC 9051 7.5.2). */
function emptyTextPart(section: string, at: number): MimePart {
  return {
    section, headerStart: at, headerEnd: at, bodyEnd: at, type: 'text', subtype: 'plain', params: [],
    id: null, description: null, encoding: '7BIT', size: 0, lines: 0, md5: null, disposition: null,
    language: null, location: null,
  };
}

function setType(part: MimePart, node: Node): void {
  const info = node.info;
  if (node.tooDeep) {
    part.type = 'application'; // nesting too deep to parse: opaque, as Dovecot shows it
    part.subtype = 'octet-stream';
  } else if (node.rfc822) {
    part.type = 'message';
    part.subtype = 'rfc822';
  } else if (info.type === null) {
    part.type = 'text';
    part.subtype = 'plain';
  } else {
    part.type = info.type.toLowerCase();
    part.subtype = (info.subtype ?? '').toLowerCase();
    if (info.type !== part.type) part.typeAsWritten = info.type;
    if (info.subtype !== null && info.subtype !== part.subtype) part.subtypeAsWritten = info.subtype;
  }
  const enc = info.encoding;
  part.encoding = enc === null ? '7BIT' : enc.toUpperCase();
  if (enc !== null && enc !== enc.toLowerCase()) part.encodingAsWritten = enc;
}

function toPart(ctx: Ctx, node: Node, section: string): MimePart {
  const info = node.info;
  const part: MimePart = {
    section, headerStart: node.headerStart, headerEnd: node.headerEnd, bodyEnd: node.bodyEnd,
    type: '', subtype: '', params: info.params, id: info.id, description: info.description, encoding: '7BIT',
    size: virtualSize(ctx, node.headerEnd, node.bodyEnd), lines: null, md5: info.md5,
    disposition: info.disposition, language: info.language, location: info.location,
  };
  setType(part, node);
  if (node.multipart) {
    part.parts = node.children.length === 0
      ? [emptyTextPart(childSection(section, 1), node.headerEnd)]
      : node.children.map((c, i) => toPart(ctx, c, childSection(section, i + 1)));
    return part;
  }
  if (node.rfc822 && node.children.length > 0) {
    const inner = node.children[0];
    part.message = { envelope: readEnvelope(inner.fields), body: toPart(ctx, inner, section) };
    part.lines = countLines(ctx.raw, node.headerEnd, node.bodyEnd).lines;
    return part;
  }
  if (part.type === 'text') part.lines = countLines(ctx.raw, node.headerEnd, node.bodyEnd).lines;
  if (node.bodyEnd - node.headerEnd >= ctx.threshold) ctx.large.push({ start: node.headerEnd, end: node.bodyEnd });
  return part;
}

/** Raw Message-IDs (angle brackets kept) from Message-ID, In-Reply-To and References. */
function threadKeysOf(node: Node, envelope: Envelope): string[] {
  const keys: string[] = [];
  const add = (v: string | null): void => {
    if (v === null) return;
    for (const m of v.matchAll(/<[^<>\s]+>/g)) if (!keys.includes(m[0])) keys.push(m[0]);
  };
  add(envelope.messageId);
  add(envelope.inReplyTo);
  for (const f of node.fields) if (f.value !== null && f.name.toLowerCase() === 'references') add(cutAtNul(f.value));
  return keys;
}

/**
 * Indexes a raw message (bytes exactly as received). Never throws: malformed mail is
 * indexed the way Dovecot reads it.
 */
export function indexMessage(raw: Buffer, opts: IndexOptions = {}): MessageIndex {
  const maxDepth = Math.max(1, opts.maxDepth ?? 100);
  const root = scanStructure(raw, maxDepth);
  const total = countLines(raw, 0, raw.length);
  const ctx: Ctx = { raw, anyBareLf: total.bare > 0, threshold: opts.largeBodyThreshold ?? 65536, large: [] };
  const body = toPart(ctx, root, '');
  const envelope = readEnvelope(root.fields);
  return {
    version: INDEX_VERSION,
    size: raw.length + total.bare,
    envelope,
    body,
    preview: buildPreview(raw, body),
    threadKeys: threadKeysOf(root, envelope),
    sentDate: envelope.date === null ? null : parseDate(envelope.date),
    largeBodies: ctx.large,
  };
}
