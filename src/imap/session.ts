/**
 * One IMAP connection: Connection (src/net) ↔ CommandReader ↔ commands. Commands run one
 * at a time in arrival order; while one runs, later bytes wait in the connection (the
 * socket is paused past its high-water mark), except that a command may read the next
 * client line itself (AUTHENTICATE, IDLE's DONE) with `readLine()`.
 *
 * Never imports: SQL, other protocols. Invariants:
 *  - Nothing is written between the parts of a response; only the running command
 *    writes, and unsolicited data goes out only at points the RFC allows (RFC 9051 7.5.1).
 *  - Input is pulled: a literal spool's write is awaited (its file stream's 'drain')
 *    before more bytes are read, and the file is ended only after its last write was
 *    accepted; writers await `drain()` so output respects backpressure.
 *  - The connection removes every listener it added (socket, shutdown signal) on close.
 *  - Client input can only lead to a BAD/NO or a BYE, never to a crash of the process.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type net from 'node:net';
import { Connection, ConnectionClosed } from '../net/connection.js';
import { deadlineOptions } from '../net/deadlines.js';
import { channelBindingOf } from '../auth/channel-binding.js';
import type { ChannelBinding } from '../auth/scram.js';
import type { Session } from '../net/listeners.js';
import type { Services } from '../services.js';
import { createTracer, type Tracer } from '../log/trace.js';
import { isStoreError } from '../store/errors.js';
import type { Id, User } from '../store/types.js';
import type { LoginIdentity } from '../auth/authenticate.js';
import { deviceReadOnly } from '../auth/device-limits.js';
import { isQuotaAdmin } from '../mail/quota-admin.js';
import { CommandReader, ImapParseError, parseCommand, tagged, untaggedStatus, codes, type CommandReaderHooks, type LiteralHeader, type LiteralSink, type RawCommand } from './protocol/index.js';
import { capabilities } from './capabilities.js';
import { failureLine, ImapNo } from './errors.js';
import type { MailboxView, SyncMode } from './selected.js';
import type { Notifier } from './notifier.js';
import type { SessionState } from './state.js';
import { COMMANDS } from './commands/index.js';
import { contextUpdateLines } from './commands/search-updates.js';
import { commandTimer } from '../metrics/registry.js';

const imapCommands = commandTimer('imap', COMMANDS.keys());
import type { Completion } from './commands/types.js';

/** Unread input (pipelined commands) above which the socket is paused. */
const MAX_BUFFERED = 256 * 1024;
/** Literals before login are for LOGIN/AUTHENTICATE only; bigger ones are refused. */
const PREAUTH_LITERAL_MAX = 8 * 1024;
/** A whole command before login, text and literals: all an unknown client can make the server hold. */
export const PREAUTH_COMMAND_MAX = 64 * 1024;

/**
 * A large literal written to a temp file as it arrives (APPEND), hashed on the way (the
 * message's content id); the command reads it from `path` once `finished` resolved, and it
 * is the message's one spool (src/mail/message-source.ts): never written again after. A
 * write error does not stop the reading: later bytes are dropped so the command stays
 * framed, and `finished` rejects.
 */
export class SpoolSink implements LiteralSink {
  readonly finished: Promise<void>;
  private readonly stream: WriteStream;
  private error: Error | undefined;
  private readonly digest = createHash('sha256');
  private sha: string | undefined;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { mode: 0o600 });
    this.finished = new Promise((resolve, reject) => {
      this.stream.once('finish', resolve);
      this.stream.once('error', (e) => ((this.error = e), reject(e)));
      this.stream.once('close', () => reject(new Error('literal spool closed before it was complete'))); // no-op after 'finish'
    });
    this.finished.catch(() => {});
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  /** Resolves when the file stream can take more: the caller reads no more bytes until then. */
  async write(chunk: Buffer): Promise<void> {
    const st = this.stream;
    if (this.error || st.destroyed || st.writableEnded) return;
    this.digest.update(chunk);
    if (st.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => (st.off('drain', done), st.off('error', done), st.off('close', done), resolve());
      st.on('drain', done);
      st.on('error', done);
      st.on('close', done);
    });
  }

  /** sha256 hex of the bytes written; call after `finished` resolved. */
  sha256(): string {
    return (this.sha ??= this.digest.digest('hex'));
  }

  /** Ends the file after the last accepted write; resolves when it is complete (or failed). */
  async end(): Promise<void> {
    const st = this.stream;
    if (!st.writableEnded && !st.destroyed) st.end();
    if (st.closed || st.writableFinished) return;
    // 'close' too: a spool discarded meanwhile (the client left) never finishes
    await new Promise<void>((resolve) => {
      const done = () => (st.off('finish', done), st.off('close', done), resolve());
      st.on('finish', done);
      st.on('close', done);
    });
  }

  /** Stops writing (if still open) and deletes the file once it is closed. */
  discard(): void {
    const rm = () => rmSync(this.path, { force: true });
    if (this.stream.closed) return rm();
    this.stream.once('close', rm);
    this.stream.destroy();
  }
}

