/**
 * TCP and implicit-TLS listeners: bind, count connections per IP, give each
 * connection a session id and child logger, hand the socket to a protocol handler,
 * and shut down gracefully (stop accepting → tell sessions → wait → cut).
 *
 * Never imports: the store, mail services, protocol internals. Handlers are values.
 * Invariants: every accepted socket is tracked until it closes, so close() leaves
 * nothing open; a handler that throws costs its own connection, never the listener;
 * connections are admitted (per-IP and total limits) when the TCP connection
 * arrives, before any TLS handshake or PROXY header, so sockets that never finish
 * a handshake count too; IPv6 clients are counted per /64 (one host's share).
 */
import { setMaxListeners } from 'node:events';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { formatListenAddress, type ListenAddress } from '../config/schema.js';
import { newSessionId, sessionLogger } from '../log/logger.js';
import { isTrusted, parseProxyHeader } from './proxy-protocol.js';

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
  /** Not counted in the total cap, so health checks and the admin page still get in when mail listeners are full. */
  exemptFromTotal?: boolean;
  /**
   * Expect a PROXY protocol v1/v2 header (before TLS on implicit-TLS listeners) from a
   * trusted load balancer; its client address replaces the peer's for limits and logs.
   */
  proxy?: { trusted: net.BlockList; headerTimeoutMs?: number };
}

export interface ListenerContext {
  log: Logger;
  /** PEM cert and key; required when any spec uses implicit TLS, and offered to STARTTLS. Ciphers in OpenSSL syntax; default node's. */
  tls?: { cert: string; key: string; ciphers?: string };
  connectionsPerIp: number;
  /** Connections open at once over all listeners but the exempt ones; default unlimited. */
  connectionsTotal?: number;
  shutdownTimeoutMs: number;
  /** How long an implicit-TLS handshake may take before the socket is destroyed; default 30 s. */
  handshakeTimeoutMs?: number;
}

