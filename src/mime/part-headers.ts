/**
 * From a part's header fields to the data BODYSTRUCTURE and ENVELOPE need
 * (RFC 2045, RFC 2183, RFC 3282, RFC 2557, RFC 1864; RFC 9051 7.5.2), following
 * Dovecot's choices: the first Content-* header of a kind wins, the last envelope
 * string field wins while address fields accumulate, values are kept raw (undecoded) with folds removed.
 */
import type { Address, Envelope, Params } from './types.js';
import type { HeaderField } from './header-block.js';
import { cutAtNul, unfold } from './header-block.js';
import { Rfc822Reader } from './rfc822-tokens.js';
import { getParam, parseParams } from './rfc2231.js';
import { parseAddressList } from './address.js';

/** Content-* data of one part, as written (case kept). */
export interface ContentInfo {
  /** Saw MIME-Version or Content-Type: without either, Content-* fields are ignored. */
  isMime: boolean;
  /** Content-Type as read: null when absent. */
  type: string | null;
  subtype: string | null;
  /** False when the Content-Type value was broken (its parameters are then not read). */
  typeOk: boolean;
  params: Params;
  encoding: string | null;
  id: string | null;
  description: string | null;
  md5: string | null;
  disposition: { type: string; params: Params } | null;
  language: string[] | null;
  location: string | null;
}

function emptyInfo(): ContentInfo {
  return {
    isMime: false,
    type: null,
    subtype: null,
    typeOk: false,
    params: [],
    encoding: null,
    id: null,
    description: null,
    md5: null,
    disposition: null,
    language: null,
    location: null,
  };
}

/** Raw string value as Dovecot keeps it: up to a NUL, folds removed. */
function rawValue(v: string): string {
  return unfold(cutAtNul(v));
}

function parseContentType(info: ContentInfo, value: string): void {
  const r = new Rfc822Reader(value);
  r.skipLwsp();
  const out: string[] = [];
  const ret = r.contentType(out);
  const full = out.join('');
  const slash = full.indexOf('/');
  info.typeOk = ret >= 0;
  // a broken Content-Type is kept as "" "" (Dovecot 2.3), not guessed
  info.type = info.typeOk ? full.slice(0, slash) : '';
  info.subtype = info.typeOk ? full.slice(slash + 1) : '';
  if (info.typeOk) info.params = parseParams(r);
}

function parseEncoding(info: ContentInfo, value: string): void {
  const r = new Rfc822Reader(value);
  r.skipLwsp();
  const out: string[] = [];
  if (r.mimeToken(out) >= 0 && r.skipLwsp() === 0 && out.join('') !== '') info.encoding = out.join('');
}

function parseDisposition(info: ContentInfo, value: string): void {
  const r = new Rfc822Reader(value);
  r.skipLwsp();
  const out: string[] = [];
  if (r.mimeToken(out) < 0) return;
  info.disposition = { type: out.join(''), params: parseParams(r) };
}

/** RFC 3282: Content-Language = 1#Language-tag. */
function parseLanguage(info: ContentInfo, value: string): void {
  const r = new Rfc822Reader(value);
  const langs: string[] = [];
  r.skipLwsp();
  for (;;) {
    const out: string[] = [];
    if (r.atom(out) < 0) break;
    langs.push(out.join(''));
    if (r.atEnd || r.peek() !== 44) break;
    r.pos++;
    r.skipLwsp();
  }
  if (langs.length > 0) info.language = langs;
}

function applyContentField(info: ContentInfo, name: string, value: string): void {
  switch (name.slice(8).toLowerCase()) {
    case 'type':
      if (info.type === null) parseContentType(info, value);
      break;
    case 'transfer-encoding':
      if (info.encoding === null) parseEncoding(info, value);
      break;
    case 'id':
      if (info.id === null) info.id = rawValue(value);
      break;
    case 'description':
      if (info.description === null) info.description = rawValue(value);
      break;
    case 'md5':
      if (info.md5 === null) info.md5 = rawValue(value);
      break;
    case 'language':
      if (info.language === null) parseLanguage(info, value);
      break;
    case 'location':
      if (info.location === null) info.location = rawValue(value);
      break;
    case 'disposition':
      // Dovecot lets a later Content-Disposition win while the first had no parameters
      if (info.disposition === null || info.disposition.params.length === 0) parseDisposition(info, value);
      break;
  }
}

/** Collects the Content-* data of a part; `inheritedMime` is true for multipart children. */
export function readContentInfo(fields: HeaderField[], inheritedMime: boolean): ContentInfo {
  const info = emptyInfo();
  info.isMime = inheritedMime;
  for (const f of fields) {
    if (f.value === null) continue;
    const lower = f.name.toLowerCase();
    if (lower === 'mime-version') info.isMime = true;
    else if (lower === 'content-type') info.isMime = true; // RFC 2045 4 is not enforced, as in Dovecot
    if (lower.startsWith('content-')) applyContentField(info, f.name, f.value);
  }
  if (!info.isMime) return { ...emptyInfo(), isMime: false };
  return info;
}

/** The boundary parameter of a multipart Content-Type, cut to 80 bytes like Dovecot. */
export function boundaryOf(info: ContentInfo): string | null {
  if (!info.typeOk) return null;
  const b = getParam(info.params, 'boundary');
  return b === null ? null : b.slice(0, 80);
}

const ENVELOPE_FIELDS = new Set(['date', 'subject', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'in-reply-to', 'message-id']);

/** RFC 9051 7.5.2 envelope; the last Date/Subject/ID field wins, address fields add up; Sender and Reply-To default to From. */
export function readEnvelope(fields: HeaderField[]): Envelope {
  const env: Envelope = {
    date: null,
    subject: null,
    from: null,
    sender: null,
    replyTo: null,
    to: null,
    cc: null,
    bcc: null,
    inReplyTo: null,
    messageId: null,
  };
  for (const f of fields) {
    if (f.value === null) continue;
    const lower = f.name.toLowerCase();
    if (!ENVELOPE_FIELDS.has(lower)) continue;
    const str = rawValue(f.value);
    const value = f.value;
    // repeated address fields accumulate, as Dovecot does
    const addrs = (prev: Address[] | null): Address[] | null => {
      const list = parseAddressList(value);
      return prev === null ? list : list === null ? prev : prev.concat(list);
    };
    switch (lower) {
      case 'date': env.date = str; break;
      case 'subject': env.subject = cutAtNul(value); break; // folds kept: ENVELOPE cleans them
      case 'in-reply-to': env.inReplyTo = str; break;
      case 'message-id': env.messageId = str; break;
      case 'from': env.from = addrs(env.from); break;
      case 'sender': env.sender = addrs(env.sender); break;
      case 'reply-to': env.replyTo = addrs(env.replyTo); break;
      case 'to': env.to = addrs(env.to); break;
      case 'cc': env.cc = addrs(env.cc); break;
      case 'bcc': env.bcc = addrs(env.bcc); break;
    }
  }
  env.sender ??= env.from; // RFC 9051 7.5.2: sender and reply-to default to from
  env.replyTo ??= env.from;
  return env;
}
