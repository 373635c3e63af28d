/** The shape of a command (STYLE.md "Commands as values") and what it may use of the session. */
import type { ArgReader } from '../protocol/index.js';
import type { StateKind } from '../state.js';
import type { ImapSession } from '../session.js';

/** How a command ended when it did not throw: the tagged OK's code and text. */
export interface Completion {
  /** The command wrote its own tagged response (STARTTLS, LOGOUT). */
  sent?: boolean;
  code?: string;
  text?: string;
  /** The command expunged: with CONDSTORE the tagged OK carries HIGHESTMODSEQ (RFC 7162 3.2.7) when no code is given. */
  reportModSeq?: boolean;
  /**
   * Called when the tagged OK could not be written because the client is gone: the
   * command stored something the client was never told about (APPEND).
   */
  onUndelivered?: () => void;
}

export interface CommandContext {
  session: ImapSession;
  tag: string;
  /** Upper-case command name without UID. */
  name: string;
  /** The UID form (`UID FETCH` …). */
  uid: boolean;
  args: ArgReader;
}

export interface ImapCommand {
  name: string;
  states: readonly StateKind[];
  /**
   * True when the command addresses messages by sequence number (in its non-UID form):
   * the session then must not announce EXPUNGE at its end (RFC 9051 7.5.1, Dovecot's
   * COMMAND_FLAG_USES_SEQS), so the numbers the client used stay valid.
   */
  usesSeqs?: boolean;
  /** True when the command changes mail or mailboxes: a read-only device (`readonly=yes`) gets NO. */
  writes?: boolean;
  /** Runs the command; throws ImapNo / ImapParseError / StoreError to fail it (errors.ts maps them). */
  run(ctx: CommandContext): Promise<Completion | void>;
}
