/**
 * FETCH / UID FETCH arguments (RFC 9051 6.4.5, RFC 3501 6.4.5) into typed items, each
 * with the name the server must use for it in the FETCH response (RFC 9051 7.5.2:
 * BODY.PEEK[x] answers as BODY[x], a partial `<o.n>` answers as `<o>`).
 * Extensions: BINARY (RFC 3516), CONDSTORE/QRESYNC modifiers (RFC 7162 3.1.4, 3.2.6),
 * OBJECTID (RFC 8474 5), SAVEDATE (RFC 8514), PREVIEW (RFC 8970).
 */
import { partialRange, type PartialRange } from './partial-range.js';
import type { ArgReader } from './arg-reader.js';
import { formatString } from './imap-string.js';
import type { SeqSet } from './seq-set.js';

/** section-text / section-msgtext keywords. */
export type SectionText = 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

/** A body section (RFC 9051 9 `section-spec`); `part` empty for the whole message. */
export interface Section {
  part: number[];
  text?: SectionText;
  /** Field names for HEADER.FIELDS(.NOT), as the client wrote them. */
  fields?: string[];
}

/** `<offset.length>`; only `offset` is echoed in the response. */
export interface Partial {
  offset: number;
  length: number;
}

/** Attributes without arguments, by their wire name. */
export type SimpleFetchAttr =
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822.SIZE'
  | 'ENVELOPE'
  | 'BODY'
  | 'BODYSTRUCTURE'
  | 'UID'
  | 'MODSEQ'
  | 'EMAILID'
  | 'THREADID'
  | 'SAVEDATE'
  | 'RFC822'
  | 'RFC822.HEADER'
  | 'RFC822.TEXT';

/** One fetch item; `name` is the response item name. */
export type FetchItem =
  | { type: 'simple'; attr: SimpleFetchAttr; name: string }
  | { type: 'preview'; lazy: boolean; name: 'PREVIEW' }
  | { type: 'section'; peek: boolean; section: Section; partial?: Partial; name: string }
  | { type: 'binary'; peek: boolean; part: number[]; partial?: Partial; name: string }
  | { type: 'binary.size'; part: number[]; name: string };

/** A parsed FETCH command. */
export interface FetchCommand {
  set: SeqSet;
  items: FetchItem[];
  /** CHANGEDSINCE modifier (RFC 7162 3.1.4). */
  changedSince?: number;
  /** VANISHED modifier (RFC 7162 3.2.6): only with UID FETCH and CHANGEDSINCE. */
  vanished: boolean;
  /** PARTIAL modifier (RFC 9394 3.2): only this window of the set's messages, by position. */
  partial?: PartialRange;
}

