/** The command table: every keyword the parser knows, with its states and handler. */
import type { Keyword } from '../protocol/command.js';
import { apop, auth, pass, user } from './login.js';
import { dele, list, retr, rset, stat, top, uidl } from './messages.js';
import { capa, noop, quit, stls, utf8 } from './session-commands.js';
import type { CommandEntry } from './types.js';

export const commandTable: Record<Keyword, CommandEntry> = {
  USER: user, PASS: pass, AUTH: auth, APOP: apop,
  CAPA: capa, STLS: stls, UTF8: utf8, NOOP: noop, QUIT: quit,
  STAT: stat, LIST: list, RETR: retr, DELE: dele, RSET: rset, TOP: top, UIDL: uidl,
};
