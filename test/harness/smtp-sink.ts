/**
 * Test doubles for the outbound queue: an SMTP sink on a loopback port (smtp-server)
 * and a fake DNS resolver, so queue tests never touch the network.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { QueueResolver } from '../../src/smtp/queue/routes.js';

/**
 * A test SMTP sink: counts connections, records messages, refuses `bad…` recipients
 * with 550 5.1.1 and `later…` with 451. It can hide DSN (a server that cannot report
 * success itself) and hold its reply to DATA (a slow remote, for crash tests).
 */
export class Sink {
  server!: SMTPServer;
  port = 0;
  connections = 0;
  messages: { from: string; to: string[]; data: Buffer; user?: string }[] = [];
  /** Milliseconds the reply to DATA is held after the message was recorded (0: none). */
  dataDelayMs = 0;
  constructor(private readonly opts: { auth?: { user: string; pass: string }; hideDSN?: boolean } = {}) {}

  async start(port = 0): Promise<void> {
    const auth = this.opts.auth;
    this.server = new SMTPServer({
      disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      authOptional: !auth,
      allowInsecureAuth: true,
      logger: false,
      hideDSN: this.opts.hideDSN ?? false,
      onConnect: (_s, cb) => {
        this.connections++;
        cb();
      },
      onAuth: (a, _s, cb) => (auth && a.username === auth.user && a.password === auth.pass ? cb(null, { user: a.username }) : cb(new Error('535 5.7.8 bad credentials'))),
      onRcptTo: (addr, _s, cb) => {
        if (addr.address.startsWith('bad')) return cb(Object.assign(new Error('5.1.1 no such user here'), { responseCode: 550 }));
        if (addr.address.startsWith('later')) return cb(Object.assign(new Error('4.2.0 mailbox busy'), { responseCode: 451 }));
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks), user: session.user as string | undefined });
          if (this.dataDelayMs > 0) setTimeout(() => cb(), this.dataDelayMs).unref();
          else cb();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Maps every domain in `mx` to its MX host and every host to 127.0.0.1; anything else does not exist. */
export function fakeResolver(mx: Record<string, string>): QueueResolver {
  const nodata = (name: string) => Promise.reject(Object.assign(new Error(`no data for ${name}`), { code: 'ENODATA' }));
  const hosts = new Set(Object.values(mx));
  return {
    resolveMx: (d) => (mx[d] ? Promise.resolve([{ exchange: mx[d], priority: 10 }]) : nodata(d)),
    resolve4: (h) => (hosts.has(h) ? Promise.resolve(['127.0.0.1']) : nodata(h)),
    resolve6: (h) => nodata(h),
  };
}

