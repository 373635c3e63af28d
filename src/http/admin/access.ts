/**
 * Where the admin page is served: over TLS, or over plain HTTP only when both ends of the
 * connection are on this machine (loopback). Anything else gets 403 and a hint, because a
 * session cookie and an admin password must never cross a network in clear text.
 *
 * Behind a PROXY-protocol load balancer the TCP peer is the balancer, not the client, so
 * the page is refused there unless the connection is TLS (reach it through an SSH tunnel
 * to the loopback listener, or a reverse proxy on this machine that terminates TLS).
 */
import net from 'node:net';
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return LOOPBACK.check(v4[1], 'ipv4');
  return LOOPBACK.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
}

export function isTls(req: http.IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true;
}

/** Whether the admin page may answer this request; `behindProxy`: the listener takes PROXY headers. */
export function adminReachable(req: http.IncomingMessage, behindProxy: boolean): boolean {
  if (isTls(req)) return true;
  return !behindProxy && isLoopback(req.socket.remoteAddress) && isLoopback(req.socket.localAddress);
}
