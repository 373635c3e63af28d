/**
 * One POP3 connection (RFC 1939): AUTHORIZATION → TRANSACTION → UPDATE, over the shared
 * connection layer (src/net/connection.ts), which reads the lines, keeps the idle
 * timeout, drops pipelined plaintext at STLS and removes its listeners on close.
 * Commands run one after another (RFC 2449 6.6 PIPELINING: a client may send many at
 * once; answers come in order).
 *
 * Output is batched: answers are queued and written together (one writev) when the
 * client has no further whole command waiting, when the batch passes FLUSH_AT, or
 * before the session waits for input. So a RETR's "+OK" line, body and "." leave in
 * one write, a pipelined batch of RETRs in a few, and each write waits for the
 * socket to drain (backpressure), never for Nagle (the connection sets TCP_NODELAY).
 *
 * Invariants: a command's answer is queued completely before the next command runs;
 * the maildrop lease is released on every way out (QUIT, error, idle timeout,
 * shutdown, the client leaving); UPDATE happens only after QUIT in TRANSACTION; the
 * session adds no listener of its own (the connection's onShutdown/onClose instead).
 */
import type { Socket } from 'node:net';
import type { Session } from '../net/listeners.js';
import { Connection, ConnectionClosed } from '../net/connection.js';
import { deadlineOptions } from '../net/deadlines.js';
import { channelBindingOf } from '../auth/channel-binding.js';
import type { ChannelBinding } from '../auth/scram.js';
import { createTracer, type Tracer } from '../log/trace.js';
import type { Maildrop } from '../mail/maildrop.js';
import { pop3Policy, type Pop3Policy } from '../mail/pop3-policy.js';
import type { Services } from '../services.js';
import type { LoginIdentity } from '../auth/authenticate.js';
import { capabilities } from './capabilities.js';
import { commandTable } from './commands/index.js';
import { commandTimer } from '../metrics/registry.js';
import { ReadAhead } from './read-ahead.js';
import { parseCommand } from './protocol/command.js';
import { err, ok, type RespCode } from './protocol/responses.js';

const pop3Commands = commandTimer('pop3', Object.keys(commandTable));

/** Longest command or SASL line in octets, CRLF included (RFC 2449 4 says 255 for commands; SASL needs more). */
export const MAX_LINE = 4096;
/** Queued answer bytes after which they are written even when more commands wait. */
const FLUSH_AT = 64 * 1024;

const SHUTDOWN = err('server shutting down', 'SYS/TEMP');

export type SessionState =
  | { name: 'authorization'; user: string | null }
  | { name: 'transaction'; drop: Maildrop }
  | { name: 'closed' };

export class Pop3Session {
  readonly conn: Connection;
  state: SessionState = { name: 'authorization', user: null };
  utf8 = false;
  readonly trace: Tracer;
  /** The next message's bytes, read while RETR sends this one. */
  readonly readAhead: ReadAhead;
  private readonly implicitTls: boolean;
  private readonly idleMs: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private errors = 0;
  private ending = false;
  private shutdownRequested = false;
  private unregisterLogin: (() => void) | undefined;

  constructor(
    readonly services: Services,
    readonly net: Session,
    socket: Socket,
    implicitTls: boolean,
  ) {
    this.implicitTls = implicitTls;
    this.idleMs = services.config.pop3.idle_timeout_s * 1000;
    this.trace = createTracer('pop3', net.log, services.config.log.trace);
    this.readAhead = new ReadAhead(services.store);
    // RFC 1939 3: the autologout timer; it runs while the server waits for the client.
    const limits = services.config.limits;
    this.conn = new Connection(socket, { idleTimeoutMs: this.idleMs, signal: net.signal, tracer: this.trace, ...deadlineOptions(limits) });
    this.conn.setDeadline(limits.login_timeout_s * 1000); // the authorization state ends, however busy the client keeps it
    this.conn.onShutdown(() => (this.shutdownRequested = true));
  }

  /** TLS is active: implicit (pop3s) or after STLS. */
  get tls(): boolean {
    return this.implicitTls || this.conn.secure;
  }

  /** Runs the session until the connection ends; the maildrop is released whatever happens. */
  async run(): Promise<void> {
    try {
      if (this.net.signal.aborted) return await this.close(SHUTDOWN);
      await this.send(ok('Mailroom POP3 server ready'));
      while (!this.ending) {
        // Between commands, so an answer is never cut in half (RFC 1939 3: no UPDATE).
        if (this.shutdownRequested) return await this.close(SHUTDOWN);
        const line = await this.nextLine();
        if (line === null) break;
        await this.dispatch(line);
      }
    } catch (e) {
      if (e instanceof ConnectionClosed) {
        this.ending = true; // e.g. a failed STLS handshake: nothing more can be said
        this.conn.destroy();
      } else {
        this.net.log.error({ err: e }, 'pop3 session failed');
        await this.close(err('internal server error', 'SYS/TEMP'));
      }
    } finally {
      await this.leave();
    }
  }

  /**
   * The next client line as text, or null when the connection is over (the client
   * left, the line was too long, the idle timeout passed, the server shuts down;
   * the last words are said here). Used by commands for SASL steps.
   */
  async nextLine(): Promise<string | null> {
    if (this.ending) return null;
    if (!this.conn.lineBuffered) await this.flush(); // the client may be waiting for these answers
    let r;
    try {
      r = await this.conn.readLine(MAX_LINE - 1); // the limit counts the CR, not the LF
    } catch (e) {
      if (!(e instanceof ConnectionClosed)) throw e;
      if (e.reason === 'timeout') await this.close(err('autologout: idle for too long', 'SYS/TEMP')); // RFC 1939 3: no UPDATE
      else if (e.reason === 'shutdown') await this.close(SHUTDOWN);
      else if (e.reason === 'eof') await this.close();
      else {
        this.ending = true;
        this.conn.destroy();
      }
      return null;
    }
    if ('tooLong' in r) {
      await this.close(err(`line too long (over ${MAX_LINE} octets); closing connection`));
      return null;
    }
    return r.line.toString('utf8');
  }

