/**
 * A cursor over the arguments of one framed command (RFC 9051 9 formal syntax).
 * Each method reads one grammar element and advances, or throws ImapParseError whose
 * text says what was expected and where (`Expected SP after tag`, `Expected number near "x)"`).
 * Methods never skip spaces themselves: `sp()` is explicit, like the ABNF.
 */
import type { Literal, RawCommand } from './command-reader.js';
import { ImapParseError } from './errors.js';
import { decodeMailboxUtf7, MailboxNameError, UNDECODABLE } from './mailbox-name.js';
import { parseSeqSet, type SeqSet } from './seq-set.js';

/** Session facts that change how arguments are read. */
export interface ParserState {
  /** UTF8=ACCEPT enabled or IMAP4rev2 selected: mailbox names are UTF-8, not modified UTF-7 (RFC 6855 3, RFC 9051 5.1). */
  utf8?: boolean;
}

/** A calendar date from a search key (RFC 9051 9 `date`): no time, no zone. */
export interface CalendarDate {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
}

/** The system flags with their canonical spelling (RFC 9051 2.3.2). */
export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] as const;
const SYSTEM_FLAG_BY_UPPER = new Map<string, string>([...SYSTEM_FLAGS, '\\Recent'].map((f) => [f.toUpperCase(), f]));
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const MAX_NUMBER = 4294967295; // RFC 9051 9: number is 32-bit unsigned
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** ATOM-CHAR: any CHAR except atom-specials `(){ %*"\]` and CTL (RFC 9051 9). */
function isAtomChar(b: number): boolean {
  return b > 0x20 && b < 0x7f && b !== 0x28 && b !== 0x29 && b !== 0x7b && b !== 0x25 && b !== 0x2a && b !== 0x22 && b !== 0x5c && b !== 0x5d;
}
/** ASTRING-CHAR = ATOM-CHAR / resp-specials ("]"). */
function isAstringChar(b: number): boolean {
  return isAtomChar(b) || b === 0x5d;
}
/** list-char = ATOM-CHAR / list-wildcards / resp-specials. */
function isListChar(b: number): boolean {
  return isAstringChar(b) || b === 0x25 || b === 0x2a;
}

/** Days in a month of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Cursor over one command's arguments; see the file header. */
export class ArgReader {
  private seg = 0;
  private pos = 0;

  constructor(
    private readonly cmd: RawCommand,
    /** Session facts (UTF-8 mode). */
    readonly state: ParserState = {},
    /** The tag, attached to every error. */
    public tagValue: string | undefined = cmd.tag,
  ) {}

  private get cur(): Buffer {
    return this.cmd.segments[this.seg];
  }

  /** The byte under the cursor, or -1 at the end of a segment (end of command or a literal). */
  peekByte(): number {
    return this.pos < this.cur.length ? this.cur[this.pos] : -1;
  }

  /** True at the end of the command. */
  atEnd(): boolean {
    return this.pos >= this.cur.length && this.seg >= this.cmd.literals.length;
  }

  /** True when the next token is a literal. */
  atLiteral(): boolean {
    return this.pos >= this.cur.length && this.seg < this.cmd.literals.length;
  }

  /** The next literal's framing (size, literal8) without consuming it; null when no literal is next. */
  peekLiteral(): Literal | null {
    return this.atLiteral() ? this.cmd.literals[this.seg] : null;
  }

  /** Describes the cursor position for error texts. */
  where(): string {
    if (this.atEnd()) return 'at end of command';
    if (this.atLiteral()) return 'before literal';
    const rest = this.cur.subarray(this.pos, this.pos + 20).toString('latin1').replace(/[^\x20-\x7e]/g, '?');
    return `near "${rest}${this.pos + 20 < this.cur.length ? '...' : ''}"`;
  }

