/** The shape of a POP3 command: the states it is valid in and what it does. */
import type { Pop3Command } from '../protocol/command.js';
import type { Pop3Session } from '../session.js';

export interface CommandEntry {
  states: readonly ('authorization' | 'transaction')[];
  run(s: Pop3Session, cmd: Pop3Command): Promise<void>;
}
