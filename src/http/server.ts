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
  return { handler: httpHandler((req, res) => void dispatch(routes, req, res).catch((err: unknown) => failed(log, req, res, err))), busyLine: busyLines.http };
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
 * listens itself, so busy-ness is counted here.)
 */
export function httpHandler(routes: http.RequestListener): ConnectionHandler {
  let closing = false;
  const inFlight = new Map<net.Socket, number>();
  const server = http.createServer((req, res) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (closing && left === 0) socket.end();
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
    socket.once('close', () => inFlight.delete(socket));
    server.emit('connection', socket);
  };
}
