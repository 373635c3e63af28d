/**
 * Text of leaf parts for SEARCH and preview: transfer-decoded, converted from their
 * charset to UTF-8 text, HTML reduced to text. Reads byte ranges of the raw message.
 */
import type { MimePart } from './types.js';
import { bytesToText, decodeTransfer, htmlToText } from './decode.js';
import { getParam } from './rfc2231.js';

/** Leaf parts in IMAP section order, descending into encapsulated messages. */
export function leafParts(part: MimePart, out: MimePart[] = []): MimePart[] {
  if (part.parts) for (const p of part.parts) leafParts(p, out);
  else if (part.message) leafParts(part.message.body, out);
  else out.push(part);
  return out;
}

/** A text/* leaf that is not an attachment by disposition. */
export function isInlineText(part: MimePart): boolean {
  return part.type === 'text' && part.disposition?.type.toLowerCase() !== 'attachment';
}

/**
 * Decoded text of a text/* part (null otherwise); at most `maxBytes` of the encoded
 * body are read so huge parts cost bounded time.
 */
export function partText(raw: Buffer, part: MimePart, maxBytes = Infinity): string | null {
  if (part.type !== 'text') return null;
  const end = Math.min(part.bodyEnd, part.headerEnd + maxBytes);
  const bytes = decodeTransfer(raw.subarray(part.headerEnd, end), part.encoding) ?? raw.subarray(part.headerEnd, end);
  const text = bytesToText(bytes, getParam(part.params, 'charset'));
  return part.subtype === 'html' ? htmlToText(text) : text;
}
