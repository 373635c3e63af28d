/**
 * The compact read a session makes when it selects a mailbox: the mailbox row and every
 * message's UID and flags from one snapshot, as typed arrays and a table of distinct flag
 * lists, never one object per message (a 100,000-message INBOX is two 400 KB arrays and a
 * handful of flag lists, and crosses a worker boundary as two memory copies).
 */
import { StoreError } from '../errors.js';
import type { Id, MailboxSnapshot } from '../types.js';
import { splitFlags, viewFlags } from './flags.js';
import { requireMailbox } from './mailboxes.js';
import { toMailbox } from './rows.js';
import type { ReadTx } from './tx.js';

/** Separates flag lists in the aggregate: a control character, never part of a flag (atoms only). */
const LIST_SEP = '\n';

/**
 * Three statements in one read transaction: the mailbox row; every row's UID and shared
 * flags as two strings aggregated in the database (a 100,000-row result costs more in
 * per-row driver objects than the whole index scan; one pass over the covering index
 * messages_uid_flags); and the viewer's private flags in this mailbox (few rows,
 * private_flags_user; for a member, one per message it has read), merged here as `toMessage`
 * merges them (a member sees its own \Seen, not the owner's).
 */
export async function mailboxSnapshot(tx: ReadTx, mailboxId: Id, viewerId: Id): Promise<MailboxSnapshot> {
  const box = await requireMailbox(tx, mailboxId);
  // PostgreSQL needs the order spelled; SQLite aggregates in index order (checked below, sorted if not).
  const order = tx.d.name === 'postgres' ? ' ORDER BY uid' : '';
  const agg = await tx.get<{ n: number; uids: string | null; flags: string | null }>(
    `SELECT count(*) AS n, string_agg(CAST(uid AS TEXT), ','${order}) AS uids, string_agg(flags, '${LIST_SEP}'${order}) AS flags
       FROM messages WHERE mailbox_id = ?`,
    [box.id],
  );
  const priv = await tx.query<{ uid: number; flags: string }>(
    'SELECT m.uid, pf.flags FROM private_flags pf JOIN messages m ON m.id = pf.message_id WHERE pf.user_id = ? AND m.mailbox_id = ?',
    [viewerId, box.id],
  );
  const n = Number(agg?.n ?? 0);
  const uids = parseUids(agg?.uids ?? '', n);
  const shared = n === 0 ? [] : (agg?.flags ?? '').split(LIST_SEP);
  if (shared.length !== n) throw new StoreError('invalid', `mailbox ${box.id}: ${shared.length} flag lists for ${n} rows`);
  const privateOf = new Map(priv.filter((p) => p.flags !== '').map((p) => [Number(p.uid), p.flags]));
  const flagSet = new Uint32Array(n);
  const flagSets: string[][] = [];
  const interned = new Map<string, number>();
  let lastKey: string | undefined;
  let lastSet = 0;
  for (let i = 0; i < n; i++) {
    const p = privateOf.size > 0 ? privateOf.get(uids[i]) : undefined;
    const key = p === undefined ? shared[i] : `${shared[i]}${LIST_SEP}${p}`;
    if (key !== lastKey) {
      // neighbours mostly share their flags: one string compare instead of a map lookup
      let set = interned.get(key);
      if (set === undefined) {
        set = flagSets.length;
        interned.set(key, set);
        flagSets.push(viewFlags(splitFlags(shared[i]), splitFlags(p), viewerId));
      }
      lastKey = key;
      lastSet = set;
    }
    flagSet[i] = lastSet;
  }
  if (!ascending(uids)) sortTogether(uids, flagSet);
  return { mailbox: toMailbox(box), uids, flagSets, flagSet };
}

/** `1,2,5` into a typed array of `n` UIDs (decimal digits and commas only: the database wrote it). */
function parseUids(text: string, n: number): Uint32Array {
  const out = new Uint32Array(n);
  let k = 0;
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 44) {
      out[k++] = v;
      v = 0;
    } else v = v * 10 + (c - 48);
  }
  if (n > 0) out[k++] = v;
  if (k !== n || v > 0xffffffff) throw new StoreError('invalid', `UID list of ${k} entries for ${n} rows`);
  return out;
}

function ascending(a: Uint32Array): boolean {
  for (let i = 1; i < a.length; i++) if (a[i - 1] >= a[i]) return false;
  return true;
}

/** Sorts both arrays by UID (the rare plan that did not aggregate in UID order). */
function sortTogether(uids: Uint32Array, flagSet: Uint32Array): void {
  const order = Array.from(uids.keys()).sort((a, b) => uids[a] - uids[b]);
  const u = Uint32Array.from(order, (i) => uids[i]);
  const f = Uint32Array.from(order, (i) => flagSet[i]);
  uids.set(u);
  flagSet.set(f);
}
