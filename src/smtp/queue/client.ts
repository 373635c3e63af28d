/**
 * One SMTP client connection (nodemailer's SMTPConnection) wrapped in promises: connect
 * with opportunistic STARTTLS (or the smarthost's TLS mode), optional AUTH, then one
 * transaction per message over the same connection, then QUIT.
 */
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { Hop } from './routes.js';

export interface ConnectOptions {
  hop: Hop;
  /** Our name in EHLO. */
  clientName: string;
  timeoutMs: number;
  /** 'opportunistic' for MX hosts; the smarthost's configured mode otherwise. */
  tls: 'opportunistic' | 'starttls' | 'implicit' | 'none';
  verify: boolean;
  auth?: { user: string; pass: string };
}

export interface TransactionResult {
  accepted: string[];
  /** Per refused recipient: the reply code and text. */
  rejected: { address: string; code: number; response: string }[];
  response: string;
}

/** An error from the remote side or the network; `code` is the SMTP reply code when there was one. */
export class SmtpClientError extends Error {
  constructor(
    message: string,
    readonly responseCode: number | null,
    readonly response: string,
  ) {
    super(message);
    this.name = 'SmtpClientError';
  }
}

type Conn = InstanceType<typeof SMTPConnection>;
type Err = Error & { responseCode?: number; response?: string; rejectedErrors?: (Error & { recipient?: string; responseCode?: number; response?: string })[] };

const wrap = (err: Err) => new SmtpClientError(err.message, err.responseCode ?? null, err.response ?? err.message);

export class SmtpClient {
  private constructor(
    private readonly conn: Conn,
    readonly hop: Hop,
  ) {}

  /** Opens, greets, negotiates TLS and authenticates; throws SmtpClientError. */
  static async connect(o: ConnectOptions): Promise<SmtpClient> {
    const conn = new SMTPConnection({
      host: o.hop.address,
      port: o.hop.port,
      name: o.clientName,
      secure: o.tls === 'implicit',
      ignoreTLS: o.tls === 'none',
      requireTLS: o.tls === 'starttls',
      opportunisticTLS: o.tls === 'opportunistic',
      connectionTimeout: o.timeoutMs,
      greetingTimeout: o.timeoutMs,
      socketTimeout: o.timeoutMs,
      // Opportunistic TLS to an MX accepts any certificate (RFC 7435); whether it was verified is read back below.
      tls: { servername: o.hop.name, rejectUnauthorized: o.tls === 'opportunistic' ? false : o.verify },
    });
    await new Promise<void>((resolve, reject) => {
      conn.once('error', (err: Err) => reject(wrap(err)));
      conn.connect(() => resolve());
    });
    conn.on('error', () => {}); // later errors arrive through the send/quit callbacks
    // Commands are small writes, each answered before the next: without this, Nagle's
    // algorithm meets the peer's delayed ACK and every message waits tens of milliseconds.
    (conn as unknown as { _socket?: { setNoDelay?: (on: boolean) => void } })._socket?.setNoDelay?.(true);
    const client = new SmtpClient(conn, o.hop);
    if (o.auth) {
      await new Promise<void>((resolve, reject) => conn.login(o.auth!, (err?: Err | null) => (err ? reject(wrap(err)) : resolve())));
    }
    return client;
  }

  /** True when the connection is encrypted and the certificate verified for the hop's name. */
  get tlsVerified(): boolean {
    const socket = (this.conn as unknown as { _socket?: TLSSocket })._socket;
    return this.conn.secure && socket?.authorized === true;
  }

  get encrypted(): boolean {
    return this.conn.secure;
  }

  supports(extension: string): boolean {
    return ((this.conn as unknown as { _supportedExtensions?: string[] })._supportedExtensions ?? []).includes(extension);
  }

  /** One mail transaction; throws SmtpClientError when the whole transaction failed (MAIL, all RCPTs, or DATA). */
  send(envelope: {
    from: string;
    to: string[];
    size: number;
    dsn?: { ret?: string; envid?: string; notify?: string[]; orcpt?: string };
    use8BitMime?: boolean;
    requireTls?: boolean;
  }, message: Readable): Promise<TransactionResult> {
    const env = {
      from: envelope.from,
      to: envelope.to,
      size: envelope.size,
      use8BitMime: envelope.use8BitMime,
      requireTLSExtensionEnabled: envelope.requireTls,
      dsn: envelope.dsn,
    };
    return new Promise((resolve, reject) => {
      this.conn.send(env as never, message, (err: Err | null, info: { accepted: string[]; rejected: string[]; rejectedErrors?: Err[]; response: string }) => {
        if (err) {
          const rejected = (err.rejectedErrors ?? []).map((e) => ({ address: String((e as { recipient?: string }).recipient ?? ''), code: e.responseCode ?? 0, response: e.response ?? e.message }));
          if (rejected.length && rejected.length === envelope.to.length && rejected.every((r) => r.code)) {
            // No DATA was sent: RSET so the next transaction on this connection starts clean (RFC 5321 4.1.1.5).
            this.conn.reset(() => resolve({ accepted: [], rejected, response: err.response ?? err.message }));
            return;
          }
          reject(wrap(err));
          return;
        }
        const rejected = (info.rejectedErrors ?? []).map((e) => ({ address: String((e as { recipient?: string }).recipient ?? ''), code: e.responseCode ?? 0, response: e.response ?? e.message }));
        resolve({ accepted: info.accepted, rejected, response: info.response });
      });
    });
  }

  /** RSET between transactions keeps the connection usable after a refused one. */
  reset(): Promise<void> {
    return new Promise((resolve) => this.conn.reset(() => resolve()));
  }

  close(): void {
    try {
      this.conn.quit();
    } catch {
      this.conn.close();
    }
  }
}