const SIMPLE = new Set<string>(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'UID', 'MODSEQ', 'EMAILID', 'THREADID', 'SAVEDATE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);
const MACROS: Record<string, SimpleFetchAttr[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const SECTION_TEXTS = new Set<string>(['HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME']);

const simple = (attr: SimpleFetchAttr): FetchItem => ({ type: 'simple', attr, name: attr });

/**
 * Parses `sequence-set SP (macro / fetch-att / "(" fetch-att *(SP fetch-att) ")") [SP modifiers]`
 * to the end of the command. With `uid`, a UID item is added when missing (RFC 9051 6.4.9 MUST),
 * except with `uidOnly`, where the UIDFETCH response's number is the UID (RFC 9586 3.1);
 * with CHANGEDSINCE, a MODSEQ item is added when missing (RFC 7162 3.1.4.1).
 */
export function parseFetch(r: ArgReader, opts: { uid?: boolean; uidOnly?: boolean } = {}): FetchCommand {
  const set = r.seqSet();
  r.sp('after sequence set');
  let items: FetchItem[];
  if (r.peekByte() === 0x28) {
    items = r.list((x) => fetchAtt(x), { what: 'fetch attributes' });
  } else {
    const macro = MACROS[r.peekAtom() ?? ''];
    if (macro) {
      r.atom();
      items = macro.map(simple);
    } else {
      items = [fetchAtt(r)];
    }
  }
  const cmd: FetchCommand = { set, items, vanished: false };
  if (r.optionalSp()) r.list((x) => fetchModifier(x, cmd), { what: 'fetch modifiers' });
  if (cmd.vanished && (!opts.uid || cmd.changedSince === undefined)) {
    throw r.error('VANISHED requires UID FETCH with CHANGEDSINCE'); // RFC 7162 3.2.6 MUST
  }
  r.end();
  return finish(cmd, opts);
}

/** fetch-modifier: CHANGEDSINCE SP mod-sequence-value / VANISHED (RFC 7162 7). */
function fetchModifier(r: ArgReader, cmd: FetchCommand): void {
  const m = r.atom('fetch modifier').toUpperCase();
  if (m === 'CHANGEDSINCE') {
    r.sp('after CHANGEDSINCE');
    // RFC 7162 says positive; 0 ("everything") is accepted because clients send it
    cmd.changedSince = r.number64('mod-sequence value');
  } else if (m === 'VANISHED') {
    cmd.vanished = true;
  } else if (m === 'PARTIAL') {
    if (cmd.partial) throw r.error('PARTIAL given twice');
    r.sp('after PARTIAL');
    cmd.partial = partialRange(r);
  } else {
    throw r.error(`Unknown fetch modifier ${m.slice(0, 40)}`);
  }
}

function finish(cmd: FetchCommand, opts: { uid?: boolean; uidOnly?: boolean }): FetchCommand {
  const has = (a: SimpleFetchAttr): boolean => cmd.items.some((i) => i.type === 'simple' && i.attr === a);
  if (opts.uid && !opts.uidOnly && !has('UID')) cmd.items.push(simple('UID'));
  if (cmd.changedSince !== undefined && !has('MODSEQ')) cmd.items.push(simple('MODSEQ'));
  return cmd;
}

/** One fetch-att (RFC 9051 9). */
export function fetchAtt(r: ArgReader): FetchItem {
  const word = r.word('fetch attribute').toUpperCase();
  if (r.peekByte() === 0x5b) {
    if (word === 'BODY' || word === 'BODY.PEEK') return bodySection(r, word === 'BODY.PEEK');
    if (word === 'BINARY' || word === 'BINARY.PEEK' || word === 'BINARY.SIZE') return binarySection(r, word);
    throw r.error(`Unexpected "[" after ${word}`);
  }
  if (word === 'PREVIEW') return preview(r);
  if (SIMPLE.has(word)) return simple(word as SimpleFetchAttr);
  if (word === 'BODY.PEEK' || word.startsWith('BINARY')) r.expected('"["', `after ${word}`);
  throw r.error(`Unknown fetch attribute ${word.slice(0, 40)}`);
}

/** PREVIEW [SP "(" preview-mod *(SP preview-mod) ")"], preview-mod = "LAZY" (RFC 8970 6). */
function preview(r: ArgReader): FetchItem {
  let lazy = false;
  const mods = r.optionalList((x) => x.atom('preview modifier').toUpperCase());
  for (const m of mods ?? []) {
    if (m !== 'LAZY') throw r.error(`Unknown PREVIEW modifier ${m.slice(0, 40)}`);
    lazy = true;
  }
  return { type: 'preview', lazy, name: 'PREVIEW' };
}

function partNumbers(r: ArgReader, words: string[]): number[] {
  const part: number[] = [];
  while (words.length > 0 && /^[0-9]+$/.test(words[0])) {
    const w = words.shift() as string;
    if (!/^[1-9][0-9]{0,9}$/.test(w) || Number(w) > 4294967295) throw r.error(`Invalid section part number ${w.slice(0, 20)}`);
    part.push(Number(w));
  }
  return part;
}

function bodySection(r: ArgReader, peek: boolean): FetchItem {
  r.expect('[');
  const section: Section = { part: [] };
  if (!r.accept(']')) {
    const words = r.word('section').toUpperCase().split('.');
    section.part = partNumbers(r, words);
    if (words.length > 0) {
      const text = words.join('.');
      if (!SECTION_TEXTS.has(text)) throw r.error(`Invalid section ${text.slice(0, 40)}`);
      if (text === 'MIME' && section.part.length === 0) throw r.error('MIME requires a part number'); // RFC 9051 6.4.5
      section.text = text as SectionText;
      if (text.startsWith('HEADER.FIELDS')) {
        r.sp(`after ${text}`);
        section.fields = r.list((x) => x.astring('header field name'), { what: 'header field names' });
      }
    } else if (section.part.length === 0) {
      r.expected('section');
    }
    r.expect(']', `to close section ${r.where()}`);
  }
  const partial = readPartial(r);
  const origin = partial ? `<${partial.offset}>` : ''; // RFC 9051 7.5.2: origin only
  return { type: 'section', peek, section, partial, name: `BODY[${formatSection(section)}]${origin}` };
}

function binarySection(r: ArgReader, word: string): FetchItem {
  r.expect('[');
  let part: number[] = [];
  if (!r.accept(']')) {
    const words = r.word('section part').split('.');
    part = partNumbers(r, words);
    if (words.length > 0) throw r.error(`${word} takes only part numbers`); // RFC 3516 4.1 section-binary
    r.expect(']', `to close section ${r.where()}`);
  }
  const spec = part.join('.');
  if (word === 'BINARY.SIZE') return { type: 'binary.size', part, name: `BINARY.SIZE[${spec}]` };
  const partial = readPartial(r);
  const origin = partial ? `<${partial.offset}>` : '';
  return { type: 'binary', peek: word === 'BINARY.PEEK', part, partial, name: `BINARY[${spec}]${origin}` };
}

/** partial = "<" number64 "." nz-number64 ">" (RFC 9051 9). */
function readPartial(r: ArgReader): Partial | undefined {
  if (!r.accept('<')) return undefined;
  const offset = r.number64('partial offset');
  r.expect('.', `in partial ${r.where()}`);
  const length = r.number64('partial length');
  if (length === 0) throw r.error('Partial length must not be 0');
  r.expect('>', `to close partial ${r.where()}`);
  return { offset, length };
}

/** The section-spec as the response writes it: `1.2.HEADER.FIELDS (From To)`. */
export function formatSection(s: Section): string {
  let out = s.part.join('.');
  if (s.text) out += (out ? '.' : '') + s.text;
  if (s.fields) out += ` (${s.fields.map(formatFieldName).join(' ')})`;
  return out;
}

function formatFieldName(name: string): string {
  // eslint-disable-next-line no-control-regex -- an astring atom excludes CTL (RFC 9051 9)
  return /^[^\x00-\x20\x7f-\uffff(){%*"\\\]]+$/.test(name) ? name : formatString(name, true);
}

/** True when fetching these items sets \Seen (RFC 9051 6.4.5: BODY[...] and BINARY[...] without PEEK, RFC822, RFC822.TEXT). */
export function fetchSetsSeen(items: readonly FetchItem[]): boolean {
  return items.some(
    (i) =>
      ((i.type === 'section' || i.type === 'binary') && !i.peek) ||
      (i.type === 'simple' && (i.attr === 'RFC822' || i.attr === 'RFC822.TEXT')),
  );
}
