/**
 * Honest stand-ins until the real IMAP, POP3, SMTP and LMTP servers land: each
 * says in its protocol's own words that it is not available, advertises nothing,
 * and closes. HTTP is real already: `GET /healthz` → 200 `ok`, anything else 404.
 * Replace an entry in server.ts with the real protocol when it exists.
 */
import http from 'node:http';
import type net from 'node:net';
import type { ListenerName } from '../config/schema.js';
import type { ConnectionHandler } from './listeners.js';

/** RFC9051 7.1.5: BYE as greeting refuses the connection. */
const IMAP_GREETING = '* BYE [UNAVAILABLE] Mailroom: IMAP is not available in this version\r\n';
/** RFC2449 8.1.2: SYS/PERM says retrying will not help. */
const POP3_GREETING = '-ERR [SYS/PERM] Mailroom: POP3 is not available in this version\r\n';
/** RFC5321 3.8, 4.2.3: 421 closes the transmission channel. */
const SMTP_GREETING = '421 4.3.2 Mailroom: SMTP is not available in this version\r\n';

/** Lines for a connection over the per-IP limit, in each protocol's words. */
export const busyLines = {
  imap: '* BYE [UNAVAILABLE] Mailroom: too many connections from your address\r\n',
  pop3: '-ERR [SYS/TEMP] Mailroom: too many connections from your address\r\n',
  smtp: '421 4.7.0 Mailroom: too many connections from your address\r\n',
  http: 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n',
} as const;

export interface ProtocolEntry {
  handler: ConnectionHandler;
  busyLine: string;
}

/** The placeholder for one configured listener. */
export function placeholderProtocol(name: ListenerName): ProtocolEntry {
  switch (name) {
    case 'imap':
    case 'imaps':
      return { handler: sayAndClose(IMAP_GREETING), busyLine: busyLines.imap };
    case 'pop3':
    case 'pop3s':
      return { handler: sayAndClose(POP3_GREETING), busyLine: busyLines.pop3 };
    case 'smtp':
    case 'submission':
    case 'submissions':
    case 'lmtp':
      return { handler: sayAndClose(SMTP_GREETING), busyLine: busyLines.smtp };
    case 'http':
      return { handler: httpHandler(healthRoutes), busyLine: busyLines.http };
  }
}

function sayAndClose(line: string): ConnectionHandler {
  return (socket) => {
    socket.end(line);
    // A client that never closes its side must not hold the connection open.
    socket.setTimeout(10_000, () => socket.destroy());
  };
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
 * Serves HTTP on sockets the listener accepted, so HTTP shares the per-IP limit and
 * the graceful shutdown: on shutdown, idle keep-alive connections close at once and
 * busy ones after their response. (http.Server tracks idle connections only when it
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
