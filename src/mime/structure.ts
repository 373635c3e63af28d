/**
 * The MIME structure scanner: one pass over the raw bytes that finds every part's
 * header and body offsets, following Dovecot's message-parser so part boundaries
 * agree with it byte for byte:
 *  - a boundary line is "--" + an active boundary as a prefix (RFC 2046 5.1.1 lets the
 *    line continue); the newest boundary is tried first, the longest match wins, and
 *    an outer boundary closes every part nested inside it;
 *  - the [CR]LF before a boundary line belongs to the boundary, not to the part;
 *  - a header cut short by a boundary line ends there, giving its newline back;
 *  - multipart boundaries count only when the header ended with a blank line;
 *  - nesting deeper than maxDepth, or more than MAX_PARTS parts, is left unparsed.
 * Offsets only: the buffer is never copied.
 */
import type { HeaderField } from './header-block.js';
import { readHeaderBlock } from './header-block.js';
import type { ContentInfo } from './part-headers.js';
import { boundaryOf, readContentInfo } from './part-headers.js';

/** Dovecot's max_total_mime_parts: beyond this, the rest of the message is body text. */
const MAX_PARTS = 10000;

export interface Node {
  parent: Node | null;
  depth: number;
  headerStart: number;
  headerEnd: number;
  bodyEnd: number;
  fields: HeaderField[];
  info: ContentInfo;
  multipart: boolean;
  rfc822: boolean;
  digest: boolean;
  /** A multipart or message/rfc822 left unparsed for nesting too deep (shown as octet-stream). */
  tooDeep: boolean;
  children: Node[];
}

interface Boundary {
  text: Buffer;
  node: Node;
}

const LF = 10;
const CR = 13;
const DASH = 45;
const NL_DASHES = Buffer.from('\n--', 'latin1');

class Scanner {
  pos = 0;
  boundaries: Boundary[] = [];
  total = 1;

  constructor(
    readonly buf: Buffer,
    readonly maxDepth: number,
  ) {}

  /** The boundary (if any) whose delimiter line starts at `pos`; sets `closes` for "--b--". */
  boundaryAt(pos: number): { b: Boundary; close: boolean } | null {
    const buf = this.buf;
    if (this.boundaries.length === 0 || buf[pos] !== DASH || buf[pos + 1] !== DASH) return null;
    const from = pos + 2;
    const lf = buf.indexOf(LF, from);
    let size = (lf < 0 ? buf.length : lf) - from;
    if (lf >= 0) {
      if (size > 0 && buf[from + size - 1] === CR) size--;
      if (size > 2 && buf[from + size - 1] === DASH && buf[from + size - 2] === DASH) size -= 2;
    } else if (size > 84) size = 84;
    let best: Boundary | null = null;
    for (let i = this.boundaries.length - 1; i >= 0; i--) {
      const b = this.boundaries[i];
      const n = b.text.length;
      if (n <= size && (best === null || best.text.length < n) && buf.compare(b.text, 0, n, from, from + n) === 0) {
        best = b;
        if (n === size) break;
      }
    }
    if (best === null) return null;
    const e = from + best.text.length;
    return { b: best, close: buf[e] === DASH && buf[e + 1] === DASH };
  }

  newNode(parent: Node | null, start: number): Node {
    const depth = parent ? parent.depth + 1 : 0;
    const node: Node = {
      parent, depth, headerStart: start, headerEnd: start, bodyEnd: start, fields: [],
      info: readContentInfo([], false), multipart: false, rfc822: false, digest: false, tooDeep: false, children: [],
    };
    if (parent) {
      parent.children.push(node);
      this.total++;
    }
    return node;
  }

  /** Parses the header of `node` at this.pos and sets its kind; returns where the body starts. */
  header(node: Node, inheritedMime: boolean): { cutBy: number | null } {
    const canCut = this.boundaries.length > 0;
    const hb = readHeaderBlock(this.buf, this.pos, canCut ? (p) => this.boundaryAt(p) !== null : null);
    node.fields = hb.fields;
    node.headerEnd = hb.end;
    node.bodyEnd = hb.end;
    node.info = readContentInfo(hb.fields, inheritedMime);
    classify(node);
    const tooDeep = node.depth + 1 >= this.maxDepth || this.total >= MAX_PARTS;
    if (node.multipart && hb.endedBy === 'blank' && node.info.isMime) {
      const text = boundaryOf(node.info);
      if (text !== null && tooDeep) {
        node.multipart = false;
        node.tooDeep = true;
      }
      else if (text !== null) this.boundaries.push({ text: Buffer.from(text, 'latin1'), node });
    }
    if (node.rfc822 && tooDeep) {
      node.rfc822 = false;
      node.tooDeep = true;
    }
    this.pos = hb.endedBy === 'boundary' ? (hb.boundaryLine as number) : hb.end;
    return { cutBy: hb.endedBy === 'boundary' ? hb.end : null };
  }

  /** Line start of the next boundary line at or after `from`, or -1. */
  nextBoundaryLine(from: number): number {
    if (this.boundaryAt(from)) return from;
    let i = from;
    for (;;) {
      i = this.buf.indexOf(NL_DASHES, i);
      if (i < 0) return -1;
      if (this.boundaryAt(i + 1)) return i + 1;
      i += 1;
    }
  }