/** The command reader's hooks for one session: one small object, not an object of four closures (10,000 idle sessions hold one each). */
class ReaderHooks implements CommandReaderHooks {
  constructor(private readonly session: ImapSession) {}

  continuation(): void {
    this.session.send('+ Ready for literal data\r\n'); // RFC 9051 7.5
  }

  checkLiteral(l: LiteralHeader): ImapParseError | undefined {
    return this.session.checkLiteral(l);
  }

  commandLimit(): number | undefined {
    return this.session.state.kind === 'notAuthenticated' ? PREAUTH_COMMAND_MAX : undefined;
  }

  openSink(): LiteralSink | undefined {
    return this.session.openSpool();
  }
}

export class ImapSession {
  state: SessionState = { kind: 'notAuthenticated' };
  /** IMAP4rev2 enabled (RFC 9051 6.3.1): UTF-8 names, ESEARCH, no \Recent. */
  rev2 = false;
  /** CONDSTORE enabled (RFC 7162 3.1: by ENABLE or a CONDSTORE-aware command): MODSEQ in unsolicited FETCH. */
  condstore = false;
  /** QRESYNC enabled (RFC 7162 3.2.3, only by ENABLE): VANISHED instead of EXPUNGE, CLOSED on reselect. */
  qresync = false;
  /** UTF8=ACCEPT enabled (RFC 6855 3): UTF-8 mailbox names and strings, APPEND ... UTF8 (literal8). */
  utf8Accept = false;
  /** UIDONLY enabled (RFC 9586): no sequence number is accepted or sent; UIDFETCH and VANISHED instead. */
  uidOnly = false;
  tls: boolean;
  readonly tracer: Tracer;
  private readonly conn: Connection;
  private readonly reader: CommandReader;
  private badInRow = 0;
  private closed = false;
  private shuttingDown = false;
  /** A STARTTLS handshake under way: the next command is read after it. */
  private tlsPending: Promise<void> | undefined;
  private spools: SpoolSink[] = [];
  /** True while IDLE waits for DONE: unsolicited responses may be written at any time. */
  idling = false;
  /** Who logged in (member, device), once logged in. */
  login: LoginIdentity | undefined;
  private unregisterLogin: (() => void) | undefined;
  /** A command is running: a revocation's BYE waits for its end (a response is never cut). */
  private running = false;
  private revoked: string | undefined;
  /** NOTIFY SET in force (RFC 5465): pushes changes between commands and during IDLE. */
  notifier: Notifier | undefined;

  constructor(
    readonly services: Services,
    raw: net.Socket,
    readonly info: Session,
    implicitTls: boolean,
  ) {
    this.tls = implicitTls;
    this.tracer = createTracer('imap', info.log, services.config.log.trace);
    // RFC 9051 5.4: the autologout timer before login is short, and at least 30 minutes after
    const limits = services.config.limits;
    this.conn = new Connection(raw, { idleTimeoutMs: this.cfg.preauth_timeout_s * 1000, signal: info.signal, tracer: this.tracer, highWater: MAX_BUFFERED, ...deadlineOptions(limits) });
    this.conn.setDeadline(limits.login_timeout_s * 1000); // however busy the client keeps it, the pre-login phase ends
    this.reader = new CommandReader(
      this.conn,
      new ReaderHooks(this),
      { maxLineLength: this.cfg.max_line_length, maxLiteralSize: this.cfg.max_literal_size, nonSyncLiterals: 'plus' },
    );
    this.conn.onClose(() => this.onClose());
    this.conn.onShutdown(() => (this.shuttingDown = true));
  }

  private get cfg() {
    return this.services.config.imap;
  }

  /** Sends the greeting (RFC 9051 7.1.1). */
  start(): void {
    this.send(untaggedStatus('OK', `${this.services.config.hostname} Mailroom IMAP ready`, codes.capability(this.capabilities())));
    void this.serve();
  }

