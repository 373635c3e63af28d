/**
 * Reads one header block (RFC 5322 2.2) from raw bytes: fields with their unfolded
 * values, and where the block ends. Bare LF line ends are accepted everywhere, 8-bit
 * bytes are kept (values are latin1 strings, one char per byte), a line without a
 * colon is kept as a nameless field, and a header cut short by EOF or by a MIME
 * boundary line simply ends there (as in Dovecot's message-header-parser).
 */

export interface HeaderField {
  /** Field name as written, trailing whitespace before the colon removed. */
  name: string;
  /**
   * Value with leading whitespace skipped and folds kept as "\n" + continuation line
   * (CRs dropped). Null for a line without a colon.
   */
  value: string | null;
  /** Byte range of the whole field in the message, folded lines and final newline included. */
  start: number;
  end: number;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** End of the header including the blank line (== start of the body). */
  end: number;
  /** How the block ended: a blank line, the end of the input, or a boundary line at `end`... */
  endedBy: 'blank' | 'eof' | 'boundary';
  /** For 'boundary': where the boundary line starts (after the newline that `end` stops before). */
  boundaryLine?: number;
}

const LF = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const COLON = 58;

/**
 * Parses the header starting at `start`. `isBoundaryAt(pos)` is asked at each line start
 * (pos < buf.length); a true answer ends the header before the newline preceding that line.
 */
export function readHeaderBlock(buf: Buffer, start: number, isBoundaryAt: ((pos: number) => boolean) | null): HeaderBlock {
  const fields: HeaderField[] = [];
  const len = buf.length;
  let pos = start;
  let prevNewline = 0;
  for (;;) {
    if (pos >= len) return { fields, end: len, endedBy: 'eof' };
    if (isBoundaryAt && isBoundaryAt(pos)) {
      return { fields, end: pos - prevNewline, endedBy: 'boundary', boundaryLine: pos };
    }
    const c = buf[pos];
    if (c === LF) return { fields, end: pos + 1, endedBy: 'blank' };
    if (c === CR && pos + 1 < len && buf[pos + 1] === LF) return { fields, end: pos + 2, endedBy: 'blank' };
    const field = readField(buf, pos);
    fields.push(field);
    pos = field.end;
    prevNewline = newlineSizeBefore(buf, field.end, field.start);
  }
}

/** Size of the newline that ends at `end` (0 when the field ended at EOF without one). */
function newlineSizeBefore(buf: Buffer, end: number, start: number): number {
  if (end <= start || buf[end - 1] !== LF) return 0;
  return end - 2 >= start && buf[end - 2] === CR ? 2 : 1;
}

/** End of the physical line starting at `pos`, and the index after its LF (or len). */
function lineEnd(buf: Buffer, pos: number): { content: number; next: number } {
  const lf = buf.indexOf(LF, pos);
  if (lf < 0) return { content: buf.length, next: buf.length };
  const content = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
  return { content, next: lf + 1 };
}

function isLwsp(c: number): boolean {
  return c === SP || c === TAB;
}

function readField(buf: Buffer, start: number): HeaderField {
  const first = lineEnd(buf, start);
  let colon = -1;
  for (let i = start; i < first.content; i++) {
    if (buf[i] === COLON) {
      colon = i;
      break;
    }
  }
  // continuation lines start with SP or TAB (RFC 5322 2.2.3)
  let next = first.next;
  const continuations: [number, number][] = [];
  while (next < buf.length && buf[next - 1] === LF && isLwsp(buf[next])) {
    const line = lineEnd(buf, next);
    continuations.push([next, line.content]);
    next = line.next;
  }
  if (colon < 0) {
    return { name: buf.toString('latin1', start, first.content), value: null, start, end: next };
  }
  let nameEnd = colon;
  while (nameEnd > start && isLwsp(buf[nameEnd - 1])) nameEnd--;
  let v = colon + 1;
  while (v < first.content && isLwsp(buf[v])) v++;
  // a value of only whitespace loses just the one space after the colon
  if (v === first.content && first.content > colon + 1) v = colon + 2;
  let value = buf.toString('latin1', v, first.content);
  for (const [s, e] of continuations) value += '\n' + buf.toString('latin1', s, e);
  return { name: buf.toString('latin1', start, nameEnd), value, start, end: next };
}

/**
 * Removes the "\n" folds the way Dovecot writes IMAP strings: a CR or LF disappears,
 * replaced by a space only when the next line would otherwise be glued to this one.
 */
export function unfold(value: string): string {
  if (value.indexOf('\n') < 0 && value.indexOf('\r') < 0) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch !== '\r' && ch !== '\n') {
      out += ch;
      continue;
    }
    const nx = value[i + 1];
    if (nx !== undefined && nx !== ' ' && nx !== '\t' && nx !== '\r' && nx !== '\n') out += ' ';
  }
  return out;
}

/** C-string semantics: Dovecot stores header strings up to the first NUL byte. */
export function cutAtNul(value: string): string {
  const i = value.indexOf('\0');
  return i < 0 ? value : value.slice(0, i);
}
