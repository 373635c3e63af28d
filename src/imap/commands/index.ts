/**
 * The command table: every command the server knows, with the states it is allowed in
 * and whether it addresses messages by sequence number (then no EXPUNGE may be announced
 * at its end, RFC 9051 7.5.1). The session looks commands up here and nowhere else.
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
import { fetch } from './fetch.js';
import { store } from './store.js';
import { copy, move } from './copy.js';

const ALL: ImapCommand[] = [
  capability, noop, logout, id, starttls, login, authenticate, enable,
  select, examine, create, del, rename, subscribe, unsubscribe, list, lsub, namespace, status, append, idle,
  check, close, unselect, expunge, search, fetch, store, copy, move,
];

/** Commands by upper-case name. */
export const COMMANDS: ReadonlyMap<string, ImapCommand> = new Map(ALL.map((c) => [c.name, c]));
