/**
 * POP3 command lines (RFC 1939 3, RFC 2449 3): a keyword, then arguments separated
 * by spaces. Pure: a line in, a typed command or an error text out.
 */

/** Every keyword this server knows, upper-case. */
export const KEYWORDS = ['USER', 'PASS', 'AUTH', 'STAT', 'LIST', 'RETR', 'DELE', 'NOOP', 'RSET', 'QUIT', 'TOP', 'UIDL', 'CAPA', 'STLS', 'UTF8', 'APOP'] as const;
export type Keyword = (typeof KEYWORDS)[number];

export interface Pop3Command {
  keyword: Keyword;
  /** Arguments split at spaces (empty pieces from doubled spaces dropped). */
  args: string[];
  /** Everything after the keyword and one space, as sent (PASS may contain spaces: RFC 1939 7). */
  rest: string;
}

export type ParseResult = { ok: true; command: Pop3Command } | { ok: false; error: string };

const KEYWORD_SET = new Set<string>(KEYWORDS);

/** Parses one line without its CRLF. Keywords are case-insensitive (RFC 1939 3). */
export function parseCommand(line: string): ParseResult {
  if (line.trim() === '') return { ok: false, error: 'empty command line' };
  const space = line.indexOf(' ');
  const word = (space < 0 ? line : line.slice(0, space)).toUpperCase();
  if (!KEYWORD_SET.has(word)) {
    const shown = word.length > 20 || /[^\x21-\x7e]/.test(word) ? 'command' : `command ${word}`;
    return { ok: false, error: `unknown ${shown}` };
  }
  const rest = space < 0 ? '' : line.slice(space + 1);
  const args = rest.split(/[ \t]+/).filter((a) => a !== '');
  return { ok: true, command: { keyword: word as Keyword, args, rest } };
}

/** A message number: decimal, 1 or more, no sign, no leading junk (RFC 1939 3: msg is a number). */
export function parseMessageNumber(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,9}$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 ? n : null;
}

/** TOP's line count: a non-negative decimal (RFC 1939 7). */
export function parseLineCount(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,9}$/.test(text)) return null;
  return Number(text);
}