  /** Builds (does not throw) an error carrying the tag. */
  error(text: string, opts: { response?: 'BAD' | 'NO'; code?: string } = {}): ImapParseError {
    return new ImapParseError(text, { ...opts, tag: this.tagValue });
  }

  /** Throws `Expected <what> <context or position>`. */
  expected(what: string, context?: string): never {
    throw this.error(`Expected ${what} ${context ?? this.where()}`);
  }

  /** Reads one SP. `context` completes the error text, e.g. sp('after tag'). */
  sp(context?: string): void {
    if (this.peekByte() !== 0x20) this.expected('SP', context);
    this.pos++;
  }

  /** Consumes an SP if there is one. */
  optionalSp(): boolean {
    if (this.peekByte() !== 0x20) return false;
    this.pos++;
    return true;
  }

  /** Consumes `ch` (one ASCII character) if it is next. */
  accept(ch: string): boolean {
    if (this.peekByte() !== ch.charCodeAt(0)) return false;
    this.pos++;
    return true;
  }

  /** Reads `ch` or throws `Expected "<ch>"`. */
  expect(ch: string, context?: string): void {
    if (!this.accept(ch)) this.expected(ch === '"' ? 'DQUOTE' : `"${ch}"`, context);
  }

  /** Where the cursor is, for `textSince` (NOTIFY keeps a fetch-att list as the client wrote it). */
  mark(): { seg: number; pos: number } {
    return { seg: this.seg, pos: this.pos };
  }

  /** The command text from `m` to the cursor; null when a literal lies between. */
  textSince(m: { seg: number; pos: number }): string | null {
    if (m.seg !== this.seg) return null;
    return this.cur.toString('latin1', m.pos, this.pos);
  }

  /** Requires the end of the command. */
  end(): void {
    if (!this.atEnd()) throw this.error(`Unexpected extra arguments ${this.where()}`);
  }

  private run(pred: (b: number) => boolean): string {
    const start = this.pos;
    while (this.pos < this.cur.length && pred(this.cur[this.pos])) this.pos++;
    return this.cur.toString('latin1', start, this.pos);
  }

  /** The tag: 1*<ASTRING-CHAR except "+">. */
  tag(): string {
    const t = this.run((b) => isAstringChar(b) && b !== 0x2b);
    if (t === '') throw this.error('Missing or invalid tag');
    this.tagValue = t;
    return t;
  }

  /** atom (RFC 9051 9); case is kept. */
  atom(what = 'atom'): string {
    const a = this.run(isAtomChar);
    if (a === '') this.expected(what);
    return a;
  }

  /** Reads an atom if one is next, else returns null without moving. */
  tryAtom(): string | null {
    const a = this.run(isAtomChar);
    return a === '' ? null : a;
  }

  /** Looks at the next atom (upper-cased) without consuming it. */
  peekAtom(): string | null {
    const save = this.pos;
    const a = this.run(isAtomChar);
    this.pos = save;
    return a === '' ? null : a.toUpperCase();
  }

  /** Reads a run of non-delimiter bytes (up to SP, parentheses or end), for tokens with their own grammar. */
  token(what: string): string {
    const t = this.run((b) => b !== 0x20 && b !== 0x28 && b !== 0x29);
    if (t === '') this.expected(what);
    return t;
  }

  /** Reads a run of letters, digits, ".", "-" and "_" (fetch attribute names, section texts). */
  word(what: string): string {
    const w = this.run((b) => (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a) || b === 0x2e || b === 0x2d || b === 0x5f);
    if (w === '') this.expected(what);
    return w;
  }

  /** The next literal as framed (for APPEND): literal8 allowed when `binary` is set. */
  literal(opts: { binary?: boolean } = {}): Literal {
    if (!this.atLiteral()) this.expected('literal');
    const lit = this.cmd.literals[this.seg];
    if (lit.binary && !opts.binary) throw this.error('literal8 is not allowed here'); // RFC 3516 4.2
    if (lit.containsNul && !lit.binary) throw this.error('NUL octet in literal (use literal8)'); // RFC 9051 9: CHAR8 excludes NUL
    this.seg++;
    this.pos = 0;
    return lit;
  }

