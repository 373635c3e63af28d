/**
 * Pure SMTP/LMTP command-line parsing: a line of text in, a typed command or an
 * `SmtpSyntaxError` carrying the reply code out. No I/O, no store, no session state:
 * whether a parsed parameter is *allowed* (advertised, TLS on…) is the session's call.
 *
 * Grammar: RFC 5321 4.1.2 (Path, Mailbox, esmtp-param), RFC 6531 3.3 (UTF-8 in
 * addresses under SMTPUTF8), RFC 1870 (SIZE), RFC 6152/3030 (BODY), RFC 3461 (DSN),
 * RFC 8689 (REQUIRETLS), RFC 4954 5 (AUTH=), RFC 3030 (BDAT).
 * Leniency kept on purpose (as Postfix): spaces after "FROM:"/"TO:" and around the
 * path, keywords in any case.
 */

/** A reply-ready syntax or policy error found while parsing. */
export class SmtpSyntaxError extends Error {
  constructor(
    readonly code: number,
    readonly enhanced: string,
    message: string,
  ) {
    super(message);
    this.name = 'SmtpSyntaxError';
  }
}

export interface CommandLine {
  /** Upper-cased command word. */
  verb: string;
  /** Everything after the first space (may be empty). */
  args: string;
}

/** Splits `VERB args`; the verb is upper-cased. */
export function splitCommand(line: string): CommandLine {
  const m = /^([A-Za-z]+)(?: (.*))?$/s.exec(line);
  if (!m) return { verb: '', args: line };
  return { verb: m[1].toUpperCase(), args: (m[2] ?? '').trim() };
}

export interface Mailbox {
  /** `local@domain` as the client wrote it (local part unquoted when it is a plain dot-atom); '' for the null path. */
  address: string;
  local: string;
  domain: string;
  /** The address contains non-ASCII characters (needs SMTPUTF8, RFC 6531 3.3). */
  utf8: boolean;
}

export type Body = '7BIT' | '8BITMIME' | 'BINARYMIME';
export type NotifyEvent = 'SUCCESS' | 'FAILURE' | 'DELAY';

export interface MailFrom {
  sender: Mailbox;
  size?: number;
  body?: Body;
  smtputf8: boolean;
  requireTls: boolean;
  ret?: 'FULL' | 'HDRS';
  envid?: string;
  /** RFC 4954 5 AUTH= value (xtext-decoded), or '<>'. */
  auth?: string;
}

export interface RcptTo {
  recipient: Mailbox;
  /** RFC 3461 4.1: 'NEVER' or a list of events. */
  notify?: NotifyEvent[] | 'NEVER';
  orcpt?: { type: string; address: string };
}

// The hyphen is escaped so a class built from it can go on with a range.
const ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-";
const ATOM_ASCII = new RegExp(`^[${ATEXT}]+(\\.[${ATEXT}]+)*$`);
const ATOM_UTF8 = new RegExp(`^[${ATEXT}\\u0080-\\u{10FFFF}]+(\\.[${ATEXT}\\u0080-\\u{10FFFF}]+)*$`, 'u');
const LABEL_ASCII = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;
const LABEL_UTF8 = /^[\p{L}\p{N}]([\p{L}\p{N}\p{M}-]*[\p{L}\p{N}\p{M}])?$/u;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

function syntax(code: number, enhanced: string, message: string): never {
  throw new SmtpSyntaxError(code, enhanced, message);
}

/** Parses `<mailbox>` (with an optional, ignored source route) at the start of text. RFC 5321 4.1.2 */
export function parsePath(text: string, allowNull: boolean, badCode: string): { mailbox: Mailbox; rest: string } {
  const t = text.trimStart();
  if (!t.startsWith('<')) syntax(501, badCode, 'address must be enclosed in <>');
  const close = findClosingBracket(t);
  if (close < 0) syntax(501, badCode, 'missing > after the address');
  let inner = t.slice(1, close);
  const rest = t.slice(close + 1);
  if (rest !== '' && !rest.startsWith(' ')) syntax(501, badCode, 'expected a space after >');
  if (inner === '') {
    if (!allowNull) syntax(501, badCode, 'empty address');
    return { mailbox: { address: '', local: '', domain: '', utf8: false }, rest };
  }
  // RFC 5321 4.1.2 A-d-l: "MUST accept and ignore" a source route (RFC 5321 C).
  const route = /^@[^:,]+(,@[^:,]+)*:/.exec(inner);
  if (route) inner = inner.slice(route[0].length);
  return { mailbox: parseMailbox(inner, badCode), rest };
}

function findClosingBracket(t: string): number {
  let quoted = false;
  for (let i = 1; i < t.length; i++) {
    const c = t[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '>' && !quoted) return i;
  }
  return -1;
}

