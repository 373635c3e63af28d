/**
 * The few POP3 commands `import-imap --pop3` needs from the old server (RFC 1939, STLS
 * from RFC 2595): login, UIDL, LIST, TOP. pop3s:// is TLS from the start; pop3:// is
 * upgraded with STLS when CAPA offers it.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { RemoteAccount } from './imap-import.js';

export class Pop3Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Pop3Error';
  }
}

/** Reads CRLF lines and dot-terminated blocks off a socket. */
export class LineReader {
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(private socket: net.Socket) {
    this.attach(socket);
  }

  attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Pop3Error('the POP3 server closed the connection')));
  }

  /** Stops reading from the plain socket (before TLS takes it over). */
  detach(): net.Socket {
    this.socket.removeAllListeners('data').removeAllListeners('error').removeAllListeners('close');
    return this.socket;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  async line(): Promise<Buffer> {
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i >= 0) {
        const out = this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i + 2);
        return out;
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  /** A multi-line response body, dot-unstuffed, CRLF line ends. */
  async block(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const l = await this.line();
      if (l.length === 1 && l[0] === 0x2e) return Buffer.concat(parts);
      parts.push(l[0] === 0x2e ? l.subarray(1) : l, Buffer.from('\r\n'));
    }
  }
}

export class Pop3Client {
  private constructor(
    private socket: net.Socket,
    private reader: LineReader,
  ) {}

  static async connect(account: RemoteAccount): Promise<Pop3Client> {
    const tlsOptions = { rejectUnauthorized: !account.insecure, servername: net.isIP(account.host) ? undefined : account.host };
    const socket = account.tls ? tls.connect({ host: account.host, port: account.port, ...tlsOptions }) : net.connect({ host: account.host, port: account.port });
    socket.setTimeout(60_000, () => socket.destroy(new Pop3Error('the POP3 server did not answer for 60 s')));
    const client = new Pop3Client(socket, new LineReader(socket));
    try {
      await client.status();
      if (!account.tls) await client.startTlsIfOffered(tlsOptions);
      await client.command(`USER ${account.user}`);
      await client.command(`PASS ${account.password}`);
    } catch (err) {
      client.socket.destroy(); // an open connection would keep the process alive
      throw err;
    }
    return client;
  }

  private async startTlsIfOffered(options: tls.ConnectionOptions): Promise<void> {
    this.socket.write('CAPA\r\n');
    if (!(await this.status(false))) return;
    const capa = (await this.reader.block()).toString('latin1').split('\r\n').map((l) => l.trim().toUpperCase());
    if (!capa.includes('STLS')) return;
    await this.command('STLS');
    const plain = this.reader.detach();
    const secure = tls.connect({ socket: plain, ...options });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    secure.setTimeout(60_000, () => secure.destroy(new Pop3Error('the POP3 server did not answer for 60 s')));
    this.socket = secure;
    this.reader = new LineReader(secure);
  }

  /** Reads a status line; +OK → true; -ERR throws (or returns false when `strict` is false). */
  private async status(strict = true): Promise<boolean> {
    const l = (await this.reader.line()).toString('latin1');
    if (l.startsWith('+OK')) return true;
    if (!strict) return false;
    throw new Pop3Error(`POP3 server: ${l}`);
  }

  private async command(line: string): Promise<void> {
    this.socket.write(`${line}\r\n`);
    await this.status();
  }

  private async listing(cmd: string): Promise<Map<number, string>> {
    await this.command(cmd);
    const out = new Map<number, string>();
    for (const l of (await this.reader.block()).toString('latin1').split('\r\n')) {
      const m = /^(\d+) (\S+)/.exec(l);
      if (m) out.set(Number(m[1]), m[2]);
    }
    return out;
  }

  /** Message number → unique-id. */
  uidl(): Promise<Map<number, string>> {
    return this.listing('UIDL');
  }

  /** Message number → octets. */
  async list(): Promise<Map<number, number>> {
    return new Map([...(await this.listing('LIST'))].map(([n, s]) => [n, Number(s)]));
  }

  /**
   * The whole message by TOP with more lines than any message has: unlike RETR, TOP leaves
   * the message unread on servers that map RETR to \Seen (Dovecot), so the old mailbox is not changed.
   */
  async whole(n: number): Promise<Buffer> {
    await this.command(`TOP ${n} 1000000000`);
    return this.reader.block();
  }

  async quit(): Promise<void> {
    try {
      await this.command('QUIT');
    } finally {
      this.socket.destroy();
    }
  }
}