  private quotedBytes(): Buffer {
    this.pos++; // DQUOTE
    const out: number[] = [];
    while (true) {
      const b = this.peekByte();
      if (b < 0) throw this.error('Unterminated quoted string');
      this.pos++;
      if (b === 0x22) return Buffer.from(out);
      if (b === 0x5c) {
        const e = this.peekByte();
        if (e !== 0x22 && e !== 0x5c) throw this.error('Invalid escape in quoted string'); // RFC 9051 9 QUOTED-CHAR
        this.pos++;
        out.push(e);
      } else if (b === 0) {
        throw this.error('NUL in quoted string');
      } else {
        out.push(b);
      }
    }
  }

  /** string = quoted / literal, as raw bytes. */
  stringBytes(what = 'string'): Buffer {
    if (this.peekByte() === 0x22) return this.quotedBytes();
    if (this.atLiteral()) {
      const lit = this.literal();
      if (!lit.data) throw this.error('Literal too large for this argument');
      return lit.data;
    }
    return this.expected(what);
  }

  private decode(bytes: Buffer): string {
    try {
      return utf8Decoder.decode(bytes);
    } catch {
      throw this.error('Invalid UTF-8 in string');
    }
  }

  /** string = quoted / literal, decoded as UTF-8 (US-ASCII is a subset). */
  string(what = 'string'): string {
    return this.decode(this.stringBytes(what));
  }

  /** astring = 1*ASTRING-CHAR / string. */
  astring(what = 'astring'): string {
    const b = this.peekByte();
    if (b === 0x22 || this.atLiteral()) return this.string(what);
    const a = this.run(isAstringChar);
    if (a === '') this.expected(what);
    return a;
  }

  /** nstring = string / NIL. */
  nstring(what = 'string or NIL'): string | null {
    const b = this.peekByte();
    if (b === 0x22 || this.atLiteral()) return this.string(what);
    const a = this.run(isAtomChar);
    if (a.toUpperCase() === 'NIL') return null;
    return this.expected(what);
  }

  private digits(what: string): string {
    const d = this.run((b) => b >= 0x30 && b <= 0x39);
    if (d === '') this.expected(what);
    return d;
  }

  /** number: 32-bit unsigned (RFC 9051 9). */
  number(what = 'number'): number {
    const d = this.digits(what);
    const n = Number(d);
    if (d.length > 10 || n > MAX_NUMBER) throw this.error(`Number too large: ${d.slice(0, 20)}`);
    return n;
  }

  /** nz-number: 1..4294967295. */
  nzNumber(what = 'non-zero number'): number {
    const n = this.number(what);
    if (n === 0) throw this.error(`Expected ${what}, got 0`);
    return n;
  }

  /**
   * number64 (RFC 9051 9, mod-sequence-value RFC 7162): up to 2^63-1 on the wire; Mailroom
   * keeps modseqs as JS numbers, so values above 2^53-1 are refused as too large.
   */
  number64(what = 'number'): number {
    const d = this.digits(what);
    const n = Number(d);
    if (d.length > 16 || !Number.isSafeInteger(n)) throw this.error(`Number too large: ${d.slice(0, 24)}`);
    return n;
  }

  /** "(" item *(SP item) ")"; an empty list only with allowEmpty. */
  list<T>(item: (r: this) => T, opts: { allowEmpty?: boolean; what?: string } = {}): T[] {
    this.expect('(', opts.what ? `to open ${opts.what} ${this.where()}` : undefined);
    const out: T[] = [];
    if (this.accept(')')) {
      if (!opts.allowEmpty) throw this.error(`Empty list${opts.what ? ` of ${opts.what}` : ''}`);
      return out;
    }
    while (true) {
      out.push(item(this));
      if (this.accept(')')) return out;
      this.sp(`or ")" in list ${this.where()}`);
    }
  }

