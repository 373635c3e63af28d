/**
 * The HTTP listener: `GET /healthz` → 200 `ok`, anything else 404. Served on sockets
 * the listener accepted, so HTTP shares the per-IP limit and the graceful shutdown.
 *
 * Never imports: the store, mail services, other protocols.
 * Invariant: on shutdown, idle keep-alive connections close at once and busy ones
 * after their response.
 */
import http from 'node:http';
import type net from 'node:net';
import type { ConnectionHandler } from '../net/listeners.js';
import { busyLines, type Protocol } from '../net/protocol.js';

/** The handler and busy line for the `http` listener; `requestTimeoutMs`: see httpHandler. */
export function httpProtocol(requestTimeoutMs?: number): Protocol {
  return { handler: httpHandler(healthRoutes, requestTimeoutMs), busyLine: busyLines.http };
}

function healthRoutes(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if ((req.method === 'GET' || req.method === 'HEAD') && path === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
}

/**
 * Serves `routes` on accepted sockets. (http.Server tracks idle connections only when it
 * listens itself, so busy-ness is counted here, and so is its headers timeout, which it
 * would not enforce either.) A request's headers must arrive within `requestTimeoutMs`
 * of the connection opening or the previous response ending, so neither a slowloris
 * client nor an idle keep-alive holds a socket longer; default 10 s.
 */
export function httpHandler(routes: http.RequestListener, requestTimeoutMs = 10_000): ConnectionHandler {
  const deadlines = new Map<net.Socket, NodeJS.Timeout>();
  const awaitRequest = (socket: net.Socket) => {
    clearTimeout(deadlines.get(socket));
    deadlines.set(socket, setTimeout(() => socket.destroy(), requestTimeoutMs));
  };
  let closing = false;
  const inFlight = new Map<net.Socket, number>();
  const server = http.createServer((req, res) => {
    const socket = req.socket;
    clearTimeout(deadlines.get(socket)); // the headers are in
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (closing && left === 0) socket.end();
      else if (left === 0 && !socket.destroyed) awaitRequest(socket);
    });
    if (closing) res.setHeader('Connection', 'close');
    routes(req, res);
  });
  let watching = false;
  return (socket, session) => {
    if (!watching) {
      // One listener for the whole HTTP listener, not one per connection.
      watching = true;
      session.signal.addEventListener('abort', () => {
        closing = true;
        for (const [s, n] of inFlight) if (n === 0) s.end();
      });
    }
    inFlight.set(socket, 0);
    awaitRequest(socket);
    socket.once('close', () => {
      inFlight.delete(socket);
      clearTimeout(deadlines.get(socket));
      deadlines.delete(socket);
    });
    server.emit('connection', socket);
  };
}
