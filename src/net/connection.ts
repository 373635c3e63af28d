/**
 * The one connection layer: a pull reader and a backpressured writer over one
 * client socket, shared by every protocol (SMTP/LMTP now; POP3 and IMAP next).
 * A protocol session creates one `Connection` per accepted socket and only talks
 * to the socket through it.
 *
 * API (settled; later changes are additive only):
 *   new Connection(socket, { idleTimeoutMs, signal?, highWater?, tracer?, lineTimeoutMs?,
 *                            payloadTimeoutMs?, handshakeTimeoutMs? })
 *   reads (one reader at a time; buffered input is always read first, then a read
 *   throws ConnectionClosed with reason eof | error | timeout | shutdown):
 *     readLine(max, { trace?, keep? })   → { line } without CRLF or bare LF, or
 *                                          { tooLong, head?, tail? } (consumed to its LF;
 *                                          head/tail: its first and last `keep` bytes);
 *                                          traced as a client line unless trace: false
 *     readExactly(n, consume)            n bytes in pieces to an async consumer
 *                                          (IMAP literals, BDAT)
 *     readUntilTerminator(decoder, consume)
 *                                        chunks through a pure decoder (SMTP's
 *                                          DataDecoder: dot-unstuffing, CRLF.CRLF)
 *                                          until it reports the end; the bytes
 *                                          after the end stay for the next read
 *     buffered                           unread bytes (pipelined input)
 *     lineBuffered                       a whole line is buffered: readLine would not wait
 *   writes:
 *     send(text)       traced text; resolves at once, or on 'drain' when the
 *                      socket's buffer is full (await it in loops that write a lot)
 *     answer(text)     send(), but held back while the client's next command line
 *                      is already buffered (RFC 2920 pipelining): the answers to a
 *                      pipelined group leave in one write, before any read waits
 *     write(bytes)     untraced (message bodies, literals); same backpressure
 *     writeMany(parts) corked: one segment for a multi-line reply; strings traced
 *     sendConfirmed(text) → true once the bytes reached the kernel, false when
 *                      the peer is gone (a reply that must be known delivered)
 *     drain()          resolves when the socket can take more (after cork/uncork loops)
 *     cork() / uncork(), end(lastWords?) (graceful, destroyed after 5 s), destroy()
 *     Writing to a gone connection is a no-op, never a throw: the read side reports it.
 *   state: startTls(secureContext), startCompression() (raw DEFLATE both ways from
 *     now on, IMAP COMPRESS), compressed, secure, setIdleTimeout(ms) (per protocol
 *     state, e.g. pre-auth vs authenticated), setDeadline(ms?) (an overall bound on a
 *     phase, e.g. until login: slowloris), tracer, gone, closed (a promise),
 *     onClose(fn), onShutdown(fn) (instead of a session's own signal listener)
 *
 * Never imports: the store, mail services, protocol code (imap/, pop3/, smtp/).
 * Protocol rules arrive as values: limits as arguments, the terminator as a decoder.
 *
 * Invariants:
 * - No lost wake-up: a read looks at the buffered bytes before every wait, also
 *   after awaiting its consumer; the waiter is registered in the same tick as that
 *   look; end of input, error, timeout and shutdown all wake it.
 * - Bounded input: the socket is paused while more than `highWater` bytes are unread
 *   and no read is waiting, and resumed below it; a waiting read always resumes it.
 * - Every listener this class adds (on the socket, the TLS socket, the shutdown
 *   AbortSignal) is removed when the connection closes, so a closed session holds
 *   no memory through the listener-wide signal.
 * - Nothing read before the STARTTLS handshake is delivered after it
 *   (RFC3207 4.2, RFC2595 4, RFC9051 6.2.1: pipelined plaintext is discarded).
 * - Held answers (answer()) go out before any read waits for input and ahead of any
 *   other write, end, STARTTLS or compression switch: a client never waits for an
 *   answer the server is holding.
 * - TCP_NODELAY on every socket: replies are written in pieces, and Nagle plus the
 *   client's delayed ACK would cost ~40 ms per exchange.
 */
import type net from 'node:net';
import tls from 'node:tls';
import { TRACE_OFF, type Tracer } from '../log/trace.js';
import { DeflateStream } from './deflate-stream.js';
import { InputBuffer } from './input-buffer.js';

export type CloseReason = 'eof' | 'timeout' | 'shutdown' | 'error';

