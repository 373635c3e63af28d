/**
 * The HTTP listener: dispatches each request to the feature routes (routes.ts), 404
 * when none recognises it. Served on sockets the listener accepted, so HTTP shares the
 * per-IP limit and the graceful shutdown.
 *
 * Invariant: on shutdown, idle keep-alive connections close at once and busy ones
 * after their response.
 */
import http from 'node:http';
import type net from 'node:net';
import type { ConnectionHandler } from '../net/listeners.js';
import { busyLines, type Protocol } from '../net/protocol.js';
import type { Services } from '../services.js';
import type { HttpRequest, Route } from './route.js';
import { send } from './route.js';
import { routeModules } from './routes.js';

/** The handler and busy line for the `http` listener. */
export function httpProtocol(services: Services): Protocol {
  const routes = routeModules.map((make) => make(services));
  const log = services.log.child({ component: 'http' });
  const timeoutMs = (services.config?.limits.http_request_timeout_s ?? 10) * 1000;
  return { handler: httpHandler((req, res) => void dispatch(routes, req, res).catch((err: unknown) => failed(log, req, res, err)), timeoutMs), busyLine: busyLines.http };
}

async function dispatch(routes: Route[], req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const request = parseRequest(req);
  if (!request) {
    send(res, 400, 'text/plain; charset=utf-8', 'bad request target\n');
    return;
  }
  for (const route of routes) if (await route(request, res)) return;
  send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
}

function parseRequest(req: http.IncomingMessage): HttpRequest | null {
  const rawHost = req.headers.host ?? '';
  // The Host header names a host, optionally a port; anything else is not used to build URLs.
  const host = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(rawHost) ? rawHost.replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase() : '';
  try {
    return { req, url: new URL(req.url ?? '/', `http://${host || 'localhost'}`), host };
  } catch {
    return null;
  }
}

function failed(log: Services['log'], req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void {
  log.error({ err, method: req.method, path: (req.url ?? '').split('?')[0] }, 'HTTP request failed');
  if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
  else res.destroy();
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
  // A client may half-close right after its request (`printf … | nc`, some probes); its
  // answer, often written after a store lookup, must still reach it before the socket ends.
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true; // in node since 0.x, not in its types
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
    socket.allowHalfOpen = true; // node's http server ends the socket once the answer is out
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
