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

export interface Verification {
  /** The header fields to prepend (each ending in CRLF). */
  headers: string;
  /**
   * The domains this message is proven to come from: the MAIL FROM domain when SPF passed,
   * each domain whose DKIM signature verified, the header From domain when DMARC passed.
   */
  authenticated: Set<string>;
}

export async function verifyMessage(v: VerifyInput): Promise<Verification> {
  const result = await authenticate(v.message, {
    ip: v.ip,
    helo: v.helo,
    sender: v.sender,
    mta: v.hostname,
    resolver: v.resolver as never,
    disableBimi: true, // BIMI is for display in webmail, not part of this check
  });
  const authenticated = new Set<string>();
  const add = (d: string | undefined) => d && authenticated.add(d.toLowerCase().replace(/\.$/, ''));
  if (result.spf && result.spf.status.result === 'pass') add(result.spf.domain);
  for (const r of result.dkim?.results ?? []) if (r.status.result === 'pass') add(r.signingDomain);
  if (result.dmarc && result.dmarc.status.result === 'pass') {
    const header = (result.dmarc.status as { header?: { d?: string; from?: string } }).header;
    add(header?.d ?? header?.from ?? result.dmarc.domain); // d: the header From domain itself, not its organisation's
  }
  return { headers: result.headers.replace(/(\r?\n)*$/, '\r\n'), authenticated };
}
