/**
 * mbox (mboxrd) as mutt, Thunderbird and python's `mailbox` read it: each message starts
 * with a `From ` line and ends with one empty line; inside, a line matching `>*From ` gets
 * one more `>` (mboxrd, so quoting is undone exactly). Flags travel as the headers mutt
 * writes: `Status:` (R = \Seen, O = old), `X-Status:` (A = \Answered, F = \Flagged,
 * T = \Draft, D = \Deleted) and `X-Keywords:` (comma separated, as Dovecot and mutt).
 *
 * Byte-exact round trip: those three headers are put in front of the stored message, in its
 * own line ending, and reading takes them off again only from the very front, so the bytes
 * that come back are the stored ones. A message that does not end in a line feed gets one.
 * Headers found further down (python's `mailbox` writes them at the end of the header
 * block) still give the flags, and stay in the message.
 *
 * Pure: bytes in, bytes out. Never imports: the store, protocols.
 */
const SYSTEM_LETTERS: [string, string][] = [['\\Answered', 'A'], ['\\Flagged', 'F'], ['\\Draft', 'T'], ['\\Deleted', 'D']];

export interface MailEntry {
  raw: Buffer;
  flags: string[];
  internalDate: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `From MAILER-DAEMON Sat Nov 28 10:42:00 2026` (asctime, UTC): the separator line. */
export function fromLine(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const d = date;
  return `From MAILER-DAEMON ${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}\n`;
}

/** The date of a `From ` line (asctime; taken as UTC), or null. */
export function parseFromLine(line: string): Date | null {
  const m = /^From \S+\s+\w{3} (\w{3})\s+(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})/.exec(line);
  if (!m) return null;
  const month = MONTHS.indexOf(m[1]);
  if (month < 0) return null;
  return new Date(Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])));
}

/** The three flag headers, in the message's own line ending. */
export function flagHeaders(flags: string[], eol: string): string {
  const has = (f: string) => flags.some((x) => x.toLowerCase() === f.toLowerCase());
  const xStatus = SYSTEM_LETTERS.filter(([f]) => has(f)).map(([, l]) => l).join('');
  const keywords = flags.filter((f) => !f.startsWith('\\'));
  return `Status: ${has('\\Seen') ? 'RO' : 'O'}${eol}X-Status: ${xStatus}${eol}X-Keywords: ${keywords.join(', ')}${eol}`;
}

function eolOf(raw: Buffer): string {
  const lf = raw.indexOf(0x0a);
  return lf > 0 && raw[lf - 1] === 0x0d ? '\r\n' : '\n';
}

/** mboxrd quoting: one more `>` on every line that matches `>*From `. */
export function quoteFrom(raw: Buffer): Buffer {
  return Buffer.from(raw.toString('latin1').replace(/(^|\n)(>*From )/g, '$1>$2'), 'latin1');
}

export function unquoteFrom(raw: Buffer): Buffer {
  return Buffer.from(raw.toString('latin1').replace(/(^|\n)>(>*From )/g, '$1$2'), 'latin1');
}

/** One message as an mbox entry: From line, flag headers, the quoted bytes, the empty line. */
export function encodeMessage(e: MailEntry): Buffer {
  const body = quoteFrom(e.raw);
  const end = body.length > 0 && body[body.length - 1] === 0x0a ? '' : '\n';
  return Buffer.concat([Buffer.from(fromLine(e.internalDate) + flagHeaders(e.flags, eolOf(e.raw)), 'latin1'), body, Buffer.from(`${end}\n`, 'latin1')]);
}

/** Flags from Status / X-Status / X-Keywords anywhere in the header block. */
function flagsOf(header: string): string[] {
  const flags: string[] = [];
  const field = (name: string) => new RegExp(`^${name}:[ \\t]*([^\\r\\n]*)`, 'im').exec(header)?.[1] ?? '';
  if (field('Status').includes('R')) flags.push('\\Seen');
  const x = field('X-Status');
  for (const [f, l] of SYSTEM_LETTERS) if (x.includes(l)) flags.push(f);
  for (const k of field('X-Keywords').split(/[,\s]+/)) if (/^[\x21\x23\x24\x26\x27\x2b-\x5b\x5e-\x7a\x7c-\x7e]+$/.test(k)) flags.push(k);
  return flags;
}

/** Exactly what flagHeaders puts in front, so only those lines are taken off. */
const PREPENDED = /^Status: R?O(\r?\n)X-Status: A?F?T?D?\1X-Keywords: [^\r\n]*\1/;

/** Splits an mbox file into entries (latin1 keeps every byte as one character). */
export function parseMbox(data: Buffer): MailEntry[] {
  const text = data.toString('latin1');
  if (text !== '' && !text.startsWith('From ')) throw new Error('not an mbox file: it does not start with a "From " line');
  const out: MailEntry[] = [];
  const starts: number[] = [];
  for (let i = 0; i >= 0 && i < text.length; i = text.indexOf('\nFrom ', i)) {
    starts.push(i === 0 ? 0 : i + 1);
    i += 1;
  }
  for (const [k, start] of starts.entries()) {
    const end = k + 1 < starts.length ? starts[k + 1] : text.length;
    const lineEnd = text.indexOf('\n', start);
    if (lineEnd < 0) continue;
    const date = parseFromLine(text.slice(start, lineEnd)) ?? new Date(0);
    let msg = text.slice(lineEnd + 1, end);
    if (msg.endsWith('\n')) msg = msg.slice(0, -1); // the empty line before the next From
    const headerEnd = /\r?\n\r?\n/.exec(msg);
    const flags = flagsOf(headerEnd ? msg.slice(0, headerEnd.index) : msg);
    const ours = PREPENDED.exec(msg);
    if (ours) msg = msg.slice(ours[0].length);
    out.push({ raw: unquoteFrom(Buffer.from(msg, 'latin1')), flags, internalDate: date });
  }
  return out;
}
