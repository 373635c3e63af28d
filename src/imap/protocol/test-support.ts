/**
 * Test helpers for the IMAP codec tests (not shipped behaviour): frame a wire string
 * into a RawCommand and open an argument cursor on it.
 */
import { ArgReader, parseCommand, type ParserState } from './arg-reader.js';
import { CommandReader, type RawCommand } from './command-reader.js';
import { ImapParseError } from './errors.js';

/** Frames exactly one command from `wire` (CRLF appended when missing). */
export function frame(wire: string | Buffer): RawCommand {
  let buf = typeof wire === 'string' ? Buffer.from(wire, 'utf8') : wire;
  if (!buf.subarray(-2).equals(Buffer.from('\r\n'))) buf = Buffer.concat([buf, Buffer.from('\r\n')]);
  const events = new CommandReader({ nonSyncLiterals: 'plus' }).feed(buf).filter((e) => e.type !== 'continue');
  if (events.length !== 1 || events[0].type !== 'command') throw new Error(`frame: expected one command, got ${JSON.stringify(events)}`);
  return events[0].command;
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
