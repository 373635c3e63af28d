/**
 * Raw protocol transcripts for tests: connect (plain or implicit TLS), send exact
 * bytes, read until a pattern with a timeout. Everything received is kept, so a
 * failing read shows what did arrive.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface ConnectOptions {
  host?: string;
  /** Implicit TLS; the server's self-signed certificate is accepted. */
  tls?: boolean;
  /** Default timeout of each read, in ms. */
  timeoutMs?: number;
}

/** One client connection. Bytes are matched as latin1 so one char is one byte. */
export class Transcript {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private ended = false;
  private error: Error | undefined;
  /** Resolves when the server closed the connection (or it failed). */
  readonly closed: Promise<void>;

  constructor(
    readonly socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('error', (err) => {
      this.error = err;
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Sends text (utf8) or bytes as they are. */
  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /**
   * Reads up to and including the first match of `pattern` and returns that text (utf8).
   * Rejects on timeout or when the connection closes first, quoting what arrived.
   */
  async readUntil(pattern: string | RegExp, timeoutMs = this.timeoutMs): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const text = this.buffer.toString('latin1');
      const end = matchEnd(text, pattern);
      if (end >= 0) {
        const out = this.buffer.subarray(0, end).toString('utf8');
        this.buffer = this.buffer.subarray(end);
        return out;
      }
      const left = deadline - Date.now();
      if (this.ended || this.error || left <= 0) {
        const why = this.error ? `error ${this.error.message}` : this.ended ? 'connection closed' : `timeout after ${timeoutMs} ms`;
        throw new Error(`readUntil(${String(pattern)}): ${why}; received ${JSON.stringify(text)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  /** Reads one CRLF-terminated line, CRLF included. */
  readLine(timeoutMs?: number): Promise<string> {
    return this.readUntil('\r\n', timeoutMs);
  }

  /** Waits for the server to close and returns everything not yet read. */
  async readToEnd(timeoutMs = this.timeoutMs): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`readToEnd: timeout after ${timeoutMs} ms; received ${JSON.stringify(this.buffer.toString('latin1'))}`)), timeoutMs);
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
    const out = this.buffer.toString('utf8');
    this.buffer = Buffer.alloc(0);
    return out;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function matchEnd(text: string, pattern: string | RegExp): number {
  if (typeof pattern === 'string') {
    const i = text.indexOf(pattern);
    return i < 0 ? -1 : i + pattern.length;
  }
  const m = pattern.exec(text);
  return m ? m.index + m[0].length : -1;
}

/** Connects and resolves once the connection (and TLS handshake) is up. */
export function connect(port: number, options: ConnectOptions = {}): Promise<Transcript> {
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = options.tls
      ? tls.connect({ port, host, rejectUnauthorized: false, servername: net.isIP(host) ? undefined : host })
      : net.connect({ port, host });
    const transcript = new Transcript(socket, timeoutMs);
    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      socket.off('error', reject);
      resolve(transcript);
    });
    socket.once('error', reject);
  });
}
