/**
 * One POP3 connection (RFC 1939): AUTHORIZATION → TRANSACTION → UPDATE. Reads lines,
 * runs commands one after another (RFC 2449 6.6 PIPELINING: a client may send many at
 * once; answers come in order), writes with backpressure, upgrades with STLS.
 *
 * Invariants: a command's answer is written completely before the next command runs;
 * the maildrop lease is released on every way out (QUIT, error, timeout, shutdown);
 * UPDATE happens only after QUIT in TRANSACTION.
 */
import { once } from 'node:events';
import type net from 'node:net';
import tls from 'node:tls';
import type { Session } from '../net/listeners.js';
import { createTracer, type Tracer } from '../log/trace.js';
import type { Maildrop } from '../mail/maildrop.js';
import { pop3Policy, type Pop3Policy } from '../mail/pop3-policy.js';
import type { Services } from '../services.js';
import { capabilities } from './capabilities.js';
import { commandTable } from './commands/index.js';
import { LineReader } from './protocol/line-reader.js';
import { parseCommand } from './protocol/command.js';
import { err, ok, type RespCode } from './protocol/responses.js';

/** Longest command or SASL line in octets, CRLF included (RFC 2449 4 says 255 for commands; SASL needs more). */
export const MAX_LINE = 4096;
/** Lines read ahead of the command being run before the socket is paused. */
const READ_AHEAD = 64;

export type SessionState =
  | { name: 'authorization'; user: string | null }
  | { name: 'transaction'; drop: Maildrop }
  | { name: 'closed' };

export class Pop3Session {
  socket: net.Socket;
  tls: boolean;
  state: SessionState = { name: 'authorization', user: null };
  utf8 = false;
  readonly trace: Tracer;
  private reader = new LineReader(MAX_LINE);
  private lines: (Buffer | 'overlong' | 'eof')[] = [];
  private detach: () => void = () => {};
  private wake: (() => void) | undefined;
  private errors = 0;
  private ending = false;

  constructor(
    readonly services: Services,
    readonly net: Session,
    socket: net.Socket,
    implicitTls: boolean,
  ) {
    this.socket = socket;
    this.tls = implicitTls;
    this.trace = createTracer('pop3', net.log, services.config.log.trace);
  }

  /** Runs the session until the connection ends. */
  async run(): Promise<void> {
    this.detach = this.attach(this.socket);
    const onAbort = () => void this.close(err('server shutting down', 'SYS/TEMP'));
    this.net.signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (this.net.signal.aborted) return await this.close(err('server shutting down', 'SYS/TEMP'));
      await this.send(ok('Mailroom POP3 server ready'));
      for (;;) {
        const line = await this.nextLine();
        if (line === null) break;
        await this.dispatch(line);
        if (this.ending) break;
      }
    } catch (e) {
      this.net.log.error({ err: e }, 'pop3 session failed');
      await this.close(err('internal server error', 'SYS/TEMP'));
    } finally {
      this.net.signal.removeEventListener('abort', onAbort);
      await this.leave();
    }
  }

  /** Listens on `socket`; returns the function that removes exactly these listeners (never the listener framework's). */
  private attach(socket: net.Socket): () => void {
    const onData = (chunk: Buffer) => {
      for (const ev of this.reader.push(chunk)) this.lines.push(ev.kind === 'line' ? ev.line : 'overlong');
      if (this.lines.length > READ_AHEAD) socket.pause();
      this.wake?.();
    };
    const onEof = () => this.eof();
    socket.on('data', onData);
    socket.once('end', onEof);
    socket.once('close', onEof);
    const idle = this.services.config.pop3.idle_timeout_s * 1000;
    socket.setTimeout(idle, () => void this.close(err('autologout: idle for too long', 'SYS/TEMP'))); // RFC 1939 3: no UPDATE
    return () => {
      socket.off('data', onData);
      socket.off('end', onEof);
      socket.off('close', onEof);
      socket.setTimeout(0);
    };
  }

  private eof(): void {
    this.lines.push('eof');
    this.wake?.();
  }

  /** The next client line as text, or null when the connection is over. Used by commands for SASL steps. */
  async nextLine(): Promise<string | null> {
    for (;;) {
      const next = this.lines.shift();
      if (this.lines.length <= READ_AHEAD && this.socket.isPaused()) this.socket.resume();
      if (next === 'eof') {
        this.lines.unshift('eof');
        return null;
      }
      if (next === 'overlong') {
        await this.close(err(`line too long (over ${MAX_LINE} octets); closing connection`));
        return null;
      }
      if (next) {
        this.trace.client(next);
        return next.toString('utf8');
      }
      if (this.ending) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private async dispatch(line: string): Promise<void> {
    const parsed = parseCommand(line);
    if (!parsed.ok) return this.fail(parsed.error);
    const entry = commandTable[parsed.command.keyword];
    const state = this.state.name;
    if (state === 'closed') return;
    if (!entry.states.includes(state)) {
      return this.fail(`${parsed.command.keyword} is not valid in the ${state.toUpperCase()} state`);
    }
    await entry.run(this, parsed.command);
  }

  /** Writes text or bytes; waits while the socket's buffer is full (backpressure). */
  async send(data: string | Buffer, traceIt = true): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return;
    if (traceIt) for (const l of String(data).split('\r\n').slice(0, -1)) this.trace.server(l);
    if (!this.socket.write(data)) {
      await Promise.race([once(this.socket, 'drain'), once(this.socket, 'close')]);
    }
  }

  /** Sends -ERR and counts it; too many errors close the session (no UPDATE). */
  async fail(text: string, code?: RespCode): Promise<void> {
    await this.send(err(text, code));
    if (++this.errors >= this.services.config.pop3.max_errors) {
      await this.close(err('too many errors; closing connection'));
    }
  }

  /** Says the last line and ends the connection, without UPDATE. */
  async close(lastLine?: string): Promise<void> {
    if (this.ending) return;
    this.ending = true;
    if (lastLine) await this.send(lastLine);
    this.socket.end();
    this.socket.setTimeout(5000, () => this.socket.destroy());
    this.wake?.();
    await this.leave();
  }

  /** Releases the maildrop lock if the session still holds it. */
  private async leave(): Promise<void> {
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

  canStls(): boolean {
    return !this.tls && this.net.secureContext !== undefined && this.state.name === 'authorization';
  }

  /** The policy that applies now: the user's after login, the config defaults before. */
  policy(): Pop3Policy {
    return this.state.name === 'transaction' ? this.state.drop.policy : pop3Policy(this.services.config.pop3, {});
  }

  capabilities(): string[] {
    return capabilities({ authenticated: this.state.name === 'transaction', plaintextAllowed: this.plaintextAllowed(), canStls: this.canStls(), policy: this.policy() });
  }

  /** RFC 2595 4: after "+OK", TLS starts; anything the client pipelined after STLS is dropped. */
  async startTls(): Promise<void> {
    const plain = this.socket;
    this.detach(); // the listener framework's own 'close' handlers (per-IP count, shutdown tracking) stay
    this.reader.discard();
    this.lines = [];
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.net.secureContext });
    secure.on('error', (e) => this.net.log.debug({ err: e.message }, 'tls error'));
    this.socket = secure;
    this.reader = new LineReader(MAX_LINE);
    this.detach = this.attach(secure);
    await Promise.race([once(secure, 'secure'), once(secure, 'close')]);
    this.tls = true;
  }
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
