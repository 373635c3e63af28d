/**
 * Arguments of the METADATA commands (RFC 5464 4, 5): GETMETADATA options and entries,
 * SETMETADATA entry/value pairs, and LIST's RETURN (METADATA (...)) (RFC 9590). Entry
 * names are checked here against RFC 5464 3.2 (a BAD names the problem); the store checks
 * them again as its own rule.
 */
import type { ArgReader } from './arg-reader.js';

export type MetadataDepth = 0 | 1 | 'infinity';

export interface GetMetadataCommand {
  /** "" is the server. */
  mailbox: string;
  /** Values longer than this are left out and reported by LONGENTRIES (RFC 5464 4.2.1). */
  maxSize: number | null;
  depth: MetadataDepth;
  entries: string[];
}

export interface SetMetadataItem {
  name: string;
  /** null: remove the entry. */
  value: Buffer | null;
}

export interface SetMetadataCommand {
  mailbox: string;
  items: SetMetadataItem[];
}

/** What LIST RETURN (METADATA (...)) asks for (RFC 9590 3). */
export interface ListMetadataOption {
  entries: string[];
  maxSize: number | null;
}

/**
 * Why `name` is not an entry name (RFC 5464 3.2), or null: under /private or /shared, no
 * CTL, 8-bit, "*" or "%", no empty level. `allowRoot` admits bare /private and /shared
 * (GETMETADATA with DEPTH).
 */
export function entryNameProblem(name: string, allowRoot = false): string | null {
  if (name.length === 0 || name.length > 1024) return 'Entry name must be 1 to 1024 characters';
  // eslint-disable-next-line no-control-regex -- RFC 5464 3.2
  if (/[\x00-\x19\x7f-\uffff*%]/.test(name)) return 'Entry name contains a control, non-ASCII, "*" or "%" character';
  const lower = name.toLowerCase();
  if (lower === '/private' || lower === '/shared') return allowRoot ? null : 'Entry name needs a level under /private or /shared';
  if (!lower.startsWith('/private/') && !lower.startsWith('/shared/')) return 'Entry name must start with /private/ or /shared/';
  if (name.endsWith('/') || name.includes('//')) return 'Entry name has an empty level';
  return null;
}

function entry(r: ArgReader, allowRoot: boolean): string {
  const name = r.astring('entry name');
  const why = entryNameProblem(name, allowRoot);
  if (why) throw r.error(why);
  return name;
}

/** entries = entry / "(" entry *(SP entry) ")" */
function entries(r: ArgReader, allowRoot: boolean): string[] {
  if (r.peekByte() === 0x28) return r.list((x) => entry(x, allowRoot), { what: 'entry names' });
  return [entry(r, allowRoot)];
}

/** GETMETADATA [(options)] mailbox entries */
export function parseGetMetadata(args: ArgReader): GetMetadataCommand {
  let maxSize: number | null = null;
  let depth: MetadataDepth | null = null;
  if (args.peekByte() === 0x28) {
    args.list(
      (r) => {
        const o = r.atom('GETMETADATA option').toUpperCase();
        r.sp(`after ${o}`);
        if (o === 'MAXSIZE' && maxSize === null) maxSize = r.number('MAXSIZE value');
        else if (o === 'DEPTH' && depth === null) {
          const d = r.atom('DEPTH value').toLowerCase();
          if (d !== '0' && d !== '1' && d !== 'infinity') throw r.error('DEPTH must be 0, 1 or infinity');
          depth = d === 'infinity' ? 'infinity' : Number(d) as 0 | 1;
        } else throw r.error(`Unknown or repeated GETMETADATA option ${o.slice(0, 20)}`);
        return o;
      },
      { what: 'GETMETADATA options' },
    );
    args.sp('after GETMETADATA options');
  }
  const mailbox = args.mailbox();
  args.sp('after mailbox name');
  const names = entries(args, true);
  args.end();
  return { mailbox, maxSize, depth: depth ?? 0, entries: names };
}

/** value = nstring / literal8 (RFC 5464 5); the bytes as sent. */
function value(r: ArgReader, maxValueSize: number): Buffer | null {
  if (r.atLiteral()) {
    const lit = r.literal({ binary: true });
    // A literal too big to keep in memory was spooled: it is over any allowed value size
    if (!lit.data || lit.size > maxValueSize) throw r.error('Value too large', { response: 'NO', code: `METADATA MAXSIZE ${maxValueSize}` });
    return lit.data;
  }
  if (r.peekByte() === 0x22) {
    const bytes = r.stringBytes('value');
    if (bytes.length > maxValueSize) throw r.error('Value too large', { response: 'NO', code: `METADATA MAXSIZE ${maxValueSize}` });
    return bytes;
  }
  const nil = r.atom('value').toUpperCase();
  if (nil !== 'NIL') throw r.error('Expected a string, literal or NIL as the value');
  return null;
}

/** SETMETADATA mailbox (entry value *(SP entry value)); a value over maxValueSize is NO [METADATA MAXSIZE n]. */
export function parseSetMetadata(args: ArgReader, maxValueSize: number): SetMetadataCommand {
  const mailbox = args.mailbox();
  args.sp('after mailbox name');
  const flat = args.list((r) => {
    const name = entry(r, false);
    r.sp('after entry name');
    return { name, value: value(r, maxValueSize) };
  }, { what: 'entry values' });
  args.end();
  // A later value for the same entry wins (names are case-insensitive)
  const byName = new Map<string, SetMetadataItem>();
  for (const item of flat) {
    byName.delete(item.name.toLowerCase());
    byName.set(item.name.toLowerCase(), item);
  }
  return { mailbox, items: [...byName.values()] };
}

/** The argument of LIST's METADATA return option: "(" entries and MAXSIZE n, in any order ")". */
export function parseListMetadata(r: ArgReader): ListMetadataOption {
  let maxSize: number | null = null;
  const names: string[] = [];
  r.list(
    (x) => {
      if (x.peekByte() !== 0x2f && x.peekByte() !== 0x22 && !x.atLiteral()) {
        const o = x.atom('METADATA option').toUpperCase();
        if (o !== 'MAXSIZE' || maxSize !== null) throw x.error(`Unknown or repeated METADATA option ${o.slice(0, 20)}`);
        x.sp('after MAXSIZE');
        maxSize = x.number('MAXSIZE value');
        return o;
      }
      names.push(entry(x, false));
      return '';
    },
    { what: 'METADATA return option' },
  );
  if (names.length === 0) throw r.error('METADATA return option names no entry');
  return { entries: names, maxSize };
}
