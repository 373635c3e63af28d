/**
 * The channel binding a SCRAM -PLUS exchange binds to: tls-exporter (RFC 9266) on TLS 1.3,
 * tls-unique (RFC 5929 3) on TLS 1.2. tls-unique is the first Finished message of the
 * latest handshake: the client's in a full handshake, ours in an abbreviated (resumed) one.
 * Never imports: store, protocols.
 */
import type net from 'node:net';
import tls from 'node:tls';
import type { ChannelBinding } from './scram.js';

export function channelBindingOf(socket: net.Socket): ChannelBinding | null {
  if (!(socket instanceof tls.TLSSocket) || !socket.encrypted) return null;
  if (socket.getProtocol() === 'TLSv1.3') {
    return { type: 'tls-exporter', data: socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)) };
  }
  const finished = socket.isSessionReused() ? socket.getFinished() : socket.getPeerFinished();
  return finished ? { type: 'tls-unique', data: finished } : null;
}
