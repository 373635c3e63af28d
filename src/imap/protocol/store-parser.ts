/**
 * STORE / UID STORE arguments (RFC 9051 6.4.6) with the CONDSTORE modifier
 * (RFC 7162 3.1.3): `sequence-set [SP "(" UNCHANGEDSINCE mod-sequence-valzer ")"]
 * SP ["+" / "-"] "FLAGS" [".SILENT"] SP (flag-list / flag *(SP flag))`.
 */
import type { ArgReader } from './arg-reader.js';
import type { SeqSet } from './seq-set.js';

export interface StoreCommand {
  set: SeqSet;
  op: 'add' | 'remove' | 'set';
  silent: boolean;
  /** The flags as written, `\Recent` left out (RFC 9051 2.3.2: it cannot be stored). */
  flags: string[];
  /** UNCHANGEDSINCE (RFC 7162 3.1.3); 0 is valid and fails for every message. */
  unchangedSince?: number;
}

const ITEM = /^([+-]?)FLAGS(\.SILENT)?$/i;

export function parseStore(r: ArgReader): StoreCommand {
  const set = r.seqSet();
  r.sp('after sequence set');
  let unchangedSince: number | undefined;
  if (r.peekByte() === 0x28) {
    r.list((x) => {
      const m = x.atom('store modifier').toUpperCase();
      if (m !== 'UNCHANGEDSINCE') throw x.error(`Unknown store modifier ${m.slice(0, 40)}`);
      if (unchangedSince !== undefined) throw x.error('Duplicate store modifier UNCHANGEDSINCE');
      x.sp('after UNCHANGEDSINCE');
      unchangedSince = x.number64('mod-sequence value');
    }, { what: 'store modifiers' });
    r.sp('after store modifiers');
  }
  const item = r.atom('FLAGS, +FLAGS or -FLAGS');
  const m = ITEM.exec(item);
  if (!m) throw r.error(`Expected FLAGS, +FLAGS or -FLAGS, got ${item.slice(0, 30)}`);
  r.sp(`after ${item}`);
  const flags = r.storeFlags().filter((f) => f !== '\\Recent');
  r.end();
  return { set, op: m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set', silent: m[2] !== undefined, flags, unchangedSince };
}
