/**
 * BODY and BODYSTRUCTURE (RFC 9051 7.5.2, RFC 3501 7.4.2) from the stored MIME index.
 * Pure. Follows Dovecot's imap-bodystructure.c so answers compare byte for byte:
 * types and parameters as the sender spelled them, a default ("charset" "us-ascii")
 * for text, "7bit" when no Content-Transfer-Encoding was given.
 */
import type { MimePart, Params } from '../../mime/types.js';
import { formatEnvelope } from './envelope.js';
import { formatNString, formatString } from './imap-string.js';

/** RFC 2045 5.2: text without a charset parameter is us-ascii. */
function formatParams(params: Params, defaultCharset: boolean): string {
  const items: string[] = [];
  let seenCharset = false;
  for (const [k, v] of params) {
    if (k.toLowerCase() === 'charset') seenCharset = true;
    items.push(formatString(k), formatString(v));
  }
  if (defaultCharset && !seenCharset) items.push('"charset" "us-ascii"');
  return items.length === 0 ? 'NIL' : `(${items.join(' ')})`;
}

/** body-fld-dsp, body-fld-lang, body-fld-loc (the extension data every part has). */
function formatCommonExtension(part: MimePart): string {
  const d = part.disposition;
  const disposition = d === null ? 'NIL' : `(${formatString(d.type)} ${formatParams(d.params, false)})`;
  const language = part.language === null ? 'NIL' : `(${part.language.map((l) => formatString(l)).join(' ')})`;
  return `${disposition} ${language} ${formatNString(part.location)}`;
}

function formatMultipart(part: MimePart, extended: boolean): string {
  const children = (part.parts ?? []).map((p) => formatBodyStructure(p, extended)).join('');
  const subtype = formatString(part.subtypeAsWritten ?? part.subtype);
  if (!extended) return `(${children} ${subtype})`;
  return `(${children} ${subtype} ${formatParams(part.params, false)} ${formatCommonExtension(part)})`;
}

function formatLeaf(part: MimePart, extended: boolean): string {
  const isText = part.type === 'text' && !part.message;
  const type = part.message
    ? '"message" "rfc822"'
    : `${formatString(part.typeAsWritten ?? part.type)} ${formatString(part.subtypeAsWritten ?? part.subtype)}`;
  const fields = [
    type,
    formatParams(part.params, isText),
    formatNString(part.id),
    formatNString(part.description),
    formatString(part.encodingAsWritten ?? part.encoding.toLowerCase()),
    String(part.size),
  ];
  if (part.message) {
    fields.push(`(${formatEnvelope(part.message.envelope).slice(1, -1)})`, formatBodyStructure(part.message.body, extended));
  }
  if (part.lines !== null && (isText || part.message)) fields.push(String(part.lines));
  if (extended) fields.push(formatNString(part.md5), formatCommonExtension(part));
  return `(${fields.join(' ')})`;
}

/** The parenthesised BODY (extended = false) or BODYSTRUCTURE (extended = true) value. */
export function formatBodyStructure(part: MimePart, extended: boolean): string {
  return part.parts ? formatMultipart(part, extended) : formatLeaf(part, extended);
}