  private async dispatch(line: string): Promise<void> {
    const started = performance.now();
    const parsed = parseCommand(line);
    if (!parsed.ok) {
      pop3Commands.observe('', started);
      return this.fail(parsed.error);
    }
    const entry = commandTable[parsed.command.keyword];
    const state = this.state.name;
    if (state === 'closed') return;
    if (!entry.states.includes(state)) {
      return this.fail(`${parsed.command.keyword} is not valid in the ${state.toUpperCase()} state`);
    }
    try {
      await entry.run(this, parsed.command);
    } finally {
      pop3Commands.observe(parsed.command.keyword, started);
    }
  }

  /** Queues protocol text (traced now, so the trace keeps the conversation's order); written with the next flush. */
  async send(text: string): Promise<void> {
    if (this.ending) return;
    for (const l of text.split('\r\n')) if (l !== '') this.trace.server(l);
    await this.queue(Buffer.from(text, 'utf8'));
  }

  /** Queues message bytes (RETR, TOP), untraced; waits on backpressure when the batch is written. */
  async sendBody(bytes: Buffer): Promise<void> {
    if (this.ending || bytes.length === 0) return;
    await this.queue(bytes);
  }

  /**
   * Queues message bytes already in memory (a RETR read ahead) with no flush between them,
   * so body and terminator leave in one write instead of a write, a wait for the socket to
   * drain, and another for the last line.
   */
  sendWhole(parts: Buffer[]): void {
    if (this.ending) return;
    for (const bytes of parts) {
      if (bytes.length === 0) continue;
      this.pending.push(bytes);
      this.pendingBytes += bytes.length;
    }
  }

  /** Writes the queued answers when they pass FLUSH_AT (see queue). */
  async flushIfFull(): Promise<void> {
    if (this.pendingBytes >= FLUSH_AT) await this.flush();
  }

  private async queue(bytes: Buffer): Promise<void> {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= FLUSH_AT) await this.flush();
  }

  /**
   * Writes the queued answers as one batch and waits while the socket's buffer is
   * full (the connection cuts a client that stops reading for the idle timeout, so
   * the wait cannot hold the maildrop forever).
   */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const parts = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    await this.conn.writeMany(parts);
    if (this.conn.cutForNotReading) this.net.log.info('pop3 client stopped reading; closing connection');
  }

  /** Sends -ERR and counts it; too many errors close the session (no UPDATE). */
  async fail(text: string, code?: RespCode): Promise<void> {
    await this.send(err(text, code));
    if (++this.errors >= this.services.config.pop3.max_errors) {
      await this.close(err('too many errors; closing connection'));
    }
  }

  /** Says the last line after every queued answer and ends the connection, without UPDATE. */
  async close(lastLine?: string): Promise<void> {
    if (this.ending) return;
    if (lastLine) await this.send(lastLine);
    this.ending = true;
    await this.flush();
    this.conn.end(); // a client that never closes its side is cut after a grace period
    await this.leave();
  }

  /** Ends the session (no UPDATE) when this login is revoked; a POP3 server may close with a last -ERR, as at shutdown. */
  watchLogin(login: LoginIdentity): void {
    this.conn.setDeadline(undefined);
    this.unregisterLogin = this.services.logins.register(login, (why) => {
      this.net.log.info({ why }, 'login revoked; ending pop3 session');
      void this.close(err(`logged out: ${why}`, 'AUTH')).catch(() => {});
    });
  }

  /** Releases the maildrop lock if the session still holds it. */
  private async leave(): Promise<void> {
    this.unregisterLogin?.();
    this.unregisterLogin = undefined;
    this.readAhead.clear();
    const st = this.state;
    this.state = { name: 'closed' };
    if (st.name === 'transaction') await st.drop.release();
  }

  /** After QUIT: the connection closes once the answer is out. */
  async quit(lastLine: string): Promise<void> {
    this.state = { name: 'closed' };
    await this.close(lastLine);
  }

  /** Password login is allowed: TLS, or loopback/always by `auth.allow_plaintext`. */
  plaintextAllowed(): boolean {
    if (this.tls) return true;
    const mode = this.services.config.auth.allow_plaintext;
    return mode === 'always' || (mode === 'loopback' && isLoopback(this.net.remoteAddress));
  }

  /** What a SCRAM -PLUS exchange binds to on this connection (null before TLS). */
  channelBinding(): ChannelBinding | null {
    return channelBindingOf(this.conn.socket);
  }

  canStls(): boolean {
    return !this.tls && this.net.secureContext !== undefined && this.state.name === 'authorization';
  }

  /** The policy that applies now: the user's after login, the config defaults before. */
  policy(): Pop3Policy {
    return this.state.name === 'transaction' ? this.state.drop.policy : pop3Policy(this.services.config.pop3, {});
  }

  capabilities(): string[] {
    return capabilities({ authenticated: this.state.name === 'transaction', tls: this.tls, plaintextAllowed: this.plaintextAllowed(), canStls: this.canStls(), policy: this.policy() });
  }

  /**
   * RFC 2595 4: after "+OK", TLS starts; the connection drops anything the client
   * pipelined after STLS. Throws ConnectionClosed when the handshake fails.
   */
  async startTls(): Promise<void> {
    await this.flush(); // the "+OK" goes out in plaintext before the handshake
    await this.conn.startTls(this.net.secureContext!);
  }
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