/** Thrown by reads when no more input will come: the peer left, the idle timeout passed, or the server shuts down. */
export class ConnectionClosed extends Error {
  constructor(readonly reason: CloseReason) {
    super(`connection ${reason}`);
    this.name = 'ConnectionClosed';
  }
}

/**
 * A line, or the news that it was too long. With `keep`, an over-long line still
 * reports its first and last `keep` bytes (IMAP needs the tag and a literal marker
 * at the end of a line it refuses, to answer it and to stay in step).
 */
export type LineResult = { line: Buffer } | { tooLong: true; head?: Buffer; tail?: Buffer };

/**
 * Callbacks per shutdown signal, behind ONE 'abort' listener on it: EventTarget checks
 * every registered listener for a duplicate on each addEventListener, so 10,000 sessions
 * each adding their own made accepting connections quadratic (5 s of CPU to open 10,000).
 * The listener goes when its last callback does, so a closed session holds nothing.
 */
const abortFanOut = new WeakMap<AbortSignal, { callbacks: Set<() => void>; listener: () => void }>();

/** How many open connections wait on `signal` (all behind one EventTarget listener). */
export function shutdownWaiters(signal: AbortSignal): number {
  return abortFanOut.get(signal)?.callbacks.size ?? 0;
}

/** Calls `fn` once when `signal` aborts; returns the function that forgets it. */
function onSignalAbort(signal: AbortSignal, fn: () => void): Off {
  let entry = abortFanOut.get(signal);
  if (!entry) {
    const callbacks = new Set<() => void>();
    const listener = () => {
      abortFanOut.delete(signal);
      for (const cb of [...callbacks]) cb();
      callbacks.clear();
    };
    entry = { callbacks, listener };
    abortFanOut.set(signal, entry);
    signal.addEventListener('abort', listener, { once: true });
  }
  const e = entry;
  e.callbacks.add(fn);
  return () => {
    e.callbacks.delete(fn);
    if (e.callbacks.size === 0 && abortFanOut.get(signal) === e) {
      abortFanOut.delete(signal);
      signal.removeEventListener('abort', e.listener);
    }
  };
}

/** A pure codec that finds the end of a terminated body (e.g. SMTP DATA) in a stream of chunks. */
export interface TerminatorDecoder {
  /** Decoded bytes of `chunk`, and the index just past the terminator in `chunk`, or -1 while the body goes on. */
  push(chunk: Buffer): { out: Buffer; end: number };
}

/** A consumer may be slow: the next bytes are not requested until it resolves. */
export type Consumer = (chunk: Buffer) => Promise<void> | void;

export interface ConnectionOptions {
  /** How long a read may wait for the client's next bytes. */
  idleTimeoutMs: number;
  /** The listener's shutdown signal: wakes a waiting read with ConnectionClosed('shutdown'). */
  signal?: AbortSignal;
  /** Unread bytes above which the socket is paused; default 1 MiB. */
  highWater?: number;
  /** Protocol trace: `readLine` reports client lines, `send` server lines. */
  tracer?: Tracer;
  /**
   * Slowloris bound: a line must be complete this long after its first byte arrived,
   * however steadily the bytes trickle in (the idle timeout resets on each of them).
   */
  lineTimeoutMs?: number;
  /** The same for a payload read whole: a literal (`readExactly`) or a message body (`readUntilTerminator`). */
  payloadTimeoutMs?: number;
  /** How long a STARTTLS handshake may take; default the idle timeout. */
  handshakeTimeoutMs?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const CLOSE_GRACE_MS = 5000;

type Off = () => void;

/** The first and last `keep` bytes of an over-long line whose middle is dropped (the caller quotes them). */
class LineEnds {
  private head: Buffer | undefined;
  private tail = Buffer.alloc(0);

  constructor(private readonly keep: number) {}

  /** Bytes of the line about to be dropped, in order. */
  add(bytes: Buffer): void {
    this.head ??= Buffer.from(bytes.subarray(0, this.keep));
    this.tail = Buffer.concat([this.tail, bytes.subarray(-(this.keep + 1))]).subarray(-(this.keep + 1)); // + 1: a CR before the LF
  }

