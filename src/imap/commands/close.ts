// CHECK / CLOSE / UNSELECT / EXPUNGE / UID EXPUNGE uid-set
//   RFC3501 6.4.1 (CHECK), RFC9051 6.4.1-6.4.3, RFC3691 (UNSELECT), RFC4315 2.1 (UID EXPUNGE),
//   RFC7162 3.2.7 (VANISHED and HIGHESTMODSEQ after EXPUNGE)
import type { Uid } from '../../store/types.js';
import { actorOf, deletedBy } from '../../mail/recently-deleted.js';
import { deleteForDevice } from '../../mail/device-delete.js';
import { deviceDeleteMode } from '../../auth/device-limits.js';
import type { ImapSession } from '../session.js';
import { requireRights, requireWritable } from './util.js';
import type { ImapCommand } from './types.js';

/** Expunges for this session's device: everywhere (the plain store expunge), for the device only, or to Trash. */
export async function remove(s: ImapSession, uids: Uid[]): Promise<Uid[]> {
  const store = s.services.store;
  const view = s.view();
  const by = deletedBy('imap', actorOf(s.user().address, s.login));
  const mode = deviceDeleteMode(s.login?.device?.settings);
  if (uids.length === 0) return [];
  if (mode === 'everywhere') return store.expunge(view.mailboxId, uids, by);
  const mailbox = await store.getMailboxById(view.mailboxId);
  if (!mailbox) return [];
  return deleteForDevice(store, { mode, deviceId: s.login?.device?.id ?? null, userId: s.user().id, mailbox, uids, by, clearDeleted: true });
}

/** UIDs flagged \Deleted (optionally within `only`), after reading pending changes. */
async function deletedUids(s: ImapSession, only?: Set<number>): Promise<Uid[]> {
  const view = s.view();
  await view.poll(s.services.store);
  return view.allUids().filter((u) => view.flagsOf(u).includes('\\Deleted') && (!only || only.has(u)) && !view.isExpungedPending(u));
}

export const check = {
  name: 'CHECK',
  states: ['selected'],
  async run({ args }) {
    args.end(); // every change is already durable: CHECK is a NOOP (RFC 3501 6.4.1)
  },
} as const satisfies ImapCommand;

export const close = {
  name: 'CLOSE',
  states: ['selected'],
  async run({ session: s, args }) {
    args.end();
    const view = s.view();
    if (!view.readOnly && view.rights.includes('e')) { // RFC 4314 4: without e, CLOSE expunges nothing
      const uids = await deletedUids(s);
      // RFC 9051 6.4.2: removes \Deleted messages silently, no EXPUNGE responses
      await remove(s, uids);
    }
    s.state = { kind: 'authenticated', user: s.user() };
  },
} as const satisfies ImapCommand;

export const unselect = {
  name: 'UNSELECT',
  states: ['selected'],
  async run({ session: s, args }) {
    args.end();
    s.state = { kind: 'authenticated', user: s.user() }; // RFC 3691 2: no expunge
  },
} as const satisfies ImapCommand;

export const expunge = {
  name: 'EXPUNGE',
  states: ['selected'],
  async run({ session: s, args, uid }) {
    let only: Set<number> | undefined;
    if (uid) only = new Set(s.view().resolve(args.seqSet(), true).map((m) => m.uid)); // RFC 4315 2.1
    args.end();
    requireWritable(s);
    const view = s.view();
    requireRights(view, 'e'); // RFC 4314 4
    const uids = await deletedUids(s, only);
    const gone = await remove(s, uids);
    const lines = deviceDeleteMode(s.login?.device?.settings) === 'device' ? view.hideUids(gone, s.vanishedExpunges) : view.removeUids(gone, s.vanishedExpunges);
    if (lines.length > 0) s.send(lines.join(''));
    return { reportModSeq: true };
  },
} as const satisfies ImapCommand;