  /** `SP "(" ... ")"` when present (e.g. CREATE params), else undefined and nothing consumed. */
  optionalList<T>(item: (r: this) => T, opts: { allowEmpty?: boolean } = {}): T[] | undefined {
    if (this.peekByte() !== 0x20 || this.cur[this.pos + 1] !== 0x28) return undefined;
    this.pos++;
    return this.list(item, opts);
  }

  /**
   * flag (RFC 9051 9): a system flag (returned in canonical case), a keyword atom, a
   * flag-extension `\atom`, or `\*` when `allowWildcard` (flag-perm).
   */
  flag(opts: { allowWildcard?: boolean } = {}): string {
    if (this.accept('\\')) {
      if (this.accept('*')) {
        if (!opts.allowWildcard) throw this.error('\\* is not allowed here');
        return '\\*';
      }
      const name = `\\${this.atom('flag name after "\\"')}`;
      return SYSTEM_FLAG_BY_UPPER.get(name.toUpperCase()) ?? name;
    }
    return this.atom('flag');
  }

  /** flag-list = "(" [flag *(SP flag)] ")". */
  flagList(opts: { allowWildcard?: boolean } = {}): string[] {
    return this.list((r) => r.flag(opts), { allowEmpty: true, what: 'flag list' });
  }

  /** STORE's `flag-list / (flag *(SP flag))` (RFC 9051 6.4.6). */
  storeFlags(): string[] {
    if (this.peekByte() === 0x28) return this.flagList();
    const out = [this.flag()];
    while (this.optionalSp()) out.push(this.flag());
    return out;
  }

  private fixedDigits(n: number, what: string): number {
    const d = this.run((b) => b >= 0x30 && b <= 0x39);
    if (d.length !== n) this.expected(what);
    return Number(d);
  }

  private month(): number {
    const m = MONTHS.indexOf(this.cur.toString('latin1', this.pos, this.pos + 3).toUpperCase());
    if (m < 0) this.expected('month name (Jan..Dec)');
    this.pos += 3;
    return m + 1;
  }

  private checkDay(year: number, month: number, day: number): void {
    if (day < 1 || day > daysInMonth(year, month)) throw this.error(`Invalid date: day ${day} of month ${month}`);
  }

  /**
   * date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
   * (RFC 9051 9), e.g. `"17-Jul-1996 02:44:25 -0700"`; returns the instant.
   */
  dateTime(): Date {
    this.expect('"', `to open date-time ${this.where()}`);
    let day: number;
    if (this.accept(' ')) day = this.fixedDigits(1, 'day digit');
    else day = this.fixedDigits(2, 'two-digit day');
    this.expect('-');
    const month = this.month();
    this.expect('-');
    const year = this.fixedDigits(4, 'four-digit year');
    this.checkDay(year, month, day);
    this.sp('before time in date-time');
    const hh = this.fixedDigits(2, 'hours');
    this.expect(':');
    const mm = this.fixedDigits(2, 'minutes');
    this.expect(':');
    const ss = this.fixedDigits(2, 'seconds');
    if (hh > 23 || mm > 59 || ss > 60) throw this.error('Invalid time in date-time');
    this.sp('before zone in date-time');
    const sign = this.peekByte();
    if (sign !== 0x2b && sign !== 0x2d) this.expected('zone (+hhmm or -hhmm)');
    this.pos++;
    const zone = this.fixedDigits(4, 'four-digit zone');
    const zh = Math.floor(zone / 100);
    const zm = zone % 100;
    if (zm > 59 || zh > 23) throw this.error('Invalid zone in date-time');
    this.expect('"', `to close date-time ${this.where()}`);
    const offset = (sign === 0x2d ? -1 : 1) * (zh * 60 + zm);
    return new Date(Date.UTC(year, month - 1, day, hh, mm, ss) - offset * 60_000);
  }