  result(): { head: Buffer | undefined; tail: Buffer } {
    let tail = this.tail;
    if (tail.length > 0 && tail[tail.length - 1] === CR) tail = tail.subarray(0, tail.length - 1);
    return { head: this.head, tail: tail.subarray(-this.keep) };
  }
}

export class Connection {
  /** The current socket (the TLS socket after STARTTLS). */
  socket: net.Socket;
  /** Resolves when the connection has closed and every listener is removed. */
  readonly closed: Promise<void>;
  readonly tracer: Tracer;
  private resolveClosed!: () => void;
  private readonly input = new InputBuffer();
  private readonly highWater: number;
  private idleTimeoutMs: number;
  private readonly lineTimeoutMs: number | undefined;
  private readonly payloadTimeoutMs: number | undefined;
  private readonly handshakeTimeoutMs: number | undefined;
  /** The running read's overall deadline (line or payload), and the phase deadline (e.g. until login). */
  private readTimer: NodeJS.Timeout | undefined;
  private phaseTimer: NodeJS.Timeout | undefined;
  private failure: ConnectionClosed | undefined;
  private waiter: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private pendingDrain: Promise<void> | undefined;
  /** Answers held back while the client's next command was already buffered (answer()). */
  private held = '';
  private isGone = false;
  private stalledWriter = false;
  // Kept lean on purpose: 10,000 idle sessions hold one Connection each, so no per-socket
  // closures or arrays beyond these (one set of handlers serves every socket of the stack).
  private offAbort: Off | undefined;
  private closeHandlers: (() => void)[] | undefined;
  private shutdownHandlers: (() => void)[] | undefined;
  /** Sockets to destroy together (the plain one under a STARTTLS socket); the last one is read. */
  private readonly sockets: net.Socket[];
  private readonly dataListener = (chunk: Buffer): void => {
    this.input.push(chunk);
    if (this.input.length > this.highWater) this.socket.pause();
    this.wake();
  };
  private readonly endListener = (): void => this.fail('eof');
  private readonly errorListener = (): void => this.fail('error');
  private readonly closeListener = (): void => this.onSocketClose();

  constructor(socket: net.Socket, opts: ConnectionOptions) {
    this.socket = socket;
    this.idleTimeoutMs = opts.idleTimeoutMs;
    this.lineTimeoutMs = opts.lineTimeoutMs;
    this.payloadTimeoutMs = opts.payloadTimeoutMs;
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs;
    this.highWater = opts.highWater ?? 1 << 20;
    this.tracer = opts.tracer ?? TRACE_OFF;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.sockets = [socket]; // a literal of one: a growing [] reserves 17 slots
    this.attach(socket);
    const signal = opts.signal;
    if (signal?.aborted) queueMicrotask(() => this.onAbort());
    else if (signal) this.offAbort = onSignalAbort(signal, () => this.onAbort());
    if (socket.destroyed) queueMicrotask(() => this.onSocketClose());
  }

  /** Whether the connection is TLS (implicit or after STARTTLS), also under compression. */
  get secure(): boolean {
    return this.sockets.some((s) => s instanceof tls.TLSSocket && s.encrypted);
  }

  /** Whether startCompression() switched the connection to DEFLATE. */
  get compressed(): boolean {
    return this.socket instanceof DeflateStream;
  }

  /** True once the connection closed or failed: nothing written now reaches the client. */
  get gone(): boolean {
    return this.isGone || this.socket.destroyed;
  }

  /** True when the connection was cut because the client stopped reading our output. */
  get cutForNotReading(): boolean {
    return this.stalledWriter;
  }

  /** Unread input bytes (what the client pipelined). */
  get buffered(): number {
    return this.input.length;
  }

  /**
   * Whether a whole line is buffered, so `readLine` would not wait: a session may
   * hold the answers to pipelined commands back and write them together until then.
   */
  get lineBuffered(): boolean {
    return this.input.indexOf(LF) >= 0;
  }

  /** Changes how long reads wait for input from now on (e.g. longer once authenticated). */
  setIdleTimeout(ms: number): void {
    this.idleTimeoutMs = ms;
  }

  /**
   * An overall deadline for a phase of the session (e.g. connect to login): when it
   * passes, reads throw ConnectionClosed('timeout') as for the idle timeout. `undefined`
   * clears it.
   */
  setDeadline(ms: number | undefined): void {
    clearTimeout(this.phaseTimer);
    this.phaseTimer = undefined;
    if (ms === undefined || this.isGone) return;
    this.phaseTimer = setTimeout(() => this.fail('timeout'), ms);
    this.phaseTimer.unref();
  }

  /** Runs `fn` once when the connection closes (at once, on a microtask, if it has). */
  onClose(fn: () => void): void {
    if (this.isGone) queueMicrotask(fn);
    else if (this.closeHandlers) this.closeHandlers.push(fn);
    else this.closeHandlers = [fn];
  }