/** `Local-part "@" ( Domain / address-literal )`, RFC 5321 4.1.2 with RFC 6531 3.3 extensions. */
export function parseMailbox(text: string, badCode: string): Mailbox {
  const at = text.lastIndexOf('@');
  if (at <= 0) syntax(501, badCode, 'expected local@domain');
  const rawLocal = text.slice(0, at);
  const domain = text.slice(at + 1);
  const local = parseLocalPart(rawLocal, badCode);
  if (!validDomain(domain)) syntax(501, badCode, 'invalid domain');
  if (Buffer.byteLength(rawLocal) > 64) syntax(501, badCode, 'local part longer than 64 octets'); // RFC 5321 4.5.3.1.1
  if (Buffer.byteLength(domain) > 255) syntax(501, badCode, 'domain longer than 255 octets'); // RFC 5321 4.5.3.1.2
  return { address: `${local}@${domain}`, local, domain, utf8: NON_ASCII.test(text) };
}

function parseLocalPart(raw: string, badCode: string): string {
  if (raw.startsWith('"')) {
    if (raw.length < 2 || !raw.endsWith('"')) syntax(501, badCode, 'unterminated quoted local part');
    let out = '';
    for (let i = 1; i < raw.length - 1; i++) {
      let c = raw[i];
      if (c === '\\') {
        c = raw[++i] ?? '';
        if (i >= raw.length - 1 || c < ' ' || c > '~') syntax(501, badCode, 'bad quoted-pair'); // RFC 5321 4.1.2 quoted-pairSMTP
      } else if (c === '"' || (c < ' ' && c !== '') || c === '\x7f') {
        syntax(501, badCode, 'bad character in quoted local part');
      }
      out += c;
    }
    // A quoted string that is a plain dot-atom names the same mailbox unquoted (RFC 5321 2.4).
    return ATOM_UTF8.test(out) ? out : raw;
  }
  if (!(NON_ASCII.test(raw) ? ATOM_UTF8 : ATOM_ASCII).test(raw)) syntax(501, badCode, 'bad local part');
  return raw;
}

function validDomain(domain: string): boolean {
  if (domain.startsWith('[')) return /^\[(\d{1,3}(\.\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]+)\]$/.test(domain);
  const labels = domain.split('.');
  return labels.every((l) => l.length <= 63 && (LABEL_ASCII.test(l) || (NON_ASCII.test(l) && LABEL_UTF8.test(l))));
}

/** esmtp-param list after the path: `KEY[=VALUE]` separated by spaces. RFC 5321 4.1.2 */
export function parseParams(text: string, utf8Values: boolean): Map<string, string | null> {
  const params = new Map<string, string | null>();
  for (const word of text.split(' ').filter((w) => w !== '')) {
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*)(?:=(.+))?$/s.exec(word);
    if (!m) syntax(501, '5.5.4', `malformed parameter "${clip(word)}"`);
    const value = m[2] ?? null;
    // esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 under SMTPUTF8 (RFC 6531 3.3).
    // eslint-disable-next-line no-control-regex
    if (value !== null && !(utf8Values ? /^[^\x00-\x20=\x7f]+$/u : /^[\x21-\x3c\x3e-\x7e]+$/).test(value)) syntax(501, '5.5.4', `bad value for ${m[1]}`);
    const key = m[1].toUpperCase();
    if (params.has(key)) syntax(501, '5.5.4', `duplicate parameter ${key}`);
    params.set(key, value);
  }
  return params;
}

