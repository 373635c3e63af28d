/**
 * FETCH BODY[section] / BINARY[section] answered from the index and the raw bytes by
 * byte ranges, without re-parsing the structure (RFC 9051 6.4.5, RFC 3516).
 * Part lookup follows Dovecot's imap-msgpart.c: a nonexistent part, or HEADER/TEXT of
 * a part that is not message/rfc822, is an empty string.
 * Output is CRLF-normalised ({@link toWire}) since IMAP counts and sends CRLF lines.
 */
import type { MessageIndex, MimePart } from './types.js';
import { decodeBase64, decodeQuotedPrintable, isKnownEncoding, isStrictBase64 } from './decode.js';
import { readHeaderBlock } from './header-block.js';

export type SectionSpec = string;

export type SectionAnswer =
  | { kind: 'range'; start: number; end: number }
  | { kind: 'fields'; start: number; end: number; names: string[]; not: boolean }
  | { kind: 'empty' };

/** Section text part: "" | HEADER | TEXT | MIME | HEADER.FIELDS[.NOT] (names) */
interface ParsedSpec {
  path: number[];
  text: '' | 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';
  names: string[];
}

/** Parses an RFC 9051 section-spec; null when it is not valid syntax. */
export function parseSectionSpec(spec: SectionSpec): ParsedSpec | null {
  const text = spec.trim();
  const m = /^([1-9][0-9]*(?:\.[1-9][0-9]*)*)(?:\.(.+))?$/s.exec(text);
  if (!m && /^[0-9]/.test(text)) return null;
  const path = m ? m[1].split('.').map(Number) : [];
  const rest = m ? (m[2] ?? '') : text;
  const upper = rest.toUpperCase();
  if (rest === '') return { path, text: '', names: [] };
  if (upper === 'HEADER' || upper === 'TEXT') return { path, text: upper, names: [] };
  if (upper === 'MIME') return path.length > 0 ? { path, text: 'MIME', names: [] } : null;
  const f = /^HEADER\.FIELDS(\.NOT)?\s+\(([^)]*)\)$/i.exec(rest);
  if (!f) return null;
  const names = f[2].split(/\s+/).filter((n) => n !== '').map((n) => n.replace(/^"(.*)"$/, '$1'));
  if (names.length === 0) return null;
  return { path, text: f[1] ? 'HEADER.FIELDS.NOT' : 'HEADER.FIELDS', names };
}

/** Walks a part path like imap_msgpart_find: "1" of a non-multipart is the part itself. */
export function findPart(index: MessageIndex, path: number[]): MimePart | null {
  let part: MimePart | null = index.body;
  for (let i = 0; i < path.length && part; i++) {
    const num = path[i];
    const more = i + 1 < path.length;
    if (part.parts) part = part.parts[num - 1] ?? null;
    else if (num !== 1 || (more && !part.message)) part = null;
    if (part && part.message && more) part = part.message.body;
  }
  return part;
}

function isSyntheticEmpty(part: MimePart): boolean {
  return part.headerStart === part.headerEnd && part.headerEnd === part.bodyEnd && part.size === 0 && part.lines === 0;
}

/** Resolves a section to what must be sent; null for a spec with bad syntax. */
export function resolveSection(index: MessageIndex, spec: SectionSpec): SectionAnswer | null {
  const p = parseSectionSpec(spec);
  if (!p) return null;
  let part: MimePart | null = index.body;
  if (p.path.length > 0) {
    part = findPart(index, p.path);
    if (!part || isSyntheticEmpty(part)) return { kind: 'empty' };
    if (p.text !== '' && p.text !== 'MIME') {
      if (!part.message) return { kind: 'empty' }; // HEADER/TEXT need a message/rfc822 part
      part = part.message.body;
    }
  }
  switch (p.text) {
    case '':
      return p.path.length === 0 ? { kind: 'range', start: 0, end: index.body.bodyEnd } : { kind: 'range', start: part.headerEnd, end: part.bodyEnd };
    case 'MIME':
    case 'HEADER':
      return { kind: 'range', start: part.headerStart, end: part.headerEnd };
    case 'TEXT':
      return { kind: 'range', start: part.headerEnd, end: part.bodyEnd };
    default:
      return { kind: 'fields', start: part.headerStart, end: part.headerEnd, names: p.names, not: p.text === 'HEADER.FIELDS.NOT' };
  }
}

const LF = 10;
const CR = 13;

/** Bytes as sent in IMAP: bare LF becomes CRLF, NUL becomes 0x80 (as Dovecot sends literals). */
export function toWire(bytes: Buffer): Buffer {
  let extra = 0;
  let nul = false;
  for (let i = bytes.indexOf(LF); i >= 0; i = bytes.indexOf(LF, i + 1)) if (i === 0 || bytes[i - 1] !== CR) extra++;
  if (bytes.indexOf(0) >= 0) nul = true;
  if (extra === 0 && !nul) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + extra);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === LF && (i === 0 || bytes[i - 1] !== CR)) out[n++] = CR;
    out[n++] = c === 0 ? 0x80 : c;
  }
  return out;
}

