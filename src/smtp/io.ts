/**
 * The byte side of an SMTP connection: a pull reader over the socket (lines,
 * exact byte counts for BDAT, or chunks for DATA), with flow control (the socket
 * is paused while unread input piles up), an inactivity timeout, and the STARTTLS
 * switch that drops any bytes the client pipelined after STARTTLS (RFC 3207 4.2,
 * the command-injection attack).
 */
import type net from 'node:net';
import tls from 'node:tls';

const HIGH_WATER = 1 << 20;

/** Thrown by reads when the peer went away, the timeout passed, or the server shuts down. */
export class ConnectionClosed extends Error {
  constructor(readonly reason: 'eof' | 'timeout' | 'shutdown') {
    super(`connection ${reason}`);
    this.name = 'ConnectionClosed';
  }
}

export type LineResult = { line: Buffer } | { tooLong: true };

/** One client connection; all reads are sequential (one reader at a time). */
export class SmtpIo {
  private buffer: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closed: ConnectionClosed | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    public socket: net.Socket,
    private readonly timeoutMs: number,
    signal: AbortSignal,
  ) {
    this.attach(socket);
    signal.addEventListener('abort', () => this.fail('shutdown'), { once: true });
  }

  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket && this.socket.encrypted;
  }

  /** Our own listeners on the current socket, so STARTTLS removes exactly these (the listener framework keeps its own). */
  private detach: (() => void) | undefined;

  private attach(socket: net.Socket): void {
    const onData = (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      if (this.buffer.length > HIGH_WATER) socket.pause();
      this.notify();
    };
    const onEnd = () => this.fail('eof');
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onEnd);
    this.detach = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
    };
  }

  private fail(reason: ConnectionClosed['reason']): void {
    this.closed ??= new ConnectionClosed(reason);
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Waits for more input or the end; the timeout counts from the call. */
  private async more(): Promise<void> {
    if (this.closed) throw this.closed;
    this.socket.resume();
    await new Promise<void>((resolve) => {
      this.timer = setTimeout(() => this.fail('timeout'), this.timeoutMs);
      this.wake = resolve;
    });
    clearTimeout(this.timer);
    if (this.closed && this.buffer.length === 0) throw this.closed;
  }

  private take(n: number): Buffer {
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    if (this.buffer.length < HIGH_WATER) this.socket.resume();
    return out;
  }

  /**
   * Next line without its CRLF (a bare LF also ends a command line). A line longer
   * than `max` is consumed up to its end and reported as tooLong.
   */
  async readLine(max: number): Promise<LineResult> {
    let skipping = false;
    while (true) {
      const lf = this.buffer.indexOf(0x0a);
      if (lf >= 0) {
        const raw = this.take(lf + 1);
        if (skipping || lf > max) return { tooLong: true };
        return { line: raw.subarray(0, raw.length >= 2 && raw[raw.length - 2] === 0x0d ? -2 : -1) };
      }
      if (this.buffer.length > max) {
        this.take(this.buffer.length);
        skipping = true;
      }
      if (this.closed) throw this.closed; // a command cut off by the end of the connection is not run
      await this.more();
    }
  }

  /** Hands every buffered chunk to `consume`, which returns how many bytes it took; -1 means all, go on. */
  async readChunks(consume: (chunk: Buffer) => Promise<number>): Promise<void> {
    while (true) {
      if (this.buffer.length > 0) {
        const chunk = this.buffer;
        const used = await consume(chunk);
        if (used >= 0) {
          this.take(used);
          return;
        }
        this.take(chunk.length);
      }
      await this.more();
    }
  }

  /** Exactly n bytes, in pieces, to `consume` (BDAT). */
  async readExactly(n: number, consume: (chunk: Buffer) => Promise<void>): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.buffer.length === 0) await this.more();
      const piece = this.take(Math.min(left, this.buffer.length));
      left -= piece.length;
      await consume(piece);
    }
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  /** Says the last words and closes. */
  close(text?: string): void {
    if (text) this.write(text);
    this.socket.end();
    this.socket.setTimeout(5000, () => this.socket.destroy());
  }

  /** STARTTLS: discards pipelined input, wraps the socket, resolves once the handshake is done. */
  async startTls(secureContext: tls.SecureContext): Promise<void> {
    this.buffer = Buffer.alloc(0) as Buffer; // RFC 3207 4.2: nothing sent before the handshake counts
    const plain = this.socket;
    this.detach?.(); // the plain socket's 'close' and 'error' still mean the connection is gone
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ConnectionClosed('timeout')), this.timeoutMs);
      secure.once('secure', () => (clearTimeout(timer), resolve()));
      secure.once('error', (err) => (clearTimeout(timer), reject(err)));
    });
    this.socket = secure;
    this.attach(secure);
  }
}