  /** Runs `fn` when the server starts shutting down (e.g. to end IDLE); never after close. */
  onShutdown(fn: () => void): void {
    if (this.isGone) return;
    if (this.shutdownHandlers) this.shutdownHandlers.push(fn);
    else this.shutdownHandlers = [fn];
  }

  // ---- reads ---------------------------------------------------------------

  /**
   * The next line without its CRLF (a bare LF also ends it). A line longer than `max`
   * bytes (not counting the LF) is consumed up to its end and reported as tooLong.
   * A line cut off by the end of input is not returned: the read throws.
   */
  async readLine(max: number, opts: { trace?: boolean; keep?: number } = {}): Promise<LineResult> {
    // One async frame, no closures: an idle session sits in here, and 10,000 of them hold what it holds.
    try {
      const keep = opts.keep ?? 0;
      let ends: LineEnds | undefined;
      let skipping = false;
      let scanned = 0;
      while (true) {
        const lf = this.input.indexOf(LF, scanned);
        if (lf >= 0) {
          const raw = this.input.take(lf + 1);
          this.afterTake();
          if (skipping || lf > max) {
            if (keep === 0) return { tooLong: true };
            ends ??= new LineEnds(keep);
            ends.add(raw.subarray(0, lf));
            return { tooLong: true, ...ends.result() };
          }
          const line = raw.subarray(0, lf > 0 && raw[lf - 1] === CR ? lf - 1 : lf);
          if (opts.trace !== false) this.tracer.client(line);
          return { line };
        }
        scanned = this.input.length;
        if (this.input.length > max) {
          // no LF in any of it: all part of the over-long line
          if (keep > 0) {
            ends ??= new LineEnds(keep);
            while (this.input.length > 0) ends.add(this.input.takeFirst());
          }
          this.input.clear();
          scanned = 0;
          skipping = true;
          this.afterTake();
        }
        // the line has begun (bytes of it are here or were dropped): from now on it has lineTimeoutMs
        if (this.input.length > 0 || skipping) this.armReadDeadline(this.lineTimeoutMs);
        await this.waitForInput();
      }
    } finally {
      this.clearReadDeadline();
    }
  }

  /**
   * Exactly `n` bytes, handed to `consume` in pieces as they arrive; the next piece
   * waits for the consumer. If the consumer throws, the read stops with its error
   * and the position in the stream is lost: the caller should close the connection.
   */
  async readExactly(n: number, consume: Consumer): Promise<void> {
    if (n > 0) this.armReadDeadline(this.payloadTimeoutMs);
    try {
      await this.readExactlyUntimed(n, consume);
    } finally {
      this.clearReadDeadline();
    }
  }

