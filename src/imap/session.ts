/**
 * One IMAP connection: socket ↔ CommandReader ↔ commands. Commands run one at a time
 * in arrival order; while one runs, later bytes wait in the reader (the socket is paused
 * past a bound), except that a command may ask for the next client line (AUTHENTICATE,
 * IDLE's DONE) with `readLine()`.
 *
 * Never imports: SQL, other protocols. Invariants:
 *  - Nothing is written between the parts of a response; only the running command
 *    writes, and unsolicited data goes out only at points the RFC allows (RFC 9051 7.5.1).
 *  - Reading pauses while the reader holds more than MAX_BUFFERED bytes or a literal
 *    spool is congested; writers await `drain()` so output respects backpressure.
 *  - Client input can only lead to a BAD/NO or a BYE, never to a crash of the process.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type net from 'node:net';
import tls from 'node:tls';
import type { Session } from '../net/listeners.js';
import type { Services } from '../services.js';
import { createTracer, type Tracer } from '../log/trace.js';
import { isStoreError } from '../store/errors.js';
import type { User } from '../store/types.js';
import { CommandReader, ImapParseError, parseCommand, tagged, untaggedStatus, codes, type LiteralInfo, type LiteralSink, type RawCommand, type ReaderEvent } from './protocol/index.js';
import { capabilities } from './capabilities.js';
import { failureLine, ImapNo } from './errors.js';
import type { MailboxView } from './selected.js';
import type { SessionState } from './state.js';
import { COMMANDS } from './commands/index.js';

const MAX_BUFFERED = 256 * 1024;
/** Literals before login are for LOGIN/AUTHENTICATE only; bigger ones are refused. */
const PREAUTH_LITERAL_MAX = 8 * 1024;

/** A large literal written to a temp file as it arrives (APPEND); the command reads it from `path`. */
export class SpoolSink implements LiteralSink {
  readonly finished: Promise<void>;
  private readonly stream: WriteStream;
  failed = false;

  constructor(
    readonly path: string,
    private readonly onCongestion: (congested: boolean) => void,
  ) {
    this.stream = createWriteStream(path);
    this.finished = new Promise((resolve, reject) => {
      this.stream.once('finish', resolve);
      this.stream.once('error', (e) => ((this.failed = true), reject(e)));
    });
    this.finished.catch(() => {});
  }

  write(chunk: Buffer): void {
    if (!this.stream.write(chunk)) {
      this.onCongestion(true);
      this.stream.once('drain', () => this.onCongestion(false));
    }
  }

  end(): void {
    this.stream.end();
  }
}

/** Swallows a literal the session will refuse anyway (too big before login). */
const discardSink: LiteralSink = { write() {}, end() {} };

export class ImapSession {
  state: SessionState = { kind: 'notAuthenticated' };
  /** IMAP4rev2 enabled (RFC 9051 6.3.1): UTF-8 names, ESEARCH, no \Recent. */
  rev2 = false;
  tls: boolean;
  readonly tracer: Tracer;
  private socket: net.Socket;
  private reader: CommandReader;
  private running: Promise<void> | null = null;
  private pumping = false;
  private lineWaiter: { resolve: (line: string) => void; reject: (e: unknown) => void } | null = null;
  private badInRow = 0;
  private closed = false;
  private byeAfterCommand = false;
  private congested = false;
  private spools: SpoolSink[] = [];
  /** True while IDLE waits for DONE: unsolicited responses may be written at any time. */
  idling = false;

