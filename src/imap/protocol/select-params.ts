/**
 * SELECT / EXAMINE parameters (RFC 4466 2.1 select-params): CONDSTORE (RFC 7162 3.1.8) and
 * QRESYNC (RFC 7162 3.2.5) with the client's cached UIDVALIDITY and MODSEQ, its known
 * UIDs and the optional sequence-match data. Any other parameter is refused (BAD).
 */
import type { ArgReader } from './arg-reader.js';
import { seqSetRanges, type SeqSet } from './seq-set.js';

/** `QRESYNC (uidvalidity mod-sequence-value [SP known-uids] [SP seq-match-data])`. */
export interface QresyncParams {
  uidValidity: number;
  modSeq: number;
  /** UIDs the client knows; absent means every UID below UIDNEXT (RFC 7162 3.2.5). */
  knownUids?: SeqSet;
  /** `(known-sequence-set known-uid-set)`: pairs of sequence numbers and UIDs the client holds. */
  seqMatch?: { seqs: SeqSet; uids: SeqSet };
}

export interface SelectParams {
  condstore: boolean;
  qresync?: QresyncParams;
}

/**
 * Reads `[SP "(" select-param *(SP select-param) ")"]` to the end of the command. QRESYNC
 * counts as CONDSTORE too (RFC 7162 3.2.3). Whether QRESYNC was enabled is the caller's check.
 */
export function parseSelectParams(r: ArgReader): SelectParams {
  const out: SelectParams = { condstore: false };
  const seen = new Set<string>();
  r.optionalList((x) => {
    const name = x.atom('select parameter').toUpperCase();
    if (seen.has(name)) throw x.error(`Duplicate select parameter ${name}`);
    seen.add(name);
    if (name === 'CONDSTORE') out.condstore = true;
    else if (name === 'QRESYNC') {
      x.sp('after QRESYNC');
      out.qresync = qresyncParams(x);
      out.condstore = true;
    } else throw x.error(`Unknown select parameter ${name.slice(0, 40)}`);
  });
  r.end();
  return out;
}

function qresyncParams(r: ArgReader): QresyncParams {
  r.expect('(', `to open QRESYNC parameters ${r.where()}`);
  const uidValidity = r.nzNumber('UIDVALIDITY');
  r.sp('after UIDVALIDITY');
  // RFC 7162 9 says nz; 0 ("know nothing") is taken as it is for CHANGEDSINCE
  const p: QresyncParams = { uidValidity, modSeq: r.number64('mod-sequence value') };
  if (r.accept(' ')) {
    if (r.peekByte() !== 0x28) p.knownUids = ranges(r, 'known UIDs');
    if (p.knownUids === undefined || r.accept(' ')) p.seqMatch = seqMatch(r);
  }
  r.expect(')', `to close QRESYNC parameters ${r.where()}`);
  return p;
}

/** seq-match-data = "(" known-sequence-set SP known-uid-set ")"; both the same length (RFC 7162 3.2.5.2). */
function seqMatch(r: ArgReader): { seqs: SeqSet; uids: SeqSet } {
  r.expect('(', `to open sequence match data ${r.where()}`);
  const seqs = ranges(r, 'known sequence set');
  r.sp('in sequence match data');
  const uids = ranges(r, 'known UID set');
  r.expect(')', `to close sequence match data ${r.where()}`);
  const a = countOf(seqs);
  const b = countOf(uids);
  if (a !== null && b !== null && a !== b) throw r.error(`Sequence match data: ${a} sequence numbers but ${b} UIDs`);
  return { seqs, uids };
}

function ranges(r: ArgReader, what: string): SeqSet {
  const set = r.seqSet();
  if (set.kind === 'saved') throw r.error(`"$" is not allowed in ${what}`);
  return set;
}

/** How many numbers a set without `*` names (null with `*`: its size depends on the mailbox). */
function countOf(set: SeqSet): number | null {
  if (set.kind !== 'ranges' || set.ranges.some((x) => x.start === '*' || x.end === '*')) return null;
  return seqSetRanges(set, 0).reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
}