  private async readExactlyUntimed(n: number, consume: Consumer): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.input.length === 0) {
        await this.waitForInput();
        continue;
      }
      const piece = this.input.takeFirst(left);
      this.afterTake();
      left -= piece.length;
      await consume(piece);
    }
  }

  /**
   * Feeds input through `decoder` and its output to `consume` until the decoder
   * reports the terminator; the bytes after it stay buffered for the next read.
   */
  async readUntilTerminator(decoder: TerminatorDecoder, consume: Consumer): Promise<void> {
    this.armReadDeadline(this.payloadTimeoutMs);
    try {
      await this.readUntilTerminatorUntimed(decoder, consume);
    } finally {
      this.clearReadDeadline();
    }
  }

  private async readUntilTerminatorUntimed(decoder: TerminatorDecoder, consume: Consumer): Promise<void> {
    while (true) {
      if (this.input.length === 0) {
        await this.waitForInput();
        continue;
      }
      const chunk = this.input.takeFirst();
      const { out, end } = decoder.push(chunk);
      if (end >= 0) this.input.unshift(chunk.subarray(end));
      this.afterTake();
      if (out.length > 0) await consume(out);
      if (end >= 0) return;
    }
  }

  /**
   * Waits for the next chunk from the socket. Callers check the buffer first, in the
   * same tick: the waiter is set before any later 'data' event can run.
   */
  private waitForInput(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.flushHeld();
    this.socket.resume(); // a waiting read needs bytes whatever the buffer holds
    return new Promise((resolve) => {
      this.timer = setTimeout(() => this.fail('timeout'), this.idleTimeoutMs);
      this.waiter = () => {
        clearTimeout(this.timer);
        this.timer = undefined;
        resolve();
      };
    });
  }

  /** Starts the running read's overall deadline, unless one runs already. */
  private armReadDeadline(ms: number | undefined): void {
    if (ms === undefined || this.readTimer) return;
    this.readTimer = setTimeout(() => this.fail('timeout'), ms);
  }

  private clearReadDeadline(): void {
    clearTimeout(this.readTimer);
    this.readTimer = undefined;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private fail(reason: CloseReason): void {
    this.failure ??= new ConnectionClosed(reason);
    this.wake();
  }

  private afterTake(): void {
    if (this.input.length < this.highWater && this.socket.isPaused()) this.socket.resume();
  }

  // ---- writes --------------------------------------------------------------

  /** Writes protocol text (each line traced); resolves when the socket can take more. */
  send(text: string): Promise<void> {
    this.traceOut(text);
    return this.write(text);
  }

  /**
   * Protocol text answering a command (traced). While the client's next command line is
   * already buffered, the text is held and joins the next answer, so the answers to a
   * pipelined group (RFC 2920 3.1: MAIL, RCPT…, DATA) leave in one write instead of one
   * each; it goes out before any read waits, so nothing the client waits for is held.
   */
  answer(text: string): Promise<void> {
    this.traceOut(text);
    if (this.lineBuffered && !this.gone) {
      this.held += text;
      return Promise.resolve();
    }
    return this.write(text);
  }

  /** Writes bytes as they are, untraced (after any held answers); resolves when the socket can take more. */
  write(data: string | Buffer): Promise<void> {
    const s = this.socket;
    if (this.gone || s.writableEnded) return Promise.resolve();
    if (s.write(this.withHeld(data))) return Promise.resolve();
    return this.drained();
  }

  /** Writes the held answers now, if any. */
  private flushHeld(): void {
    if (this.held) void this.write('');
  }

  /** `data` after the held answers, which are no longer held. */
  private withHeld<T extends string | Buffer>(data: T): T | string | Buffer {
    if (!this.held) return data;
    const held = this.held;
    this.held = '';
    return typeof data === 'string' ? held + data : Buffer.concat([Buffer.from(held), data]);
  }

  /** Writes several parts as one segment where possible; strings are traced, Buffers are not. */
  writeMany(parts: (string | Buffer)[]): Promise<void> {
    if (this.gone || this.socket.writableEnded) return Promise.resolve();
    this.socket.cork();
    this.flushHeld();
    for (const p of parts) {
      if (typeof p === 'string') this.traceOut(p);
      this.socket.write(p);
    }
    this.socket.uncork();
    return this.socket.writableNeedDrain ? this.drained() : Promise.resolve();
  }

  /** Writes protocol text; true once it reached the kernel, false when the client is gone. */
  sendConfirmed(text: string): Promise<boolean> {
    const s = this.socket;
    if (this.gone || s.writableEnded) return Promise.resolve(false);
    this.traceOut(text);
    return new Promise((resolve) => s.write(this.withHeld(text), (err) => resolve(!err)));
  }

  /** Resolves once the socket's write buffer is below its high-water mark (or the client is gone). */
  drain(): Promise<void> {
    return this.socket.writableNeedDrain && !this.gone ? this.drained() : Promise.resolve();
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /** Says the last words and closes; a client that never closes its side is cut after 5 s. */
  end(lastWords?: string): void {
    if (this.gone) return;
    if (lastWords) this.traceOut(lastWords);
    if (!this.socket.writableEnded) {
      const words = this.withHeld(lastWords ?? '');
      if (words) this.socket.end(words);
      else this.socket.end();
    }
    this.graceTimer ??= setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
    this.graceTimer.unref();
  }

  destroy(): void {
    for (const s of this.sockets) s.destroy();
  }

  /**
   * One pending 'drain' shared by all writers, so waiting never stacks listeners.
   * A client that stops reading for the idle timeout is cut off: otherwise the
   * waiting writer, and whatever its session holds (a POP3 maildrop lease, a
   * selected mailbox, a spool file), would be held for as long as the peer likes.
   */
  private drained(): Promise<void> {
    const s = this.socket;
    this.pendingDrain ??= new Promise<void>((resolve) => {
      const stalled = setTimeout(() => {
        this.stalledWriter = true;
        this.fail('timeout');
        this.destroy(); // 'close' settles this wait
      }, this.idleTimeoutMs);
      const done = () => {
        clearTimeout(stalled);
        s.off('drain', done);
        s.off('close', done);
        this.pendingDrain = undefined;
        resolve();
      };
      s.on('drain', done);
      s.on('close', done);
    });
    return this.pendingDrain;
  }

  private traceOut(text: string): void {
    if (!this.tracer.enabled) return;
    for (const line of text.split('\r\n')) if (line !== '') this.tracer.server(line);
  }

  // ---- TLS -----------------------------------------------------------------

  /**
   * Switches to TLS after the protocol's "go ahead" reply was written: drops every
   * byte read so far, wraps the socket, and resolves once the handshake is done.
   * Throws ConnectionClosed (and closes) when the handshake fails or times out.
   */
  async startTls(secureContext: tls.SecureContext): Promise<void> {
    if (this.failure) throw this.failure;
    this.flushHeld(); // the "go ahead" reply leaves in plain text
    this.input.clear(); // RFC3207 4.2, RFC2595 4, RFC9051 6.2.1: pipelined plaintext is discarded
    this.stopReading(this.socket);
    const secure = new tls.TLSSocket(this.socket, { isServer: true, secureContext });
    this.socket = secure;
    this.attach(secure);
    const failed = await new Promise<CloseReason | undefined>((resolve) => {
      const finish = (why: CloseReason | undefined) => {
        clearTimeout(timer);
        secure.off('secure', ok);
        secure.off('error', bad);
        secure.off('close', bad);
        resolve(why);
      };
      const ok = () => finish(undefined);
      const bad = () => finish('error');
      const timer = setTimeout(() => finish('timeout'), this.handshakeTimeoutMs ?? this.idleTimeoutMs);
      secure.once('secure', ok);
      secure.once('error', bad);
      secure.once('close', bad);
    });
    if (failed) {
      this.fail(failed);
      this.destroy();
      throw this.failure ?? new ConnectionClosed(failed);
    }
  }

  // ---- compression ---------------------------------------------------------

  /**
   * Switches to raw DEFLATE both ways after the protocol's "go ahead" reply was written
   * (RFC 4978 3): that reply leaves uncompressed, everything written later is compressed,
   * and every byte read from now on, including those already buffered (a client may send
   * compressed data right behind the command), is inflated first.
   */
  startCompression(): void {
    if (this.failure) throw this.failure;
    if (this.compressed) throw new Error('compression is already active');
    this.flushHeld(); // the "go ahead" reply leaves uncompressed
    const pending = this.input.length > 0 ? this.input.take(this.input.length) : undefined;
    this.input.clear();
    this.stopReading(this.socket);
    const inner = this.socket;
    const stream = new DeflateStream(inner, pending);
    this.socket = stream as unknown as net.Socket; // only the Duplex side of it is used after this
    this.attach(stream as unknown as net.Socket);
  }

  // ---- socket events -------------------------------------------------------

  private attach(socket: net.Socket): void {
    if (this.sockets.at(-1) !== socket) this.sockets.push(socket);
    // A plain Duplex (tests, in-process pipes) has no TCP options.
    if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    socket.on('data', this.dataListener);
    socket.on('end', this.endListener);
    socket.on('error', this.errorListener);
    socket.on('close', this.closeListener);
  }

  /** The socket's bytes are no longer ours to read (STARTTLS/COMPRESS wrapped it); its errors and close still count. */
  private stopReading(socket: net.Socket): void {
    socket.off('data', this.dataListener);
    socket.off('end', this.endListener);
  }

  private onAbort(): void {
    if (this.isGone) return;
    this.fail('shutdown');
    for (const fn of this.shutdownHandlers ?? []) fn();
  }

  private onSocketClose(): void {
    if (this.isGone) return;
    this.isGone = true;
    this.fail('eof');
    clearTimeout(this.timer);
    clearTimeout(this.graceTimer);
    clearTimeout(this.readTimer);
    clearTimeout(this.phaseTimer);
    this.offAbort?.();
    this.offAbort = undefined;
    for (const socket of this.sockets) {
      this.stopReading(socket);
      socket.off('error', this.errorListener);
      socket.off('close', this.closeListener);
    }
    this.shutdownHandlers = undefined;
    this.destroy(); // the plain socket under a TLS one, or the TLS one over a closed plain socket
    const handlers = this.closeHandlers ?? [];
    this.closeHandlers = undefined;
    for (const fn of handlers) fn();
    this.resolveClosed();
  }
}
