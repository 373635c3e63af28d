/**
 * Bytes for BODY[section]<partial> and BINARY[part]: small sections are read as one
 * buffer through src/mime/sections.ts; big ranges (a whole 50 MB message, a large part)
 * stream from `store.openContent` through {@link WireTransform} with the same rules
 * (bare LF → CRLF, NUL → 0x80), so the announced literal length equals the bytes sent.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Store } from '../../store/types.js';
import type { CachedContent } from '../content-cache.js';
import { binaryFromRanges, binaryPlan, findPart, resolveSection, sectionBytes } from '../../mime/sections.js';
import { formatSection, type Partial, type Section } from '../protocol/index.js';
import { ImapNo } from '../errors.js';

/** Ranges larger than this are streamed instead of buffered. */
export const STREAM_THRESHOLD = 1024 * 1024;

/** A top-level header block up to this size is kept in the content cache once read. */
export const HEADER_BLOCK_MAX = 256 * 1024;

/** What a body item sends: a buffer, or a stream with its wire length known in advance. */
export type BodyData = { kind: 'bytes'; bytes: Buffer } | { kind: 'stream'; length: number; open: () => Promise<Readable> };

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Applies `<offset.length>` (RFC 9051 6.4.5) to a buffer. */
export function applyPartial(bytes: Buffer, partial: Partial | undefined): Buffer {
  if (!partial) return bytes;
  return bytes.subarray(Math.min(partial.offset, bytes.length), Math.min(partial.offset + partial.length, bytes.length));
}

/** The data of BODY[section]<partial>. */
export async function sectionData(store: Store, meta: CachedContent, section: Section, partial: Partial | undefined): Promise<BodyData> {
  const answer = resolveSection(meta.index, formatSection(section));
  if (!answer) throw new ImapNo('Invalid section', 'CLIENTBUG', 'BAD');
  if (answer.kind === 'empty') return { kind: 'bytes', bytes: Buffer.alloc(0) };
  const wireLength = knownWireLength(meta, section, answer.start, answer.end);
  if (answer.kind === 'range' && wireLength !== null && answer.end - answer.start > STREAM_THRESHOLD) {
    const window = partial ? { skip: Math.min(partial.offset, wireLength), take: Math.max(0, Math.min(partial.length, wireLength - partial.offset)) } : { skip: 0, take: wireLength };
    return {
      kind: 'stream',
      length: window.take,
      open: async () => (await store.openContent(meta.id, answer.start, answer.end)).pipe(new WireTransform(window.skip, window.take)),
    };
  }
  const headerEnd = meta.index.body.headerEnd;
  if (answer.end <= headerEnd && headerEnd <= HEADER_BLOCK_MAX) {
    // inside the top-level header: served from the cached header block, no blob read, each spec filtered once
    const spec = formatSection(section);
    let bytes = meta.headerSections?.get(spec);
    if (!bytes) {
      meta.header ??= await readAll(await store.openContent(meta.id, 0, headerEnd));
      const raw = meta.header.subarray(answer.start, answer.end);
      bytes = sectionBytes(raw, { ...answer, start: 0, end: raw.length });
      const cached = (meta.headerSections ??= new Map());
      if (cached.size < 8) cached.set(spec, bytes); // a few specs per content: clients ask for one or two lists
    }
    return { kind: 'bytes', bytes: applyPartial(bytes, partial) };
  }
  const raw = await readAll(await store.openContent(meta.id, answer.start, answer.end));
  const bytes = sectionBytes(raw, { ...answer, start: 0, end: raw.length });
  return { kind: 'bytes', bytes: applyPartial(bytes, partial) };
}

/** The wire length of a range when the index knows it: the whole message or one part's body. */
function knownWireLength(meta: CachedContent, section: Section, start: number, end: number): number | null {
  if (section.part.length === 0 && !section.text && start === 0) return meta.index.size;
  const part = section.part.length === 0 ? meta.index.body : findPart(meta.index, section.part);
  if (part && start === part.headerEnd && end === part.bodyEnd && (section.text === undefined || section.text === 'TEXT')) return part.size;
  return null;
}

/**
 * BINARY[part]: decoded bytes, or NO [UNKNOWN-CTE] / [PARSE] (RFC 3516 4.3). Reads only the
 * part's body range from the store (plus the top-level header for BINARY[]), never the whole
 * message for a part.
 */
export async function binaryData(store: Store, meta: CachedContent, part: number[]): Promise<Buffer> {
  const plan = binaryPlan(meta.index, part);
  if (!plan) return Buffer.alloc(0);
  const header = plan.header ? await readAll(await store.openContent(meta.id, plan.header.start, plan.header.end)) : null;
  const body = plan.body.end > plan.body.start ? await readAll(await store.openContent(meta.id, plan.body.start, plan.body.end)) : Buffer.alloc(0);
  const r = binaryFromRanges(plan, header, body);
  if (!r.ok) throw new ImapNo(r.code === 'UNKNOWN-CTE' ? 'Unknown Content-Transfer-Encoding' : 'Content cannot be decoded', r.code);
  return r.bytes;
}

/**
 * Bare LF → CRLF and NUL → 0x80 across chunk boundaries, then the `<skip, take>` window.
 * Emits exactly `take` bytes at most; the writer pads if the source ends early.
 */
export class WireTransform extends Transform {
  private lastCr = false;
  private pos = 0;

  constructor(
    private readonly skip: number,
    private readonly count: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const out = Buffer.allocUnsafe(chunk.length * 2);
    let n = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === 0x0a && !this.lastCr) out[n++] = 0x0d;
      out[n++] = c === 0 ? 0x80 : c;
      this.lastCr = c === 0x0d;
    }
    const wire = out.subarray(0, n);
    const start = Math.max(0, this.skip - this.pos);
    const end = Math.min(wire.length, this.skip + this.count - this.pos);
    this.pos += wire.length;
    done(null, end > start ? Buffer.from(wire.subarray(start, end)) : undefined);
  }
}
