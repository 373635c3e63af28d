/**
 * A minimal POP3 client over a raw socket for the benchmark: one command at a time,
 * the status line and, for multi-line answers, the body up to the terminating
 * CRLF.CRLF, counted in bytes and never parsed or un-stuffed (the benchmark measures
 * the server, not a client's overhead).
 *
 * Invariant: with one command outstanding, the terminator is the last thing the
 * server sent, and byte-stuffing (RFC 1939 3) means "\r\n.\r\n" cannot occur earlier,
 * so checking the tail of what has arrived is enough.
 */
import net from 'node:net';

const TERMINATOR = Buffer.from('\r\n.\r\n');

export interface Pop3Reply {
  ok: boolean;
  /** The status line without CRLF. */
  status: string;
  /** The multi-line body (still stuffed, terminator removed) when `keepBody` was asked; else empty. */
  body: Buffer;
  /** Bytes received for this command. */
  bytes: number;
}

export class RawPop3Client {
  private chunks: Buffer[] = [];
  private size = 0;
  private wake: (() => void) | undefined;
  private closedError: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.size += chunk.length;
      this.wake?.();
    });
    socket.on('error', (err) => {
      this.closedError = err;
      this.wake?.();
    });
    socket.on('close', () => {
      this.closedError ??= new Error('connection closed by server');
      this.wake?.();
    });
  }

  /** Connects and reads the greeting; throws unless it is +OK. */
  static async connect(port: number, host = '127.0.0.1'): Promise<RawPop3Client> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ port, host }, () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    socket.setNoDelay(true);
    const client = new RawPop3Client(socket);
    const greeting = await client.read(false, false, 10_000);
    if (!greeting.ok) throw new Error(`greeting: ${greeting.status}`);
    return client;
  }

  /** Whether what has arrived ends with `suffix`, looking only at the last few bytes. */
  private tailIs(suffix: Buffer): boolean {
    if (this.size < suffix.length) return false;
    let i = suffix.length;
    for (let c = this.chunks.length - 1; c >= 0 && i > 0; c--) {
      const chunk = this.chunks[c];
      for (let j = chunk.length - 1; j >= 0 && i > 0; j--) if (chunk[j] !== suffix[--i]) return false;
    }
    return i === 0;
  }

  private firstLineEnd(): number {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks.length ? this.chunks[0].indexOf('\r\n') : -1;
  }

  private async waitForData(deadline: number): Promise<void> {
    if (this.closedError) throw this.closedError;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('timeout waiting for the server');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Reads one answer: the status line, and the body when `multiline` and the status is +OK. */
  private async read(multiline: boolean, keepBody: boolean, timeoutMs: number): Promise<Pop3Reply> {
    const deadline = Date.now() + timeoutMs;
    let end = this.firstLineEnd();
    while (end < 0) {
      await this.waitForData(deadline);
      end = this.firstLineEnd();
    }
    const status = this.chunks[0].subarray(0, end).toString('latin1');
    const ok = status.startsWith('+OK');
    if (ok && multiline) {
      // The status line's own CRLF counts as the first CRLF of an empty body's "\r\n.\r\n".
      while (!this.tailIs(TERMINATOR)) await this.waitForData(deadline);
    }
    const bytes = this.size;
    const body = ok && multiline && keepBody ? Buffer.concat(this.chunks).subarray(end + 2, Math.max(end + 2, bytes - 3)) : Buffer.alloc(0);
    this.chunks = [];
    this.size = 0;
    return { ok, status, body, bytes };
  }

  /** Sends one command line and reads its answer. */
  async command(line: string, options: { multiline?: boolean; keepBody?: boolean; timeoutMs?: number } = {}): Promise<Pop3Reply> {
    this.socket.write(`${line}\r\n`);
    return this.read(options.multiline ?? false, options.keepBody ?? false, options.timeoutMs ?? 60_000);
  }

  close(): void {
    this.socket.destroy();
  }
}