/**
 * RFC 9051 6.4.5 HEADER.FIELDS[.NOT]: the fields of `header` whose names are (not) in
 * `names`, case-insensitively, in message order, followed by the blank line.
 */
export function filterHeaderFields(header: Buffer, names: string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const block = readHeaderBlock(header, 0, null);
  const pieces: Buffer[] = [];
  for (const f of block.fields) {
    // a line without a colon is a field named by the whole line (Dovecot's header filter)
    if (wanted.has(f.name.toLowerCase()) === not) continue;
    const piece = header.subarray(f.start, f.end);
    pieces.push(piece);
    if (piece.length > 0 && piece[piece.length - 1] !== LF) pieces.push(Buffer.from('\r\n'));
  }
  // Dovecot ends HEADER.FIELDS with a blank line always, HEADER.FIELDS.NOT only when the header had one
  if (!not || block.endedBy === 'blank') pieces.push(Buffer.from('\r\n'));
  return toWire(Buffer.concat(pieces));
}

/** The bytes a section answer stands for, ready for a literal. */
export function sectionBytes(raw: Buffer, answer: SectionAnswer): Buffer {
  if (answer.kind === 'empty') return Buffer.alloc(0);
  const bytes = raw.subarray(answer.start, answer.end);
  return answer.kind === 'fields' ? filterHeaderFields(bytes, answer.names, answer.not) : toWire(bytes);
}

/** Bare LF to CRLF only (BINARY content may hold NULs, RFC 3516 4.2). */
function crlfOnly(bytes: Buffer): Buffer {
  const out: number[] = [];
  let changed = false;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === LF && (i === 0 || bytes[i - 1] !== CR)) {
      out.push(CR);
      changed = true;
    }
    out.push(bytes[i]);
  }
  return changed ? Buffer.from(out) : bytes;
}

export type BinaryResult = { ok: true; bytes: Buffer } | { ok: false; code: 'UNKNOWN-CTE' | 'PARSE' };

/**
 * RFC 3516 BINARY[]: the decoded body. An encoding we do not know is UNKNOWN-CTE
 * (RFC 3516 4.3); base64 or quoted-printable that does not decode is PARSE.
 * `binary` content is returned octet for octet (RFC 3516 4.2: BINARY returns the content
 * with its transfer encoding removed, and binary has none), so bare LF and NUL survive;
 * 7bit and 8bit are line-oriented text (RFC 2045 2.7-2.8), whose bare LF is sent as CRLF
 * as BODY[] shows it.
 */
export function decodeBinary(body: Buffer, encoding: string): BinaryResult {
  const enc = encoding.toUpperCase();
  if (!isKnownEncoding(enc)) return { ok: false, code: 'UNKNOWN-CTE' };
  if (enc === 'BASE64') return isStrictBase64(body) ? { ok: true, bytes: decodeBase64(body) } : { ok: false, code: 'PARSE' };
  if (enc === 'QUOTED-PRINTABLE') {
    const bytes = decodeQuotedPrintable(body, true);
    return bytes === null ? { ok: false, code: 'PARSE' } : { ok: true, bytes };
  }
  if (enc === 'BINARY') return { ok: true, bytes: body }; // RFC 3516 4.2: the exact octets
  return { ok: true, bytes: crlfOnly(body) };
}

/** The byte ranges of the raw message that BINARY[path] needs, so a caller reads only those. */
export interface BinaryPlan {
  part: MimePart;
  /** The top-level header, for BINARY[] only. */
  header: { start: number; end: number } | null;
  body: { start: number; end: number };
}

/** What BINARY[path] reads; null when the answer is empty (a nonexistent part, as Dovecot does). */
export function binaryPlan(index: MessageIndex, path: number[]): BinaryPlan | null {
  const part = path.length === 0 ? index.body : findPart(index, path);
  if (!part || isSyntheticEmpty(part)) return null;
  return { part, header: path.length === 0 ? { start: 0, end: part.headerEnd } : null, body: { start: part.headerEnd, end: part.bodyEnd } };
}

/** BINARY[path] from the bytes of the plan's ranges. BINARY[] is the header followed by the decoded body. */
export function binaryFromRanges(plan: BinaryPlan, header: Buffer | null, body: Buffer): BinaryResult {
  const decoded = decodeBinary(body, plan.part.encoding);
  if (!plan.header || !decoded.ok) return decoded;
  return { ok: true, bytes: Buffer.concat([crlfOnly(header ?? Buffer.alloc(0)), decoded.bytes]) };
}

/** BINARY[path] from the whole raw message (tests and tools; FETCH reads only the plan's ranges). */
export function binarySection(raw: Buffer, index: MessageIndex, path: number[]): BinaryResult {
  const plan = binaryPlan(index, path);
  if (!plan) return { ok: true as const, bytes: Buffer.alloc(0) };
  const header = plan.header ? raw.subarray(plan.header.start, plan.header.end) : null;
  return binaryFromRanges(plan, header, raw.subarray(plan.body.start, plan.body.end));
}
