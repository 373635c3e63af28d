/**
 * SPF, DKIM, DMARC and ARC verification of inbound MX mail with mailauth, giving
 * the `Authentication-Results:` (RFC 8601) and `Received-SPF:` fields to prepend.
 * The DNS resolver is injectable (src/net/dns-resolver.ts), so tests never touch the network.
 *
 * A verification failure (DNS timeouts…) never loses mail: the message is accepted
 * with whatever results came back (temperror), as other MTAs do.
 */
import type { Readable } from 'node:stream';
import { authenticate } from 'mailauth';
import type { DnsResolver } from '../net/dns-resolver.js';

export { fileResolver, systemResolver, type DnsResolver } from '../net/dns-resolver.js';

export interface VerifyInput {
  message: Readable;
  ip: string;
  helo: string;
  /** MAIL FROM ('' for the null sender). */
  sender: string;
  /** authserv-id in the header: this server's host name. */
  hostname: string;
  resolver: DnsResolver;
}

/** Returns the header fields to prepend (each ending in CRLF). */
export async function verifyMessage(v: VerifyInput): Promise<string> {
  const result = await authenticate(v.message, {
    ip: v.ip,
    helo: v.helo,
    sender: v.sender,
    mta: v.hostname,
    resolver: v.resolver as never,
    disableBimi: true, // BIMI is for display in webmail, not part of this check
  });
  return result.headers.replace(/(\r?\n)*$/, '\r\n');
}
