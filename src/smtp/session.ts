/**
 * One SMTP, submission or LMTP conversation: the state (greeting, TLS, login,
 * the open mail transaction), the reply writer with the error budget, and the
 * command loop that dispatches to commands/. The commands decide; this file
 * only keeps the rules every command shares.
 */
import type { Resolution } from '../mail/recipients.js';
import type { LoginIdentity } from '../auth/authenticate.js';
import type { Logger } from 'pino';
import type { Services } from '../services.js';
import type { Session as NetSession } from '../net/listeners.js';
import type { User } from '../store/types.js';
import { createTracer, type Tracer } from '../log/trace.js';
import { Connection, ConnectionClosed } from '../net/connection.js';
import { deadlineOptions } from '../net/deadlines.js';
import { isStoreError } from '../store/errors.js';
import { splitCommand, SmtpSyntaxError, type MailFrom, type RcptTo } from './protocol/command.js';
import type { DataDecoder } from './protocol/data-decoder.js';
import type { MessageSpool } from '../mail/message-source.js';
import { COMMANDS } from './commands/index.js';
import { commandTimer } from '../metrics/registry.js';
import type { RemoteQueue } from './remote.js';
import type { DnsResolver } from './auth-results.js';
import type { ResendGuard } from '../mail/resend-guard.js';

export type SmtpMode = 'mx' | 'submission' | 'lmtp';

export interface SmtpOptions {
  mode: SmtpMode;
  implicitTls: boolean;
}

/** A recipient accepted at RCPT time. */
export interface AcceptedRecipient {
  rcpt: RcptTo;
  /** Normalised address used for delivery. */
  address: string;
  /** Local users and aliases → INBOX; remote (submission, forwarding aliases) → the outbound queue. */
  kind: 'local' | 'remote';
  /** Local: who the address reached at RCPT, so delivery after DATA does not look it up again. */
  resolution?: Resolution;
}

/** The open mail transaction (MAIL … DATA/BDAT LAST). */
export interface Transaction {
  mail: MailFrom;
  recipients: AcceptedRecipient[];
  /** BDAT in progress: chunks decoded so far. */
  chunking?: { decoder: DataDecoder; spool: MessageSpool; failed: boolean };
}

/** A reply: one line or several (multi-line 250-… form). */
export interface Reply {
  code: number;
  /** Enhanced status code (RFC 2034), absent for greetings and EHLO. */
  enhanced?: string;
  lines: string[];
}

const smtpCommands = commandTimer('smtp', Object.keys(COMMANDS));

/** Longest command line accepted, CRLF included: RFC 5321 4.5.3.1.4 says 512, extensions add to it (RFC 5321 4.5.3.1, RFC 3461 ORCPT/ENVID). */
export const MAX_COMMAND_LINE = 2048;

/** What every session of a listener shares. */
export interface SharedByListeners {
  /** Where remote recipients go (the outbound queue). */
  remote: RemoteQueue;
  /** DNS for SPF/DKIM/DMARC/ARC (MX only). */
  resolver: DnsResolver;
  /** Recognises a message re-sent because its 250 was not seen. */
  resend: ResendGuard;
}

export class SmtpSession {
  readonly remote: RemoteQueue;
  readonly resolver: DnsResolver;
  readonly resend: ResendGuard;
  /** The byte side: reads, backpressured writes, timeouts, STARTTLS, trace (src/net/connection.ts). */
  readonly io: Connection;
  readonly log: Logger;
  readonly trace: Tracer;
  /** HELO/EHLO/LHLO name; undefined until greeted. */
  helo: string | undefined;
  esmtp = false;
  user: User | undefined;
  /** Who logged in (member, device), with `user`. */
  login: LoginIdentity | undefined;
  private unregisterLogin: (() => void) | undefined;
  tx: Transaction | undefined;
  private errors = 0;
  /** The last reply's write; the loop waits for it before reading on, so replies cannot pile up unread. */
  private written: Promise<void> = Promise.resolve();
  quitting = false;

  constructor(
    readonly services: Services,
    readonly opts: SmtpOptions,
    readonly net: NetSession,
    socket: import('node:net').Socket,
    shared: SharedByListeners,
  ) {
    this.remote = shared.remote;
    this.resolver = shared.resolver;
    this.resend = shared.resend;
    this.log = net.log;
    this.trace = createTracer(opts.mode === 'lmtp' ? 'lmtp' : 'smtp', net.log, services.config.log.trace);
    const limits = services.config.limits;
    this.io = new Connection(socket, { idleTimeoutMs: services.config.smtp.timeout_ms, signal: net.signal, tracer: this.trace, ...deadlineOptions(limits) });
    if (opts.mode === 'submission') this.io.setDeadline(limits.login_timeout_s * 1000); // until AUTH succeeds
  }

  get lmtp(): boolean {
    return this.opts.mode === 'lmtp';
  }

  get hostname(): string {
    return this.services.config.hostname;
  }

  get secure(): boolean {
    return this.io.secure;
  }