  constructor(
    readonly services: Services,
    raw: net.Socket,
    readonly info: Session,
    implicitTls: boolean,
  ) {
    this.socket = raw;
    this.tls = implicitTls;
    this.tracer = createTracer('imap', info.log, services.config.log.trace);
    this.reader = this.newReader();
    this.attach(raw);
    raw.once('close', () => this.onClose());
    info.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  private get cfg() {
    return this.services.config.imap;
  }

  private newReader(): CommandReader {
    return new CommandReader({
      maxLineLength: this.cfg.max_line_length,
      maxLiteralSize: this.cfg.max_literal_size,
      nonSyncLiterals: 'plus',
      onLiteral: (info) => this.openSpool(info),
    });
  }

  private attach(sock: net.Socket): void {
    // Responses are written in pieces (untagged lines, then the tagged one); without this,
    // Nagle's algorithm meets the client's delayed ACK and every command waits ~40 ms.
    sock.setNoDelay(true);
    sock.on('data', this.onData);
    sock.on('error', () => sock.destroy());
    sock.on('timeout', this.onTimeout);
    this.setTimer();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.reader.push(chunk);
    this.pump();
  };

  // RFC 9051 5.4 / RFC 2177 3: the autologout timer is at least 30 minutes once logged in, IDLE included
  private readonly onTimeout = (): void => this.bye('Autologout; idle for too long');

  private setTimer(): void {
    const seconds = this.state.kind === 'notAuthenticated' ? this.cfg.preauth_timeout_s : this.cfg.idle_timeout_s; // RFC 9051 5.4
    this.socket.setTimeout(seconds * 1000);
  }

  /** Sends the greeting (RFC 9051 7.1.1). */
  start(): void {
    this.send(untaggedStatus('OK', `${this.services.config.hostname} Mailroom IMAP ready`, codes.capability(this.capabilities())));
  }

  /** The capability list for the current state. */
  capabilities(): string[] {
    return capabilities({
      authenticated: this.state.kind !== 'notAuthenticated',
      tls: this.tls,
      canStartTls: !this.tls && this.info.secureContext !== undefined,
      plaintextAllowed: this.plaintextAllowed(),
      appendLimit: this.cfg.max_literal_size,
    });
  }

  /** LOGIN/AUTHENTICATE allowed: over TLS, from loopback, or when the config says so. */
  plaintextAllowed(): boolean {
    if (this.tls) return true;
    const mode = this.services.config.auth.allow_plaintext;
    if (mode === 'always') return true;
    if (mode === 'never') return false;
    const ip = this.info.remoteAddress;
    return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
  }

  /** UTF-8 mailbox names (RFC 9051 5.1 once IMAP4rev2 is enabled). */
  get utf8(): boolean {
    return this.rev2;
  }

  user(): User {
    if (this.state.kind !== 'authenticated' && this.state.kind !== 'selected') throw new ImapNo('Not logged in', 'CLIENTBUG', 'BAD');
    return this.state.user;
  }

  view(): MailboxView {
    if (this.state.kind !== 'selected') throw new ImapNo('No mailbox selected', 'CLIENTBUG', 'BAD');
    return this.state.view;
  }

  /** Logged in: the autologout timer becomes the long one. */
  loggedIn(user: User): void {
    this.state = { kind: 'authenticated', user };
    this.setTimer();
  }

  // ---- output -------------------------------------------------------------

  /** Writes response text (UTF-8). */
  send(text: string): void {
    if (this.closed || this.socket.destroyed) return;
    if (this.tracer.enabled) for (const line of text.split('\r\n')) if (line) this.tracer.server(line);
    this.socket.write(text);
  }

  /** Writes bytes as they are (literal payloads, Latin-1 FETCH data). */
  sendBytes(bytes: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(bytes);
  }

  /** Buffers writes until uncork() (socket.cork), so many small pieces leave as one packet. */
  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /** True when the socket's write buffer is over its high-water mark. */
  needsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Resolves once the socket's write buffer has room (or the connection is gone). */
  async drain(): Promise<void> {
    const s = this.socket;
    if (!s.writableNeedDrain || s.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = () => (s.off('drain', done), s.off('close', done), resolve());
      s.once('drain', done);
      s.once('close', done);
    });
  }

  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  /** `* BYE text` and close. */
  bye(text: string, code?: string): void {
    if (this.closed) return;
    this.send(untaggedStatus('BYE', text, code));
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.state = { kind: 'logout' };
    this.socket.end();
    const s = this.socket;
    setTimeout(() => s.destroy(), 5000).unref();
  }

  private shutdown(): void {
    if (this.running && !this.idling) this.byeAfterCommand = true;
    else this.bye('Server shutting down', 'UNAVAILABLE');
  }

  private readonly onAbort = (): void => this.shutdown();

  private onClose(): void {
    this.closed = true;
    this.info.signal.removeEventListener('abort', this.onAbort); // the signal outlives every session
    this.lineWaiter?.reject(new Error('connection closed'));
    this.lineWaiter = null;
    this.removeSpools();
  }

  // ---- input --------------------------------------------------------------