export interface RunningListeners {
  /** The bound address of each listener (the real port when 0 was asked). */
  addresses: Record<string, ListenAddress>;
  /** Number of open connections (including TLS handshakes in progress). */
  openConnections(): number;
  /**
   * New certificate, key or ciphers for connections accepted from now on (implicit TLS and
   * STARTTLS); open sessions keep theirs. Throws (and keeps the old ones) when they are unusable.
   */
  reloadTls(material: NonNullable<ListenerContext['tls']>): void;
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

/** A connection's place in the limits, given back by its one 'close' listener (set by admit). */
interface Admission {
  key: string | undefined;
  counted: boolean;
}

/** Binds every spec in order; on the first failure closes those already bound and throws ListenError. */
export async function startListeners(specs: ListenerSpec[], ctx: ListenerContext): Promise<RunningListeners> {
  let secureContext = ctx.tls ? tls.createSecureContext(serverTlsOptions(ctx.tls)) : undefined;
  const tlsServers: tls.Server[] = [];
  const shutdown = new AbortController();
  // Each open session listens once (its Connection removes the listener on close), so
  // more than 10 at a time is normal, not a leak; the per-IP limit bounds them.
  setMaxListeners(0, shutdown.signal);
  const open = new Set<net.Socket>(); // raw TCP sockets, TLS handshakes included
  const perIp = new Map<string, number>();
  const servers: net.Server[] = [];
  const addresses: Record<string, ListenAddress> = {};
  let drained: (() => void) | undefined;

  const track = (raw: net.Socket): Admission => {
    const admission: Admission = { key: undefined, counted: false };
    open.add(raw);
    // 'close' comes once per socket, so on() (here and below): once() would add a wrapper and
    // a bound function per listener, kept by each of (say) 10,000 idle sessions.
    raw.on('close', () => {
      open.delete(raw);
      const key = admission.key;
      if (key !== undefined) {
        const left = (perIp.get(key) ?? 1) - 1;
        if (left <= 0) perIp.delete(key);
        else perIp.set(key, left);
        if (admission.counted) counted--;
      }
      if (open.size === 0) drained?.();
    });
    return admission;
  };

  let counted = 0; // connections in the total cap

  /**
   * Counts a new connection against the per-IP and total limits, or refuses it: a
   * plain-text listener says its busy line first; a TLS one cannot speak yet.
   */
  const admit = (spec: ListenerSpec, raw: net.Socket, address: string | undefined, admission: Admission): boolean => {
    const key = limitKey(normalizeIp(address));
    const count = (perIp.get(key) ?? 0) + 1;
    const full = !spec.exemptFromTotal && ctx.connectionsTotal !== undefined && counted >= ctx.connectionsTotal;
    if (count > ctx.connectionsPerIp || full) {
      ctx.log.warn({ listener: spec.name, remote: normalizeIp(address), limit: full ? ctx.connectionsTotal : ctx.connectionsPerIp }, full ? 'too many connections in all' : 'too many connections from this address');
      if (spec.tls !== 'none') {
        raw.destroy(); // mid-handshake: nothing can be said in clear
        return false;
      }
      if (spec.busyLine) raw.end(spec.busyLine);
      else raw.end();
      raw.setTimeout(5000, () => raw.destroy());
      return false;
    }
    perIp.set(key, count);
    if (!spec.exemptFromTotal) counted++;
    admission.key = key; // given back when the socket closes (track)
    admission.counted = !spec.exemptFromTotal;
    return true;
  };

  const accept = (spec: ListenerSpec, socket: net.Socket, proxiedAddress?: string) => {
    const remoteAddress = normalizeIp(proxiedAddress ?? socket.remoteAddress);
    const log = sessionLogger(ctx.log, spec.name, newSessionId());
    socket.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => log.info('disconnect'));
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
      // One 'connection' handler decides, in order: track, admit, then hand on. A TLS
      // server's own 'connection' handler has already started the handshake; an
      // unadmitted raw socket is ended, which ends that handshake too.
      const server = createServer(spec, ctx, (socket) => accept(spec, socket));
      server.on('connection', (raw: net.Socket) => {
        const admission = track(raw);
        if (spec.proxy) {
          acceptProxied(spec, raw, ctx, secureContext, (socket, address) => {
            if (admit(spec, raw, address ?? raw.remoteAddress, admission)) accept(spec, socket, address);
          });
          return;
        }
        if (!admit(spec, raw, raw.remoteAddress, admission)) return;
        if (spec.tls === 'none') accept(spec, raw);
      });
      servers.push(server);
      if (server instanceof tls.Server) tlsServers.push(server);
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
    reloadTls(material) {
      const options = serverTlsOptions(material);
      const fresh = tls.createSecureContext(options); // throws on a bad pair before anything changes
      secureContext = fresh;
      for (const server of tlsServers) server.setSecureContext(options);
    },
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

/**
 * Reads the PROXY header of a connection from a trusted peer, then hands on the socket
 * (wrapped in TLS for implicit-TLS listeners) with the client address it names.
 * Untrusted peers, malformed or missing headers and slow senders are cut.
 */
function acceptProxied(
  spec: ListenerSpec, raw: net.Socket, ctx: ListenerContext, secureContext: tls.SecureContext | undefined,
  onSession: (socket: net.Socket, address: string | undefined) => void,
): void {
  const proxy = spec.proxy!;
  raw.on('error', () => raw.destroy());
  if (!isTrusted(proxy.trusted, raw.remoteAddress)) {
    ctx.log.warn({ listener: spec.name, remote: raw.remoteAddress }, 'PROXY header from an untrusted address: connection refused');
    raw.destroy();
    return;
  }
  let buffered = Buffer.alloc(0);
  const timer = setTimeout(() => fail('no complete PROXY header in time'), proxy.headerTimeoutMs ?? 10_000);
  const fail = (reason: string) => {
    clearTimeout(timer);
    raw.off('data', onData);
    ctx.log.warn({ listener: spec.name, remote: raw.remoteAddress, reason }, 'bad PROXY header: connection refused');
    raw.destroy();
  };
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const r = parseProxyHeader(buffered);
    if (r.kind === 'incomplete') return;
    if (r.kind === 'error') return fail(r.reason);
    clearTimeout(timer);
    raw.off('data', onData);
    const rest = buffered.subarray(r.consumed); // the client's first bytes belong to the protocol
    const address = r.source?.address;
    if (spec.tls === 'none') {
      // Paused so the unshifted bytes wait for the handler's 'data' listener; resume runs on a later tick.
      raw.pause();
      if (rest.length > 0) raw.unshift(rest);
      onSession(raw, address);
      raw.resume();
      return;
    }
    if (!secureContext) return fail('implicit TLS needs a certificate');
    // TLSSocket on a net.Socket would read its handle directly and miss `rest`; a plain Duplex does not.
    const secure = new tls.TLSSocket(bytesThen(raw, rest), { isServer: true, secureContext });
    secure.once('close', () => raw.destroy());
    raw.once('close', () => secure.destroy());
    const handshake = setTimeout(() => secure.destroy(), ctx.handshakeTimeoutMs ?? 30_000);
    secure.once('secure', () => (clearTimeout(handshake), onSession(secure, address)));
    secure.once('error', (err) => (clearTimeout(handshake), ctx.log.debug({ listener: spec.name, err: err.message }, 'TLS handshake failed'), raw.destroy()));
  };
  raw.on('data', onData);
  raw.once('close', () => clearTimeout(timer)); // a balancer's TCP health check connects and leaves: not an error
}

/** A duplex over `raw` whose readable side starts with `first`. */
function bytesThen(raw: net.Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read: () => void raw.resume(),
    write: (chunk: Buffer, _enc, cb) => void raw.write(chunk, cb),
    final: (cb) => (raw.end(), cb()),
    destroy: (err, cb) => (raw.destroy(), cb(err)),
  });
  if (first.length > 0) d.push(first);
  raw.on('data', (chunk: Buffer) => {
    if (!d.push(chunk)) raw.pause();
  });
  raw.on('end', () => d.push(null));
  return d;
}

