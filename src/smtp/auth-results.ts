/**
 * SPF, DKIM, DMARC and ARC verification of inbound MX mail with mailauth, giving
 * the `Authentication-Results:` (RFC 8601) and `Received-SPF:` fields to prepend.
 * The DNS resolver is injectable: node:dns in production, a JSON file of answers
 * (`smtp.dns_file`) for tests and offline use, so tests never touch the network.
 *
 * A verification failure (DNS timeouts…) never loses mail: the message is accepted
 * with whatever results came back (temperror), as other MTAs do.
 */
import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { authenticate } from 'mailauth';

export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

/** The system resolver, shaped as mailauth expects (`dns.resolve`). */
export const systemResolver: DnsResolver = (name, rrtype) => dns.resolve(name, rrtype);

/**
 * A resolver answering from a JSON file: `{ "example.test": { "TXT": [["v=spf1 ip4:127.0.0.1 -all"]] } }`.
 * Names are matched case-insensitively; anything missing is ENOTFOUND, as from DNS.
 */
export function fileResolver(path: string): DnsResolver {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>;
  const table = new Map(Object.entries(raw).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  return async (name, rrtype) => {
    const answer = table.get(name.toLowerCase().replace(/\.$/, ''))?.[rrtype.toUpperCase()];
    if (answer === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return answer;
  };
}

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
