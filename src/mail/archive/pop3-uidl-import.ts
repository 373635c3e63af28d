/**
 * Gives the imported INBOX messages the old server's POP3 unique-ids, so a POP3 client
 * that leaves mail on the server sees the same UIDL list and downloads nothing twice.
 *
 * Matching: POP3 shows each message with CRLF line ends (and a final CRLF), so both sides
 * are compared in that form. A POP3 message whose LIST size is unique on the old server
 * and fits exactly one not yet matched INBOX message is that message (no download); otherwise it is fetched (TOP, all lines) and matched by
 * the sha256 of its bytes. Nothing is guessed: an unmatched message keeps Mailroom's UIDL.
 */
import { createHash } from 'node:crypto';
import type { Id, MessageRow, Store, Uid } from '../../store/types.js';
import type { RemoteAccount } from './imap-import.js';
import { Pop3Client } from './pop3-client.js';

export interface UidlSummary {
  /** UIDLs set now */
  set: number;
  /** messages that already had the old UIDL (an earlier run) */
  already: number;
  /** POP3 messages with no imported INBOX message of the same bytes */
  unmatched: number;
}

/** The message as a POP3 server shows it: CRLF line ends, ending in CRLF. */
export function pop3Form(raw: Buffer): Buffer {
  let text = raw.toString('latin1').replace(/\r?\n/g, '\r\n');
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(text, 'latin1');
}

interface Candidate {
  row: MessageRow;
  size: number;
  hash: string;
}

function hashOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readContent(store: Store, contentId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.openContent(contentId)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** One message in memory at a time: only its size and hash are kept. */
async function candidates(store: Store, userId: Id, inboxId: Id, uids: Uid[]): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const row of await store.getMessages(inboxId, uids, userId)) {
    const form = pop3Form(await readContent(store, row.contentId));
    out.push({ row, size: form.length, hash: hashOf(form) });
  }
  return out;
}

export async function importPop3Uidls(account: RemoteAccount, store: Store, userId: Id, inboxId: Id, inboxUids: Uid[]): Promise<UidlSummary> {
  const pool = await candidates(store, userId, inboxId, inboxUids);
  const client = await Pop3Client.connect(account);
  const summary: UidlSummary = { set: 0, already: 0, unmatched: 0 };
  try {
    const uidls = await client.uidl();
    const sizes = await client.list();
    const sameSize = (size: number | undefined) => [...sizes.values()].filter((s) => s === size).length;
    const match = async (n: number): Promise<Candidate | undefined> => {
      const size = sizes.get(n);
      const bySize = pool.filter((c) => c.size === size);
      // Size alone decides only when it is unique on both sides; anything else is settled by the bytes.
      if (bySize.length === 1 && sameSize(size) === 1) return bySize[0];
      const hash = hashOf(pop3Form(await client.whole(n)));
      return pool.find((c) => c.hash === hash);
    };
    for (const [n, uidl] of [...uidls].sort((a, b) => a[0] - b[0])) {
      const found = await match(n);
      if (!found) {
        summary.unmatched++;
        continue;
      }
      pool.splice(pool.indexOf(found), 1);
      if (found.row.uidl === uidl) summary.already++;
      else {
        await store.setUidl(inboxId, found.row.uid, uidl);
        summary.set++;
      }
    }
  } finally {
    await client.quit().catch(() => undefined);
  }
  return summary;
}