  /** The capability list for the current state. */
  capabilities(): string[] {
    return capabilities({
      authenticated: this.state.kind !== 'notAuthenticated',
      tls: this.tls,
      canStartTls: !this.tls && this.info.secureContext !== undefined,
      plaintextAllowed: this.plaintextAllowed(),
      appendLimit: this.cfg.max_literal_size,
      quotaAdmin: this.state.kind !== 'notAuthenticated' && this.state.kind !== 'logout' && isQuotaAdmin(this.state.user, this.login),
    });
  }

  /** What a SCRAM -PLUS exchange binds to on this connection (null before TLS). */
  channelBinding(): ChannelBinding | null {
    return channelBindingOf(this.conn.socket);
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

  /** UTF-8 mailbox names (RFC 9051 5.1 once IMAP4rev2 is enabled, RFC 6855 3 once UTF8=ACCEPT is). */
  get utf8(): boolean {
    return this.rev2 || this.utf8Accept;
  }

  user(): User {
    if (this.state.kind !== 'authenticated' && this.state.kind !== 'selected') throw new ImapNo('Not logged in', 'CLIENTBUG', 'BAD');
    return this.state.user;
  }

  view(): MailboxView {
    if (this.state.kind !== 'selected') throw new ImapNo('No mailbox selected', 'CLIENTBUG', 'BAD');
    return this.state.view;
  }

  /** What the view needs to know of CONDSTORE/QRESYNC when it writes unsolicited responses. */
  get sync(): SyncMode {
    return { condstore: this.condstore, qresync: this.qresync, uidOnly: this.uidOnly };
  }

  /** Expunges go out as `* VANISHED uid-set` (RFC 7162 3.2.10 with QRESYNC, RFC 9586 3 with UIDONLY), not `* n EXPUNGE`. */
  get vanishedExpunges(): boolean {
    return this.qresync || this.uidOnly;
  }

  /** Logged in: the autologout timer becomes the long one, and the session ends when this login is revoked. */
  loggedIn(user: User, login: LoginIdentity): void {
    // No password material kept: a session never needs it (revocation compares the login's
    // own copy), and 10,000 idle sessions would hold 10,000 SCRAM verifier strings.
    this.state = { kind: 'authenticated', user: { ...user, passwordHash: '', scramKeys: '' } };
    this.login = login;
    this.unregisterLogin = this.services.logins.register(login, (why) => this.revoke(why));
    this.conn.setIdleTimeout(this.cfg.idle_timeout_s * 1000); // RFC 9051 5.4, RFC 2177 3: at least 30 minutes, IDLE included
    this.conn.setDeadline(undefined);
  }

  /**
   * UNAUTHENTICATE (RFC 8437 3): back to the state of a new connection, except for TLS and
   * compression: no mailbox, no login (its revocation no longer concerns this session), no
   * ENABLEd extensions, the short pre-login timeout.
   */
  loggedOut(): void {
    this.state = { kind: 'notAuthenticated' };
    this.unregisterLogin?.();
    this.unregisterLogin = undefined;
    this.login = undefined;
    this.revoked = undefined;
    this.rev2 = false;
    this.condstore = false;
    this.qresync = false;
    this.uidOnly = false;
    this.setNotifier(undefined);
    this.conn.setIdleTimeout(this.cfg.preauth_timeout_s * 1000);
  }

  /** Whose `\Seen` this session reads and writes (the member's; the account's own for the owner). */
  viewerId(): Id {
    if (this.state.kind === 'selected') return this.state.view.viewerId; // another user's mailbox: a private viewer (mailbox-access.ts)
    return this.login?.viewerId ?? this.user().id;
  }

  /** The device may only read (`readonly=yes`): SELECT acts as EXAMINE, changes are refused. */
  get deviceReadOnly(): boolean {
    return deviceReadOnly(this.login?.device?.settings);
  }

  /** Refuses a change for a read-only device (`NO`, RFC 9051 7.1). */
  requireWritable(): void {
    if (this.deviceReadOnly) throw new ImapNo('This device is read-only', 'NOPERM');
  }

  /** The login no longer holds: `* BYE` now, or after the running command (IDLE may be interrupted: RFC 9051 7.5.1). */
  private revoke(why: string): void {
    this.info.log.info({ why }, 'login revoked; ending session');
    this.revoked = why;
    if (!this.running || this.idling) this.bye(`Logged out: ${why}`);
  }

  /** Replaces the NOTIFY setting (undefined: NOTIFY NONE). */
  setNotifier(n: Notifier | undefined): void {
    this.notifier?.stop();
    this.notifier = n;
  }

  /** Unsolicited data may be written now: between commands or during IDLE (RFC 5465 3, RFC 9051 7.5.1). */
  mayNotify(): boolean {
    return !this.closed && (!this.running || this.idling);
  }

  // ---- output -------------------------------------------------------------

  /** Writes response text (UTF-8), traced. */
  send(text: string): void {
    if (this.isClosed) return;
    void this.conn.send(text);
  }

  /** Writes bytes as they are (literal payloads, Latin-1 FETCH data). */
  sendBytes(bytes: Buffer): void {
    if (this.isClosed) return;
    void this.conn.write(bytes);
  }

  /** Buffers writes until uncork() (socket.cork), so many small pieces leave as one packet. */
  cork(): void {
    this.conn.cork();
  }

  uncork(): void {
    this.conn.uncork();
  }

  /** True when the socket's write buffer is over its high-water mark. */
  needsDrain(): boolean {
    return this.conn.socket.writableNeedDrain;
  }

  /** Resolves once the socket's write buffer has room (or the connection is gone). */
  drain(): Promise<void> {
    return this.conn.drain();
  }

  get isClosed(): boolean {
    return this.closed || this.conn.gone;
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
    this.conn.end(); // destroyed after a grace period if the client keeps its side open
  }

  private onClose(): void {
    this.closed = true;
    this.removeSpools();
    this.unregisterLogin?.();
    this.setNotifier(undefined);
  }

  // ---- input --------------------------------------------------------------

  /** Reads and runs commands until the connection ends. */
  private async serve(): Promise<void> {
    try {
      while (!this.closed) {
        if (this.tlsPending) await this.tlsPending;
        this.tlsPending = undefined;
        const ev = await this.reader.next();
        if (this.closed) {
          // The client left while the command's last bytes were stored: nobody to answer, so nothing is run or stored.
          if (ev.type === 'command') this.info.log.info({ tag: ev.command.tag }, 'command not run: the client left before it was answered');
          break;
        }
        if (ev.type === 'error') {
          this.badInput(ev.error.tag, ev.error);
          this.removeSpools(); // a refused command's literal spool
          continue;
        }
        if (this.notifier) await this.notifier.settled(); // a notification being written ends before the command starts
        this.running = true;
        try {
          await this.execute(ev.command);
        } finally {
          this.running = false;
          this.removeSpools();
        }
        this.notifier?.afterCommand();
        if (this.revoked !== undefined) this.bye(`Logged out: ${this.revoked}`);
        if (this.shuttingDown) this.bye('Server shutting down', 'UNAVAILABLE');
      }
    } catch (err) {
      if (!(err instanceof ConnectionClosed)) this.info.log.error({ err }, 'IMAP session failed outside a command');
      if (err instanceof ConnectionClosed && err.reason === 'timeout') this.bye('Autologout; idle for too long'); // RFC 9051 5.4
      else if (this.shuttingDown) this.bye('Server shutting down', 'UNAVAILABLE');
      else this.close();
    }
  }

  /** The next line the client sends (for SASL responses and IDLE's DONE), without CRLF. */
  readLine(): Promise<string> {
    // Not async: IDLE waits in here, and an async frame is one more object set per idle session.
    const max = this.cfg.max_line_length;
    return this.conn.readLine(max).then((r) => {
      if ('tooLong' in r) throw new ImapParseError(`Line too long (limit ${max} bytes)`, { code: 'TOOBIG' });
      return r.line.toString('utf8');
    });
  }

  /** For ReaderHooks. */
  checkLiteral(l: LiteralHeader): ImapParseError | undefined {
    if (this.state.kind !== 'notAuthenticated' || l.size <= PREAUTH_LITERAL_MAX) return undefined;
    return new ImapParseError(`Literal too large before login (limit ${PREAUTH_LITERAL_MAX} bytes)`, { code: 'TOOBIG' });
  }

  /** For ReaderHooks. */
  openSpool(): LiteralSink | undefined {
    if (this.state.kind === 'notAuthenticated') return undefined; // never bigger than PREAUTH_LITERAL_MAX
    const dir = this.services.delivery.ingest.spoolDir;
    mkdirSync(dir, { recursive: true });
    const sink = new SpoolSink(join(dir, `imap-${this.info.id}-${randomBytes(6).toString('hex')}.lit`));
    this.spools.push(sink);
    return sink;
  }

  private removeSpools(): void {
    for (const s of this.spools) s.discard();
    this.spools = [];
  }

  /** BAD for input that could not be framed or parsed; too many in a row ends the session. */
  private badInput(tag: string | undefined, err: ImapParseError): void {
    const line = tag ? tagged(tag, 'BAD', err.text, err.code) : untaggedStatus('BAD', err.text, err.code); // RFC 9051 7.1.3
    this.send(line);
    if (++this.badInRow >= this.cfg.max_bad_commands) this.bye('Too many invalid commands', 'CLIENTBUG');
  }

  private async execute(raw: RawCommand): Promise<void> {
    const started = performance.now();
    let parsed;
    try {
      parsed = parseCommand(raw, { utf8: this.utf8 });
    } catch (err) {
      this.badInput(raw.tag, err instanceof ImapParseError ? err : new ImapParseError('Invalid command'));
      return;
    }
    const { tag, name, uid, args } = parsed;
    const cmd = COMMANDS.get(name);
    if (!cmd) {
      imapCommands.observe(name, started);
      return this.badInput(tag, new ImapParseError(`Unknown command ${name.slice(0, 40)}`));
    }
    if (!cmd.states.includes(this.state.kind)) {
      const where = this.state.kind === 'notAuthenticated' ? 'before login' : this.state.kind === 'authenticated' ? 'without a selected mailbox' : 'in this state';
      return this.badInput(tag, new ImapParseError(`${name} is not allowed ${where}`, { code: 'CLIENTBUG' }));
    }
    const allowExpunge = !(cmd.usesSeqs && !uid);
    try {
      // RFC 9586 3: once UIDONLY is on, a command addressing messages by number is a client error
      if (this.uidOnly && cmd.usesSeqs && !uid) throw new ImapNo(`${name} with sequence numbers is not allowed with UIDONLY; use UID ${name}`, 'UIDREQUIRED', 'BAD');
      if (cmd.writes) this.requireWritable();
      const done = await cmd.run({ session: this, tag, name, uid, args });
      this.badInRow = 0;
      if (this.closed || done?.sent) return;
      const text = done?.text ?? `${uid ? 'UID ' : ''}${name} completed`;
      // the code after announcing: [HIGHESTMODSEQ] only once everything up to it was sent
      const ok = (): string => tagged(tag, 'OK', text, done?.code ?? this.modSeqCode(done));
      if (!done?.onUndelivered) {
        this.cork(); // the announcements and the tagged OK leave in one write
        try {
          await this.announce(allowExpunge);
          this.send(ok());
        } finally {
          this.uncork();
        }
      } else {
        await this.announce(allowExpunge); // not corked: sendConfirmed waits for the write to complete
        if (this.isClosed || !(await this.conn.sendConfirmed(ok()))) done.onUndelivered();
      }
    } catch (err) {
      if (err instanceof ConnectionClosed) throw err; // the session ends: no response to write
      if (err instanceof ImapParseError && err.response === 'BAD') {
        this.badInput(tag, err);
        return;
      }
      if (err instanceof ImapNo && err.status === 'BAD') this.badInRow++;
      if (!this.closed) {
        await this.announce(allowExpunge).catch(() => {});
        this.send(failureLine(tag, err, this.info.log, this.info.id));
      }
    } finally {
      imapCommands.observe(name, started);
    }
  }

  /**
   * `HIGHESTMODSEQ n` for the tagged OK of a command that expunged (RFC 7162 3.2.7), once
   * everything up to n was announced; otherwise none, so a client never skips a change.
   */
  private modSeqCode(done: Completion | void): string | undefined {
    if (!done?.reportModSeq || !this.condstore || this.state.kind !== 'selected' || !this.state.view.settled()) return undefined;
    return codes.highestModSeq(this.state.view.highestModSeq);
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
    const lines = view.flush(allowExpunge, this.rev2, this.sync);
    // RFC 5267 4.3: context updates only where an EXPUNGE may go, after it, so a REMOVEFROM never names a message the client still sees
    if (allowExpunge && view.hasContexts) lines.push(...(await contextUpdateLines(this, view)));
    if (lines.length > 0) this.send(lines.join(''));
  }

  /** COMPRESS=DEFLATE is active on this connection (RFC 4978). */
  get compressed(): boolean {
    return this.conn.compressed;
  }

  /** COMPRESS DEFLATE after its tagged OK was written: both directions are raw DEFLATE from now on (RFC 4978 3). */
  startCompression(): void {
    this.conn.startCompression();
  }

  /**
   * STARTTLS (RFC 9051 6.2.1): after the tagged OK, the same socket speaks TLS. The
   * connection drops the plaintext that arrived after the command, so nothing injected
   * before the handshake is read as a command; the next command is read after it.
   */
  upgradeTls(): void {
    this.tls = true;
    this.tlsPending = this.conn.startTls(this.info.secureContext!);
    this.tlsPending.catch(() => {}); // serve() awaits it and ends the session on failure
  }
}