  /**
   * Writes a reply; 4xx/5xx count against the error budget. RFC 5321 4.2.1 multi-line form.
   * Replies to pipelined commands leave together (Connection.answer, RFC 2920 3.1: one
   * write for MAIL, RCPT… and DATA's 354 instead of one each). Resolves when the socket
   * can take more (callers in a loop await it).
   */
  reply(code: number, enhanced: string | undefined, ...lines: string[]): Promise<void> {
    this.written = this.io.answer(this.format({ code, enhanced, lines }));
    return this.written;
  }

  /**
   * Writes replies that acknowledge a stored message (one, or one per LMTP recipient)
   * in one write; true once they reached the client's kernel, false when it is gone.
   */
  replyConfirmed(replies: Reply[]): Promise<boolean> {
    return this.io.sendConfirmed(replies.map((r) => this.format(r)).join(''));
  }

  private format(r: Reply): string {
    const text = r.lines.length ? r.lines : [''];
    let out = '';
    text.forEach((line, i) => {
      const sep = i === text.length - 1 ? ' ' : '-';
      out += `${r.code}${sep}${r.enhanced ? `${r.enhanced} ` : ''}${line}\r\n`;
    });
    if (r.code >= 400) this.errors++;
    return out;
  }

  /** Whether the error budget is spent (the loop then says 421 and closes). */
  get tooManyErrors(): boolean {
    return this.errors >= this.services.config.smtp.max_errors;
  }

  /** Logged in with AUTH: the session ends (421) when this login is revoked. */
  loggedIn(user: User, login: LoginIdentity): void {
    this.io.setDeadline(undefined);
    this.user = user;
    this.login = login;
    this.unregisterLogin = this.services.logins.register(login, (why) => {
      this.log.info({ why }, 'login revoked; ending smtp session');
      this.quitting = true;
      this.io.end(`421 4.7.0 ${this.hostname} Logged out: ${why}\r\n`); // RFC 5321 3.8: 421 may close at any time
    });
  }

  /** Forgets the login (STARTTLS, the session's end). */
  loggedOut(): void {
    this.unregisterLogin?.();
    this.unregisterLogin = undefined;
    this.user = undefined;
    this.login = undefined;
  }

  /** Forgets the transaction (RSET, after delivery, after STARTTLS/AUTH changes). */
  async resetTransaction(): Promise<void> {
    const c = this.tx?.chunking;
    this.tx = undefined;
    if (c) await c.spool.dispose();
  }

  /** Runs the conversation to its end; never throws. */
  async run(): Promise<void> {
    try {
      this.reply(220, undefined, `${this.hostname} ${this.lmtp ? 'LMTP' : 'ESMTP'} Mailroom ready`);
      while (!this.quitting) {
        if (this.tooManyErrors) {
          this.io.end(`421 4.7.0 ${this.hostname} Too many errors, closing connection\r\n`);
          return;
        }
        await this.written;
        const got = await this.io.readLine(MAX_COMMAND_LINE);
        if ('tooLong' in got) {
          this.reply(500, '5.5.2', 'Line too long'); // RFC 5321 4.5.3.1.4
          continue;
        }
        await this.dispatch(got.line);
      }
    } catch (err) {
      this.onFatal(err);
    } finally {
      this.loggedOut();
      await this.resetTransaction().catch(() => {});
    }
  }

  private async dispatch(raw: Buffer): Promise<void> {
    const line = raw.toString('utf8'); // traced by the connection
    if (raw.includes(0)) {
      this.reply(500, '5.5.2', 'NUL byte in command');
      return;
    }
    const started = performance.now();
    const { verb, args } = splitCommand(line);
    const command = COMMANDS[verb];
    if (!command || (command.modes && !command.modes.includes(this.opts.mode))) {
      smtpCommands.observe('', started);
      this.reply(500, '5.5.2', 'Syntax error, command unrecognized'); // RFC 5321 4.2.4
      return;
    }
    try {
      await command.run(this, args);
      smtpCommands.observe(verb, started);
    } catch (err) {
      smtpCommands.observe(verb, started);
      if (err instanceof SmtpSyntaxError) this.reply(err.code, err.enhanced, err.message);
      // The store is down (e.g. PostgreSQL restarting): a 4xx the client retries, and the session lives on.
      else if (isStoreError(err, 'unavailable')) this.reply(451, '4.3.0', 'Temporary failure: mail store unavailable; try again later'); // RFC 3463 4.3.0
      else throw err;
    }
  }

  private onFatal(err: unknown): void {
    if (err instanceof ConnectionClosed) {
      if (err.reason === 'timeout') this.io.end(`421 4.4.2 ${this.hostname} Timeout, closing connection\r\n`);
      else if (err.reason === 'shutdown') this.io.end(`421 4.3.2 ${this.hostname} Server shutting down\r\n`);
      else this.io.destroy();
      return;
    }
    this.log.error({ err }, 'smtp session failed');
    this.io.end(`421 4.3.0 ${this.hostname} Internal error, closing connection\r\n`);
  }
}
