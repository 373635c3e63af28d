/**
 * POP3 response lines (RFC 1939 3, RFC 2449 8 response codes). Pure text builders;
 * every line ends in CRLF and never contains a bare CR or LF from its arguments.
 */

/** RFC 2449 8 / RFC 3206 / RFC 5034 codes this server sends. */
export type RespCode = 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM' | 'AUTH' | 'UTF8';

function clean(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

export function ok(text = ''): string {
  return text === '' ? '+OK\r\n' : `+OK ${clean(text)}\r\n`;
}

export function err(text: string, code?: RespCode): string {
  return code ? `-ERR [${code}] ${clean(text)}\r\n` : `-ERR ${clean(text)}\r\n`;
}

/** A multi-line response: status line, lines (byte-stuffed), terminator. */
export function multiline(status: string, lines: string[]): string {
  const body = lines.map((l) => (l.startsWith('.') ? '.' + l : l) + '\r\n').join('');
  return `+OK ${clean(status)}\r\n${body}.\r\n`;
}

/** RFC 5034 4: a server challenge, base64 (empty challenge is "+ "). */
export function continuation(base64: string): string {
  return `+ ${base64}\r\n`;
}
