/**
 * TCP and implicit-TLS listeners: bind, count connections per IP, give each
 * connection a session id and child logger, hand the socket to a protocol handler,
 * and shut down gracefully (stop accepting → tell sessions → wait → cut).
 *
 * Never imports: the store, mail services, protocol internals. Handlers are values.
 * Invariants: every accepted socket is tracked until it closes, so close() leaves
 * nothing open; a handler that throws costs its own connection, never the listener;
 * the per-IP count covers established sessions (after the TLS handshake for TLS).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { formatListenAddress, type ListenAddress } from '../config/schema.js';
import { newSessionId, sessionLogger } from '../log/logger.js';

/** What a protocol handler learns about its connection. */
export interface Session {
  id: string;
  remoteAddress: string;
  log: Logger;
  /** Aborted when the server shuts down: say BYE / 421 and close before the timeout. */
  signal: AbortSignal;
  /** For STARTTLS: `new tls.TLSSocket(socket, { isServer: true, secureContext })`. */
  secureContext: tls.SecureContext | undefined;
}

export type ConnectionHandler = (socket: net.Socket, session: Session) => void;

export interface ListenerSpec {
  name: string;
  address: ListenAddress;
  tls: 'none' | 'implicit';
  handler: ConnectionHandler;
  /** Written before closing a connection over the per-IP limit (e.g. `421 4.7.0 …\r\n`). */
  busyLine?: string;
}

export interface ListenerContext {
  log: Logger;
  /** PEM cert and key; required when any spec uses implicit TLS, and offered to STARTTLS. */
  tls?: { cert: string; key: string };
  connectionsPerIp: number;
  shutdownTimeoutMs: number;
}

export interface RunningListeners {
  /** The bound address of each listener (the real port when 0 was asked). */
  addresses: Record<string, ListenAddress>;
  /** Number of open connections (including TLS handshakes in progress). */
  openConnections(): number;
  /** Stops accepting, aborts sessions' signal, waits up to shutdownTimeoutMs, then destroys the rest. */
  close(): Promise<void>;
}

/** A listener could not bind; the message is one line for stderr. */
export class ListenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ListenError';
  }
}

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'address not available on this machine',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
};

/** Binds every spec in order; on the first failure closes those already bound and throws ListenError. */
export async function startListeners(specs: ListenerSpec[], ctx: ListenerContext): Promise<RunningListeners> {
  const secureContext = ctx.tls ? tls.createSecureContext({ ...ctx.tls, minVersion: 'TLSv1.2' }) : undefined;
  const shutdown = new AbortController();
  const open = new Set<net.Socket>(); // raw TCP sockets, TLS handshakes included
  const perIp = new Map<string, number>();
  const servers: net.Server[] = [];
  const addresses: Record<string, ListenAddress> = {};
  let drained: (() => void) | undefined;

  const track = (raw: net.Socket) => {
    open.add(raw);
    raw.once('close', () => {
      open.delete(raw);
      if (open.size === 0) drained?.();
    });
  };

  const accept = (spec: ListenerSpec, socket: net.Socket) => {
    const remoteAddress = normalizeIp(socket.remoteAddress);
    const log = sessionLogger(ctx.log, spec.name, newSessionId());
    socket.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
    const count = (perIp.get(remoteAddress) ?? 0) + 1;
    if (count > ctx.connectionsPerIp) {
      log.warn({ remote: remoteAddress, limit: ctx.connectionsPerIp }, 'too many connections from this address');
      if (spec.busyLine) socket.end(spec.busyLine);
      else socket.end();
      socket.setTimeout(5000, () => socket.destroy());
      return;
    }
    perIp.set(remoteAddress, count);
    socket.once('close', () => {
      const left = (perIp.get(remoteAddress) ?? 1) - 1;
      if (left <= 0) perIp.delete(remoteAddress);
      else perIp.set(remoteAddress, left);
      log.info('disconnect');
    });
    log.info({ remote: remoteAddress }, 'connect');
    try {
      spec.handler(socket, { id: log.bindings().session as string, remoteAddress, log, signal: shutdown.signal, secureContext });
    } catch (err) {
      log.error({ err }, 'connection handler failed');
      socket.destroy();
    }
  };

  try {
    for (const spec of specs) {
      const server = createServer(spec, ctx, (socket) => accept(spec, socket));
      server.on('connection', track);
      servers.push(server);
      const bound = await bind(server, spec);
      addresses[spec.name] = bound;
      // After binding, errors (e.g. EMFILE on accept) are logged; an unhandled 'error' would kill the process.
      server.on('error', (err) => ctx.log.error({ listener: spec.name, err: err.message }, 'listener error'));
      ctx.log.info({ listener: spec.name, address: formatListenAddress(bound), tls: spec.tls }, 'listening');
    }
  } catch (err) {
    for (const server of servers) server.close();
    throw err;
  }

  return {
    addresses,
    openConnections: () => open.size,
    async close() {
      for (const server of servers) server.close();
      shutdown.abort();
      if (open.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ctx.shutdownTimeoutMs);
          drained = () => (clearTimeout(timer), resolve());
        });
      }
      if (open.size > 0) ctx.log.warn({ connections: open.size }, 'shutdown timeout: closing remaining connections');
      const closing = [...open].map((s) => new Promise((resolve) => (s.once('close', resolve), s.destroy())));
      await Promise.all(closing);
    },
  };
}

function createServer(spec: ListenerSpec, ctx: ListenerContext, onSession: (socket: net.Socket) => void): net.Server {
  if (spec.tls === 'none') return net.createServer(onSession);
  if (!ctx.tls) throw new ListenError(`cannot listen for ${spec.name}: implicit TLS needs a certificate`);
  const server = tls.createServer({ ...ctx.tls, minVersion: 'TLSv1.2', handshakeTimeout: 30_000 }, onSession);
  server.on('tlsClientError', (err) => ctx.log.debug({ listener: spec.name, err: err.message }, 'TLS handshake failed'));
  return server;
}

function bind(server: net.Server, spec: ListenerSpec): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why = BIND_ERRORS[err.code ?? ''] ?? err.message;
      reject(new ListenError(`cannot listen on ${formatListenAddress(spec.address)} for ${spec.name}: ${why}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ host: spec.address.host, port: spec.address.port }, () => {
      server.off('error', onError);
      const a = server.address() as net.AddressInfo;
      resolve({ host: a.address, port: a.port });
    });
  });
}

/** `::ffff:1.2.3.4` and `1.2.3.4` are one client for the per-IP limit. */
function normalizeIp(ip: string | undefined): string {
  if (!ip) return 'unknown';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