/** Decodes RFC 3461 4 xtext (`+XX` hex escapes). */
export function decodeXtext(text: string): string {
  if (!/^([\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/.test(text)) syntax(501, '5.5.4', 'malformed xtext');
  return text.replace(/\+([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function expectPrefix(args: string, prefix: 'FROM:' | 'TO:', usage: string): string {
  if (args.slice(0, prefix.length).toUpperCase() !== prefix) syntax(501, '5.5.4', `syntax: ${usage}`);
  return args.slice(prefix.length);
}

function flag(params: Map<string, string | null>, key: string): boolean {
  if (!params.has(key)) return false;
  if (params.get(key) !== null) syntax(501, '5.5.4', `${key} takes no value`);
  params.delete(key);
  return true;
}

/** `MAIL FROM:<reverse-path> [params]`. */
export function parseMailFrom(args: string): MailFrom {
  const { mailbox, rest } = parsePath(expectPrefix(args, 'FROM:', 'MAIL FROM:<address>'), true, '5.1.7');
  const params = parseParams(rest, NON_ASCII.test(rest));
  const out: MailFrom = { sender: mailbox, smtputf8: flag(params, 'SMTPUTF8'), requireTls: flag(params, 'REQUIRETLS') };
  for (const [key, value] of params) {
    if (value === null) syntax(555, '5.5.4', `unsupported parameter ${key}`);
    switch (key) {
      case 'SIZE':
        if (!/^\d{1,20}$/.test(value)) syntax(501, '5.5.4', 'SIZE must be a number'); // RFC 1870 5
        out.size = Number(value);
        break;
      case 'BODY': {
        const body = value.toUpperCase();
        if (body !== '7BIT' && body !== '8BITMIME' && body !== 'BINARYMIME') syntax(501, '5.5.4', 'BODY must be 7BIT, 8BITMIME or BINARYMIME');
        out.body = body;
        break;
      }
      case 'RET': {
        const ret = value.toUpperCase();
        if (ret !== 'FULL' && ret !== 'HDRS') syntax(501, '5.5.4', 'RET must be FULL or HDRS'); // RFC 3461 4.3
        out.ret = ret;
        break;
      }
      case 'ENVID':
        out.envid = decodeXtext(value);
        if (out.envid.length > 100) syntax(501, '5.5.4', 'ENVID longer than 100 characters'); // RFC 3461 4.4
        break;
      case 'AUTH':
        out.auth = value === '<>' ? '<>' : decodeXtext(value);
        break;
      default:
        syntax(555, '5.5.4', `unsupported parameter ${key}`); // RFC 5321 4.1.1.11
    }
  }
  if (mailbox.utf8 && !out.smtputf8) syntax(553, '5.6.7', 'non-ASCII sender address needs SMTPUTF8'); // RFC 6531 3.5
  return out;
}

/** `RCPT TO:<forward-path> [params]`; `utf8Allowed` says whether MAIL carried SMTPUTF8. */
export function parseRcptTo(args: string, utf8Allowed: boolean): RcptTo {
  const afterTo = expectPrefix(args, 'TO:', 'RCPT TO:<address>');
  // RFC 5321 4.1.1.3: <Postmaster> without a domain must be accepted.
  const pm = /^\s*<postmaster>(.*)$/is.exec(afterTo);
  const { mailbox, rest } = pm
    ? { mailbox: { address: 'postmaster', local: 'postmaster', domain: '', utf8: false }, rest: pm[1] }
    : parsePath(afterTo, false, '5.1.3');
  if (rest !== '' && !rest.startsWith(' ')) syntax(501, '5.1.3', 'expected a space after >');
  const params = parseParams(rest, utf8Allowed);
  const out: RcptTo = { recipient: mailbox };
  for (const [key, value] of params) {
    if (value === null) syntax(555, '5.5.4', `unsupported parameter ${key}`);
    if (key === 'NOTIFY') out.notify = parseNotify(value);
    else if (key === 'ORCPT') out.orcpt = parseOrcpt(value);
    else syntax(555, '5.5.4', `unsupported parameter ${key}`);
  }
  if (mailbox.utf8 && !utf8Allowed) syntax(553, '5.6.7', 'non-ASCII recipient address needs SMTPUTF8'); // RFC 6531 3.5
  return out;
}

function parseNotify(value: string): NotifyEvent[] | 'NEVER' {
  const words = value.toUpperCase().split(',');
  if (words.length === 1 && words[0] === 'NEVER') return 'NEVER'; // RFC 3461 4.1: NEVER stands alone
  const events = new Set<NotifyEvent>();
  for (const w of words) {
    if (w !== 'SUCCESS' && w !== 'FAILURE' && w !== 'DELAY') syntax(501, '5.5.4', 'NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY');
    events.add(w);
  }
  return [...events];
}

function parseOrcpt(value: string): { type: string; address: string } {
  const semi = value.indexOf(';');
  if (semi <= 0) syntax(501, '5.5.4', 'ORCPT must be addr-type;address'); // RFC 3461 4.2
  const type = value.slice(0, semi);
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(type)) syntax(501, '5.5.4', 'bad ORCPT address type');
  const address = decodeXtext(value.slice(semi + 1));
  return { type: type.toLowerCase(), address };
}

/** `BDAT chunk-size [LAST]`, RFC 3030 2. */
export function parseBdat(args: string): { size: number; last: boolean } {
  const m = /^(\d{1,15})(?: +(LAST))? *$/i.exec(args);
  if (!m) syntax(501, '5.5.4', 'syntax: BDAT size [LAST]');
  return { size: Number(m[1]), last: m[2] !== undefined };
}

/** `BURL absolute-URI [SP "LAST"]`, RFC 4468 3.5: the URI is any RFC 3986 scheme and printable ASCII. */
export function parseBurl(args: string): { url: string; last: boolean } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+?)(?: +(LAST))? *$/i.exec(args);
  if (!m) syntax(501, '5.5.4', 'Syntax: BURL absolute-URI [LAST]');
  return { url: m[1], last: m[2] !== undefined };
}

/** The domain or address literal after HELO/EHLO/LHLO. */
export function parseHello(args: string): string {
  const name = args.split(' ')[0] ?? '';
  if (name === '') syntax(501, '5.5.4', 'a domain name is required');
  if (name.length > 255 || !/^[\x21-\x7e\u0080-\u{10FFFF}]+$/u.test(name)) syntax(501, '5.5.4', 'invalid domain name');
  return name;
}
