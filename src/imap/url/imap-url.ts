/**
 * IMAP URLs (RFC 5092) naming one message or part of a message, as CATENATE (RFC 4469 5)
 * takes them: absolute `imap://[user@]host[:port]/mailbox[;UIDVALIDITY=n]/;UID=m[/;SECTION=s][/;PARTIAL=o[.l]]`,
 * or relative to the selected mailbox (`;UID=m...`, RFC 4469 5 "the selected mailbox is the base").
 * A `;URLAUTH=` URL is refused here: those are parsed by auth-url.ts for URLFETCH and BURL;
 * CATENATE covers the session's own messages only (RFC 4469 3).
 */
import { parseSectionSpec } from '../../mime/sections.js';
import type { Partial, Section } from '../protocol/index.js';

export interface MessageUrl {
  /** The user of an absolute URL's authority (`;AUTH=` dropped), undefined when it names none. */
  user?: string;
  /** Decoded mailbox name, or undefined for a URL relative to the selected mailbox. */
  mailbox?: string;
  uidValidity?: number;
  uid: number;
  section?: Section;
  partial?: Partial;
}

const NZ_NUMBER = /^[1-9][0-9]{0,9}$/;

/** Percent-decoding as UTF-8 (RFC 5092 3.3); null for a broken escape or invalid UTF-8. */
function decode(s: string): string | null {
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) return null;
  const bytes = Buffer.from(s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return text.decode(bytes);
  } catch {
    return null;
  }
}

function nz(s: string): number | null {
  if (!NZ_NUMBER.test(s)) return null;
  const n = Number(s);
  return n <= 0xffffffff ? n : null;
}

function section(spec: string): Section | null {
  const p = parseSectionSpec(spec);
  if (!p) return null;
  const text = p.text === '' ? undefined : p.text;
  return text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT' ? { part: p.path, text, fields: p.names } : { part: p.path, text };
}

/** `;UID=m[/;SECTION=s][/;PARTIAL=o[.l]]` (RFC 5092 iuid, isection, ipartial). */
function messagePart(path: string, url: MessageUrl): MessageUrl | null {
  const segs = path.split('/');
  const uid = /^;UID=(.*)$/i.exec(segs[0]);
  const n = uid ? nz(uid[1]) : null;
  if (n === null) return null;
  url.uid = n;
  let i = 1;
  const sec = segs[i] !== undefined ? /^;SECTION=(.+)$/i.exec(segs[i]) : null;
  if (sec) {
    const decoded = decode(sec[1]);
    const s = decoded === null ? null : section(decoded);
    if (!s) return null;
    url.section = s;
    i++;
  }
  const part = segs[i] !== undefined ? /^;PARTIAL=([0-9]{1,10})(?:\.([0-9]{1,10}))?$/i.exec(segs[i]) : null;
  if (part) {
    const length = part[2] === undefined ? 0xffffffff : nz(part[2]);
    if (length === null) return null;
    url.partial = { offset: Number(part[1]), length };
    i++;
  }
  return i === segs.length ? url : null;
}

/** The URL, or null when it is not an IMAP URL to one message this server can resolve. */
export function parseMessageUrl(text: string): MessageUrl | null {
  if (/[\s"\\]/.test(text) || /;URLAUTH=/i.test(text) || text.includes('?')) return null;
  const url: MessageUrl = { uid: 0 };
  let rest = text;
  if (/^imap:\/\//i.test(rest)) {
    rest = rest.slice(7);
    const slash = rest.indexOf('/');
    if (slash <= 0) return null;
    const authority = rest.slice(0, slash);
    rest = rest.slice(slash);
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      const user = decode(authority.slice(0, at).replace(/;AUTH=.*$/i, ''));
      if (!user) return null;
      url.user = user;
    }
  }
  if (rest.startsWith(';')) return messagePart(rest, url);
  if (!rest.startsWith('/') || rest.length < 2) return null;
  const m = /^\/([^;]+)(?:;UIDVALIDITY=([^/]*))?\/(;.*)$/i.exec(rest);
  if (!m) return null;
  const mailbox = decode(m[1]);
  if (!mailbox) return null;
  url.mailbox = mailbox;
  if (m[2] !== undefined) {
    const v = nz(m[2]);
    if (v === null) return null;
    url.uidValidity = v;
  }
  return messagePart(m[3], url);
}