  /** date = date-text / DQUOTE date-text DQUOTE; date-text = 1*2DIGIT "-" Mon "-" 4DIGIT (RFC 9051 9). */
  date(): CalendarDate {
    const quoted = this.accept('"');
    const d = this.run((b) => b >= 0x30 && b <= 0x39);
    if (d.length < 1 || d.length > 2) this.expected('date (d-Mon-yyyy)');
    this.expect('-', `in date ${this.where()}`);
    const month = this.month();
    this.expect('-', `in date ${this.where()}`);
    const year = this.fixedDigits(4, 'four-digit year');
    if (quoted) this.expect('"', `to close date ${this.where()}`);
    const day = Number(d);
    this.checkDay(year, month, day);
    return { year, month, day };
  }

  private mailboxFromWire(raw: string): string {
    if (raw.toUpperCase() === 'INBOX') return 'INBOX'; // RFC 9051 5.1: INBOX is case-insensitive
    if (this.state.utf8) return raw; // RFC 6855 3: UTF-8 names when enabled
    try {
      return decodeMailboxUtf7(raw); // RFC 3501 5.1.3
    } catch (e) {
      // RFC 9051 7.1.3: the astring was valid syntax, so this is no BAD; the command says NO
      if (e instanceof MailboxNameError) return UNDECODABLE + raw;
      throw e;
    }
  }

  /** mailbox = "INBOX" / astring, decoded (modified UTF-7 unless UTF-8 mode); an undecodable name comes back marked (isUndecodableName). */
  mailbox(): string {
    return this.mailboxFromWire(this.astring('mailbox name'));
  }

  /** list-mailbox = 1*list-char / string: a LIST pattern with `%` and `*`, decoded like mailbox(). */
  listMailbox(): string {
    const b = this.peekByte();
    if (b === 0x22 || this.atLiteral()) return this.mailboxFromWire(this.string('mailbox pattern'));
    const p = this.run(isListChar);
    if (p === '') this.expected('mailbox pattern');
    return this.mailboxFromWire(p);
  }

  /** sequence-set, or `$` (RFC 5182). */
  seqSet(): SeqSet {
    const t = this.token('sequence set');
    try {
      return parseSeqSet(t);
    } catch (e) {
      if (e instanceof ImapParseError) e.tag = this.tagValue;
      throw e;
    }
  }
}

/** UID-prefixed commands (RFC 9051 6.4.9, RFC 6851 MOVE, RFC 5256 SORT/THREAD). */
const UID_COMMANDS = new Set(['FETCH', 'STORE', 'COPY', 'MOVE', 'SEARCH', 'EXPUNGE', 'SORT', 'THREAD', 'REPLACE']);

/** A command with its tag and name read; `args` is positioned after the SP that follows the name. */
export interface ParsedCommand {
  tag: string;
  /** Upper-cased; for `UID FETCH` this is `FETCH` and `uid` is true. */
  name: string;
  uid: boolean;
  args: ArgReader;
}

/**
 * Reads the tag and command name of a framed command. The returned cursor has
 * already consumed the single SP after the name (if any), so a command parser
 * starts with its first argument and ends with `args.end()`.
 */
export function parseCommand(raw: RawCommand, state: ParserState = {}): ParsedCommand {
  const r = new ArgReader(raw, state, undefined);
  const tag = r.tag();
  r.sp('after tag');
  let name = r.atom('command name').toUpperCase();
  let uid = false;
  if (name === 'UID') {
    r.sp('after UID');
    name = r.atom('command name after UID').toUpperCase();
    if (!UID_COMMANDS.has(name)) throw r.error(`Unknown UID command ${name}`);
    uid = true;
  }
  if (!r.atEnd()) r.sp('after command name');
  return { tag, name, uid, args: r };
}
