/**
 * RFC 8970 preview: up to 256 characters from the first inline text part, decoded,
 * whitespace collapsed. Prefers text/plain inside a multipart/alternative the way
 * readers display it; falls back to the first text/html.
 */
import type { MimePart } from './types.js';
import { isInlineText, leafParts, partText } from './text-parts.js';

/** RFC 8970 3: a preview holds no more than 256 characters. */
const PREVIEW_CHARS = 256;
/** Enough encoded bytes for 256 characters after decoding and tag stripping. */
const READ_BYTES = 64 * 1024;

export function buildPreview(raw: Buffer, body: MimePart): string {
  const texts = leafParts(body).filter(isInlineText);
  const chosen = texts.find((p) => p.subtype === 'plain') ?? texts[0];
  if (!chosen) return '';
  return cleanPreview(partText(raw, chosen, READ_BYTES) ?? '');
}

/**
 * Whitespace collapsed, control characters (a NUL could not even be sent in an IMAP literal)
 * turned into spaces, at most 256 characters (RFC 8970 3: MUST NOT be more). Also applied
 * when a stored preview is sent, so previews indexed before this rule follow it too.
 */
export function cleanPreview(text: string): string {
  // Works on a growing prefix: the text may be 64 KB and only 256 characters are kept (this
  // ran on every APPEND). Once the collapsed prefix has more than 256 characters, its first
  // 256 are those of the whole text: a whitespace run cut at the prefix's end still
  // collapses to one space, and nothing after the 257th character can change them.
  for (let take = 2048; ; take *= 4) {
    const whole = take >= text.length;
    const flat = collapse(whole ? text : text.slice(0, take));
    const head = firstChars(whole ? flat.trimEnd() : flat, PREVIEW_CHARS + 1);
    if (whole) return head.length > PREVIEW_CHARS ? head.slice(0, PREVIEW_CHARS).join('') : head.join('');
    if (head.length > PREVIEW_CHARS) return head.slice(0, PREVIEW_CHARS).join('');
  }
}

function collapse(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trimStart();
}

/** The first `n` code points of `s`. */
function firstChars(s: string, n: number): string[] {
  const out: string[] = [];
  for (const ch of s) {
    if (out.length === n) break;
    out.push(ch);
  }
  return out;
}
