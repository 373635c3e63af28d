/**
 * A minimal IMAP client over a raw socket for the benchmark and test set-up: one
 * command at a time, responses read as lines with their literals, no parsing
 * beyond what is needed to find the tagged completion. No client library, so
 * the benchmark measures the server, not a client's overhead.
 *
 * Invariants: a literal is consumed by its byte count (never by searching for
 * CRLF), so bodies that contain "a1 OK" cannot confuse the framing.
 */
import net from 'node:net';
import tls from 'node:tls';

/** One command's result: every untagged line (literals inlined) and the tagged status. */
export interface ImapReply {
  status: 'OK' | 'NO' | 'BAD';
  /** The tagged line without the tag. */
  text: string;
  /** Untagged and continuation lines, each with its literals joined in (as latin1). */
  untagged: string[];
  /** Bytes received for this command, literals included. */
  bytes: number;
}

export class RawImapClient {
  private buffer: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closedError: Error | undefined;
  private counter = 0;

  private constructor(private socket: net.Socket) {
    this.attach(socket);
  }

  /** Connects (plain, or implicit TLS with any certificate) and reads the greeting. */
  static async connect(port: number, options: { host?: string; tls?: boolean; timeoutMs?: number } = {}): Promise<{ client: RawImapClient; greeting: string }> {
    const host = options.host ?? '127.0.0.1';
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = options.tls ? tls.connect({ port, host, rejectUnauthorized: false }) : net.connect({ port, host });
      s.once(options.tls ? 'secureConnect' : 'connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    socket.setNoDelay(true);
    const client = new RawImapClient(socket);
    const greeting = (await client.readLine(options.timeoutMs ?? 10_000)).toString('latin1');
    return { client, greeting };
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
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

  /** Upgrades the connection after a successful STARTTLS. */
  async startTls(): Promise<void> {
    const reply = await this.command('STARTTLS');
    if (reply.status !== 'OK') throw new Error(`STARTTLS: ${reply.text}`);
    this.socket.removeAllListeners('data');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: this.socket, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  private async waitForData(deadline: number): Promise<void> {
    if (this.closedError) throw this.closedError;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timeout; pending ${JSON.stringify(this.buffer.toString('latin1').slice(0, 300))}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async readLine(timeoutMs: number): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const i = this.buffer.indexOf('\r\n');
      if (i >= 0) {
        const line = this.buffer.subarray(0, i);
        this.buffer = this.buffer.subarray(i + 2);
        return line;
      }
      await this.waitForData(deadline);
    }
  }

  private async readBytes(n: number, timeoutMs: number): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length < n) await this.waitForData(deadline);
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  /** Reads one response line with every literal it announces; returns it as latin1. */
  private async readResponse(timeoutMs: number): Promise<{ text: string; bytes: number }> {
    let text = '';
    let bytes = 0;
    while (true) {
      const line = await this.readLine(timeoutMs);
      bytes += line.length + 2;
      const s = line.toString('latin1');
      text += s;
      const m = /\{(\d+)\}$/.exec(s);
      if (!m) return { text, bytes };
      const literal = await this.readBytes(Number(m[1]), timeoutMs);
      bytes += literal.length;
      text += '\r\n' + literal.toString('latin1');
    }
  }

  /**
   * Sends `tag command` and reads until the tagged reply. `literal` (for APPEND) is
   * sent as a synchronizing literal after the server's continuation.
   */
  async command(command: string, options: { literal?: Buffer; timeoutMs?: number } = {}): Promise<ImapReply> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const tag = `b${++this.counter}`;
    const untagged: string[] = [];
    let bytes = 0;
    if (options.literal) {
      this.socket.write(`${tag} ${command} {${options.literal.length}}\r\n`);
      while (true) {
        const r = await this.readResponse(timeoutMs);
        bytes += r.bytes;
        if (r.text.startsWith('+')) break;
        if (r.text.startsWith(`${tag} `)) return finish(r.text);
        untagged.push(r.text);
      }
      this.socket.write(options.literal);
      this.socket.write('\r\n');
    } else {
      this.socket.write(`${tag} ${command}\r\n`);
    }
    while (true) {
      const r = await this.readResponse(timeoutMs);
      bytes += r.bytes;
      if (r.text.startsWith(`${tag} `)) return finish(r.text);
      untagged.push(r.text);
    }

    function finish(line: string): ImapReply {
      const rest = line.slice(tag.length + 1);
      const status = rest.slice(0, rest.indexOf(' ') < 0 ? undefined : rest.indexOf(' ')) as ImapReply['status'];
      if (status !== 'OK' && status !== 'NO' && status !== 'BAD') throw new Error(`unexpected tagged line: ${line}`);
      return { status, text: rest, untagged, bytes };
    }
  }

  /** Like command() but throws unless the reply is OK. */
  async ok(command: string, options: { literal?: Buffer; timeoutMs?: number } = {}): Promise<ImapReply> {
    const reply = await this.command(command, options);
    if (reply.status !== 'OK') throw new Error(`${command.slice(0, 60)}: ${reply.text}`);
    return reply;
  }

  /** Closes the socket without a word (after the client's own LOGOUT). */
  destroy(): void {
    this.socket.destroy();
  }

  /** LOGOUT (best effort) and close. */
  async close(): Promise<void> {
    try {
      if (!this.closedError) await this.command('LOGOUT', { timeoutMs: 5000 });
    } catch {
      // the server may close first; either way we are done
    }
    this.socket.destroy();
  }
}

/** An IMAP quoted string (for user names and passwords without CR/LF). */
export function quoted(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
