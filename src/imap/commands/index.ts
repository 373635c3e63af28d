/**
 * The command table: every command the server knows, with the states it is allowed in
 * and whether it addresses messages by sequence number (then no EXPUNGE may be announced
 * at its end, RFC 9051 7.5.1), and whether it changes mail (refused for a read-only
 * device). The session looks commands up here and nowhere else.
 */
import type { ImapCommand } from './types.js';
import { capability, id, logout, noop } from './any-state.js';
import { starttls } from './starttls.js';
import { authenticate, login } from './login.js';
import { enable } from './enable.js';
import { examine, select } from './select.js';
import { create, del, rename, subscribe, unsubscribe } from './mailboxes.js';
import { list, lsub, namespace } from './list.js';
import { status } from './status.js';
import { append } from './append.js';
import { idle } from './idle.js';
import { check, close, expunge, unselect } from './close.js';
import { search } from './search.js';
import { multisearch } from './multisearch.js';
import { sort } from './sort.js';
import { thread } from './thread.js';
import { fetch } from './fetch.js';
import { store } from './store.js';
import { copy, move } from './copy.js';
import { getmetadata, setmetadata } from './metadata.js';
import { cancelupdate } from './search-updates.js';
import { compress } from './compress.js';
import { unauthenticate } from './unauthenticate.js';
import { getquota, getquotaroot, setquota } from './quota.js';
import { replace } from './replace.js';
import { notify } from './notify.js';
import { genurlauth, resetkey, urlfetch } from './urlauth.js';
import { deleteacl, getacl, listrights, myrights, setacl } from './acl.js';

/** Commands that change mail or mailboxes: refused for a read-only device (`device set … readonly=yes`). */
const writing = (c: ImapCommand): ImapCommand => ({ ...c, writes: true });

const ALL: ImapCommand[] = [
  capability, noop, logout, id, starttls, login, authenticate, enable,
  select, examine, writing(create), writing(del), writing(rename), subscribe, unsubscribe, list, lsub, namespace, status, writing(append), idle,
  check, close, unselect, writing(expunge), search, multisearch, sort, thread, fetch, writing(store), writing(copy), writing(move),
  getmetadata, writing(setmetadata), cancelupdate,
  compress,
  unauthenticate,
  getquota, getquotaroot, setquota,
  writing(replace),
  notify,
  genurlauth, resetkey, urlfetch,
  writing(setacl), writing(deleteacl), getacl, listrights, myrights,
];

/** Commands by upper-case name. */
export const COMMANDS: ReadonlyMap<string, ImapCommand> = new Map(ALL.map((c) => [c.name, c]));