  /** The next line the client sends (for SASL responses and IDLE's DONE), without CRLF. */
  readLine(): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('connection closed'));
      this.lineWaiter = { resolve, reject };
      queueMicrotask(() => this.pump());
    });
  }

  private openSpool(info: LiteralInfo): LiteralSink | undefined {
    if (this.state.kind === 'notAuthenticated') return discardSink;
    const dir = this.services.delivery.ingest.spoolDir;
    mkdirSync(dir, { recursive: true });
    const sink = new SpoolSink(join(dir, `imap-${this.info.id}-${randomBytes(6).toString('hex')}.lit`), (c) => {
      this.congested = c;
      this.updateFlow();
    });
    void info;
    this.spools.push(sink);
    return sink;
  }

  private removeSpools(): void {
    for (const s of this.spools) {
      s.end();
      void s.finished.finally(() => rmSync(s.path, { force: true }));
    }
    this.spools = [];
  }

  private updateFlow(): void {
    if (this.closed) return;
    if (this.reader.bufferedBytes > MAX_BUFFERED || this.congested) this.socket.pause();
    else this.socket.resume();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed) {
        if (this.running && !this.lineWaiter) break;
        const ev = this.reader.next();
        if (!ev) break;
        this.setTimer();
        this.handle(ev);
      }
    } finally {
      this.pumping = false;
    }
    this.updateFlow();
  }

  private handle(ev: ReaderEvent): void {
    if (this.lineWaiter) {
      const w = this.lineWaiter;
      this.lineWaiter = null;
      if (ev.type === 'command') {
        const line = ev.command.segments[0].toString('utf8');
        this.tracer.client(line);
        if (ev.command.literals.length > 0) w.reject(new ImapParseError('Literal not expected here'));
        else w.resolve(line);
      } else if (ev.type === 'error') w.reject(ev.error);
      else {
        this.reader.rejectLiteral();
        w.reject(new ImapParseError('Literal not expected here'));
      }
      return;
    }
    switch (ev.type) {
      case 'continue':
        if (this.state.kind === 'notAuthenticated' && ev.size > PREAUTH_LITERAL_MAX) {
          this.reader.rejectLiteral();
          this.badInput(ev.tag, new ImapParseError(`Literal too large before login (limit ${PREAUTH_LITERAL_MAX} bytes)`, { code: 'TOOBIG' }));
        } else this.send('+ Ready for literal data\r\n'); // RFC 9051 7.5
        return;
      case 'error':
        this.badInput(ev.error.tag, ev.error);
        if (!this.running) this.removeSpools(); // a refused command's literal spool
        return;
      case 'command':
        this.running = this.execute(ev.command)
          .catch((err) => this.info.log.error({ err }, 'IMAP command failed outside its handler'))
          .finally(() => {
            this.running = null;
            this.removeSpools();
            if (this.byeAfterCommand) this.bye('Server shutting down', 'UNAVAILABLE');
            this.pump();
          });
    }
  }

  /** BAD for input that could not be framed or parsed; too many in a row ends the session. */
  private badInput(tag: string | undefined, err: ImapParseError): void {
    const line = tag ? tagged(tag, 'BAD', err.text, err.code) : untaggedStatus('BAD', err.text, err.code); // RFC 9051 7.1.3
    this.send(line);
    if (++this.badInRow >= this.cfg.max_bad_commands) this.bye('Too many invalid commands', 'CLIENTBUG');
  }

  private traceCommand(raw: RawCommand): void {
    if (!this.tracer.enabled) return;
    raw.segments.forEach((seg, i) => {
      const lit = raw.literals[i];
      this.tracer.client(seg.toString('utf8') + (lit ? `{${lit.size}${lit.nonSync ? '+' : ''}}` : ''));
    });
  }

  private async execute(raw: RawCommand): Promise<void> {
    this.traceCommand(raw);
    let parsed;
    try {
      parsed = parseCommand(raw, { utf8: this.utf8 });
    } catch (err) {
      this.badInput(raw.tag, err instanceof ImapParseError ? err : new ImapParseError('Invalid command'));
      return;
    }
    const { tag, name, uid, args } = parsed;
    const cmd = COMMANDS.get(name);
    if (!cmd) return this.badInput(tag, new ImapParseError(`Unknown command ${name.slice(0, 40)}`));
    if (!cmd.states.includes(this.state.kind)) {
      const where = this.state.kind === 'notAuthenticated' ? 'before login' : this.state.kind === 'authenticated' ? 'without a selected mailbox' : 'in this state';
      return this.badInput(tag, new ImapParseError(`${name} is not allowed ${where}`, { code: 'CLIENTBUG' }));
    }
    const allowExpunge = !(cmd.usesSeqs && !uid);
    try {
      const done = await cmd.run({ session: this, tag, name, uid, args });
      this.badInRow = 0;
      if (this.closed || done?.sent) return;
      await this.announce(allowExpunge);
      this.send(tagged(tag, 'OK', done?.text ?? `${uid ? 'UID ' : ''}${name} completed`, done?.code));
    } catch (err) {
      if (err instanceof ImapParseError && err.response === 'BAD') {
        this.badInput(tag, err);
        return;
      }
      if (err instanceof ImapNo && err.status === 'BAD') this.badInRow++;
      if (!this.closed) {
        await this.announce(allowExpunge).catch(() => {});
        this.send(failureLine(tag, err, this.info.log, this.info.id));
      }
    }
  }

  /**
   * Sends pending changes of the selected mailbox (RFC 9051 7.5.1: EXPUNGE only when allowed).
   * A mailbox deleted meanwhile ends the session, since its sequence numbers mean nothing now.
   */
  async announce(allowExpunge: boolean): Promise<void> {
    if (this.state.kind !== 'selected') return;
    const view = this.state.view;
    try {
      await view.poll(this.services.store);
    } catch (err) {
      if (isStoreError(err, 'notfound')) return this.bye('The selected mailbox was deleted', 'NONEXISTENT');
      throw err;
    }
    const lines = view.flush(allowExpunge, this.rev2);
    if (lines.length > 0) this.send(lines.join(''));
  }

  /**
   * STARTTLS (RFC 9051 6.2.1): after the tagged OK, the same socket speaks TLS.
   * Plaintext that arrived after the command is discarded (a new reader), so nothing
   * injected before the handshake is read as a command.
   */
  upgradeTls(): void {
    const raw = this.socket;
    raw.off('data', this.onData);
    raw.off('timeout', this.onTimeout);
    this.reader = this.newReader();
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.info.secureContext });
    this.socket = secure;
    this.tls = true;
    this.attach(secure);
  }
}