/** The one set of server TLS settings, for implicit TLS and STARTTLS alike: TLS 1.2+, our cipher order. */
function serverTlsOptions(t: NonNullable<ListenerContext['tls']>): tls.SecureContextOptions {
  return { cert: t.cert, key: t.key, minVersion: 'TLSv1.2', ...(t.ciphers ? { ciphers: t.ciphers, honorCipherOrder: true } : {}) };
}

/** Plain and PROXY listeners hand on sockets from the caller's 'connection' handler; implicit TLS once the handshake is done. */
function createServer(spec: ListenerSpec, ctx: ListenerContext, onSession: (socket: net.Socket) => void): net.Server {
  if (spec.tls === 'none' || spec.proxy) return net.createServer();
  if (!ctx.tls) throw new ListenError(`cannot listen for ${spec.name}: implicit TLS needs a certificate`);
  const server = tls.createServer({ ...serverTlsOptions(ctx.tls), handshakeTimeout: ctx.handshakeTimeoutMs ?? 30_000 }, onSession);
  server.on('tlsClientError', (err, socket) => {
    ctx.log.debug({ listener: spec.name, err: err.message }, 'TLS handshake failed');
    socket.destroy(); // node reports a handshake timeout here but leaves the socket open
  });
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

/**
 * The per-IP limit's key: an IPv4 address, or the /64 of an IPv6 address (a single
 * host or customer gets a whole /64, so counting per /128 would not limit it).
 */
export function limitKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':')}::/64`;
}

/** `::ffff:1.2.3.4` and `1.2.3.4` are one client for the per-IP limit. */
function normalizeIp(ip: string | undefined): string {
  if (!ip) return 'unknown';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