  run(): Node {
    const root = this.newNode(null, 0);
    let cur = root;
    let cut = this.header(root, false).cutBy;
    outer: for (;;) {
      if (cut !== null) {
        // the header met a boundary line: the part is empty and the boundary ends it
        const cutNode = this.gaveBack ?? (cur.rfc822 ? (cur = this.emptyChild(cur, cut)) : cur);
        this.gaveBack = null;
        const step = this.boundaryStep(cur, cut, this.pos, cutNode);
        if (step === null) break;
        cur = step.owner;
        cut = null;
        if (step.eof) break;
        if (step.newPart) {
          cur = this.newNode(cur, this.pos);
          cut = this.header(cur, true).cutBy;
          continue;
        }
      } else if (cur.rfc822) {
        const parent = cur;
        cur = this.newNode(parent, this.pos);
        cut = this.header(cur, false).cutBy;
        if (cut !== null && cur.fields.length === 0) cut = this.giveBackBlankLine(parent, cur, cut);
        continue;
      }
      for (;;) {
        const line = this.boundaries.length > 0 ? this.nextBoundaryLine(this.pos) : -1;
        if (line < 0) break outer;
        const step = this.boundaryStep(cur, this.delimiterStart(line), line, null);
        if (step === null) break outer;
        cur = step.owner;
        if (step.eof) break outer;
        if (step.newPart) {
          cur = this.newNode(cur, this.pos);
          cut = this.header(cur, true).cutBy;
          continue outer;
        }
      }
    }
    for (let n: Node | null = cur; n; n = n.parent) n.bodyEnd = this.buf.length;
    return root;
  }

  /**
   * A message/rfc822 whose body starts right at a boundary line: the blank line ending its
   * header becomes the boundary's [CR]LF, and the encapsulated message is empty (Dovecot).
   */
  giveBackBlankLine(parent: Node, child: Node, cut: number): number {
    const end = parent.headerEnd;
    if (end !== cut || end === parent.headerStart || this.buf[end - 1] !== LF) return cut;
    const start = end - 2 >= parent.headerStart && this.buf[end - 2] === CR ? end - 2 : end - 1;
    parent.headerEnd = parent.bodyEnd = start;
    child.headerStart = child.headerEnd = child.bodyEnd = start;
    this.gaveBack = parent;
    return start;
  }

  /** Set by giveBackBlankLine: the message/rfc822 part that ends before the boundary's newline. */
  gaveBack: Node | null = null;

  /** The [CR]LF before a boundary line belongs to the boundary (RFC 2046 5.1.1). */
  delimiterStart(line: number): number {
    const buf = this.buf;
    if (line <= this.pos || buf[line - 1] !== LF) return line;
    return line - 2 >= this.pos && buf[line - 2] === CR ? line - 2 : line - 1;
  }

  emptyChild(parent: Node, at: number): Node {
    const child = this.newNode(parent, at);
    classify(child);
    return child;
  }

  /**
   * Handles the boundary line at `line` (its [CR]LF starting at `delim`): closes the parts
   * inside the boundary's owner and skips the rest of the line. `cutNode`: the part whose
   * header the boundary line cut short, if any. `newPart` when a body part
   * follows; null when the input ends on the boundary line itself.
   */
  boundaryStep(cur: Node, delim: number, line: number, cutNode: Node | null): { owner: Node; newPart: boolean; eof?: true } | null {
    const found = this.boundaryAt(line);
    if (!found) return null;
    // parts whose header the boundary cut end before its newline; that newline then
    // belongs to the enclosing parts' bodies (Dovecot's accounting)
    let end = delim;
    let n = cur;
    while (n !== found.b.node && n.parent) {
      n.bodyEnd = end;
      if (n === cutNode) end = line;
      n = n.parent;
    }
    const idx = this.boundaries.indexOf(found.b);
    this.boundaries.length = found.close ? idx : idx + 1;
    if (this.total >= MAX_PARTS) this.boundaries.length = 0;
    const lf = this.buf.indexOf(LF, line + 2 + found.b.text.length);
    if (lf < 0) {
      this.pos = this.buf.length;
      return { owner: n, newPart: false, eof: true };
    }
    this.pos = lf + 1;
    const top = this.boundaries[this.boundaries.length - 1];
    return { owner: n, newPart: top !== undefined && top.node === n };
  }
}

/** Sets the multipart / message / text kind from the first Content-Type (Dovecot's rules). */
function classify(node: Node): void {
  const info = node.info;
  node.multipart = node.rfc822 = node.digest = false;
  if (info.type !== null && info.isMime) {
    const t = info.type.toLowerCase();
    const st = (info.subtype ?? '').toLowerCase();
    const slash = info.typeOk || st !== '';
    if (t === 'message' && st === 'rfc822' && slash) node.rfc822 = true;
    else if (t === 'multipart' && slash) {
      node.multipart = true;
      node.digest = st === 'digest';
    }
    return;
  }
  if (node.parent && node.parent.digest) node.rfc822 = true; // RFC 2046 5.1.5 default in a digest
}

/** Scans the whole message; the result's root spans [0, buf.length). */
export function scanStructure(buf: Buffer, maxDepth: number): Node {
  return new Scanner(buf, maxDepth).run();
}
