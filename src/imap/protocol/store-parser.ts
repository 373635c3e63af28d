/**
 * STORE / UID STORE arguments (RFC 9051 6.4.6) with the CONDSTORE modifier
 * (RFC 7162 3.1.3): `sequence-set [SP "(" UNCHANGEDSINCE mod-sequence-valzer ")"]
 * SP ["+" / "-"] "FLAGS" [".SILENT"] SP (flag-list / flag *(SP flag))`.
 *
 * Also accepted: the modifier list after a parenthesised flag list
 * (`+FLAGS (\Seen) (UNCHANGEDSINCE 5)`), which imapflow 1.7 sends. Dovecot
 * accepts that order and silently ignores the condition; honouring it is the
 * only safe reading, since the client asked for a conditional store.
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
  const modifiers = (): void => {
    r.list((x) => {
      const m = x.atom('store modifier').toUpperCase();
      if (m !== 'UNCHANGEDSINCE') throw x.error(`Unknown store modifier ${m.slice(0, 40)}`);
      if (unchangedSince !== undefined) throw x.error('Duplicate store modifier UNCHANGEDSINCE');
      x.sp('after UNCHANGEDSINCE');
      unchangedSince = x.number64('mod-sequence value');
    }, { what: 'store modifiers' });
  };
  const leading = r.peekByte() === 0x28;
  if (leading) {
    modifiers();
    r.sp('after store modifiers');
  }
  const item = r.atom('FLAGS, +FLAGS or -FLAGS');
  const m = ITEM.exec(item);
  if (!m) throw r.error(`Expected FLAGS, +FLAGS or -FLAGS, got ${item.slice(0, 30)}`);
  r.sp(`after ${item}`);
  const listed = r.peekByte() === 0x28;
  const flags = r.storeFlags().filter((f) => f !== '\\Recent');
  if (listed && !leading && r.optionalSp()) modifiers();
  r.end();
  return { set, op: m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set', silent: m[2] !== undefined, flags, unchangedSince };
}
