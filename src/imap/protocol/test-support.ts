/**
 * Test helpers for the IMAP codec tests (not shipped behaviour): frame a wire string
 * into a RawCommand and open an argument cursor on it. Framing here is synchronous and
 * without limits, for the argument parsers' tables; the real framing (CommandReader over
 * a connection) is tested in src/imap/command-input.test.ts.
 */
import fc from 'fast-check';
import { ArgReader, parseCommand, type ParserState } from './arg-reader.js';
import { readTag, type Literal, type RawCommand } from './command-reader.js';
import { ImapParseError } from './errors.js';

const MARKER = /(~?)\{([0-9]+)(\+?)\}$/;

/** Frames exactly one command from `wire` (CRLF appended when missing). */
export function frame(wire: string | Buffer): RawCommand {
  let buf = typeof wire === 'string' ? Buffer.from(wire, 'utf8') : wire;
  if (!buf.subarray(-2).equals(Buffer.from('\r\n'))) buf = Buffer.concat([buf, Buffer.from('\r\n')]);
  const segments: Buffer[] = [];
  const literals: Literal[] = [];
  let pos = 0;
  for (;;) {
    const lf = buf.indexOf(0x0a, pos);
    if (lf < 0) throw new Error('frame: command not complete');
    const line = buf.subarray(pos, lf > pos && buf[lf - 1] === 0x0d ? lf - 1 : lf);
    pos = lf + 1;
    const m = MARKER.exec(line.subarray(-32).toString('latin1'));
    if (!m) {
      segments.push(line);
      break;
    }
    segments.push(line.subarray(0, line.length - m[0].length));
    const size = Number(m[2]);
    const data = buf.subarray(pos, pos + size);
    if (data.length < size) throw new Error('frame: literal not complete');
    pos += size;
    literals.push({ size, binary: m[1] === '~', nonSync: m[3] === '+', data, sink: null, containsNul: data.includes(0) });
  }
  if (pos !== buf.length) throw new Error(`frame: expected one command, got more: ${JSON.stringify(buf.subarray(pos).toString('latin1'))}`);
  return { segments, literals, tag: readTag(segments[0]) };
}

/** A cursor on `args` as the arguments of a command `T1 X args`. */
export function argsOf(args: string, state: ParserState = {}): ArgReader {
  return parseCommand(frame(`T1 X ${args}`), state).args;
}

/** Runs `fn` and returns the ImapParseError text it throws; fails on any other outcome. */
export function badText(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ImapParseError) return e.text;
    throw e;
  }
  throw new Error('expected an ImapParseError, got success');
}

/** Runs `fn`; returns normally on success or ImapParseError, rethrows anything else (for fuzzing). */
export function onlyParseErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ImapParseError)) throw e;
  }
}

/**
 * The fuzz property every argument parser shares: soups of its own `words` and arbitrary
 * one-line strings, framed as a command's arguments (what does not frame is skipped), either
 * parse or throw ImapParseError. `parse` gets a random boolean for a parser with a variant
 * (UID FETCH against FETCH); `prefix` goes before the soup.
 */
export function assertParsesOrRejects(
  parse: (r: ArgReader, variant: boolean) => unknown,
  words: readonly string[],
  opts: { prefix?: string; maxWords?: number; wordRuns?: number; stringRuns?: number } = {},
): void {
  const { prefix = '', maxWords = 25, wordRuns = 1000, stringRuns = 500 } = opts;
  const check = (args: string, variant: boolean) => {
    let r;
    try {
      r = argsOf(prefix + args);
    } catch {
      return;
    }
    onlyParseErrors(() => parse(r, variant));
  };
  fc.assert(fc.property(fc.array(fc.constantFrom(...words), { maxLength: maxWords }), fc.boolean(), (parts, v) => check(parts.join(''), v)), { numRuns: wordRuns });
  fc.assert(fc.property(fc.string({ maxLength: 60 }), fc.boolean(), (str, v) => check(str.replace(/[\r\n]/g, ''), v)), { numRuns: stringRuns });
}
