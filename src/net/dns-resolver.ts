/**
 * The DNS lookups the server and the CLI make, injectable: node:dns in production, a
 * JSON file of answers (`smtp.dns_file`) for tests and offline use, so tests never
 * touch the network. Answers have node:dns's shapes (TXT: string[][], MX: {exchange,
 * priority}[], SRV: {name, port, priority, weight}[], CNAME/A/AAAA: string[]).
 */
import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';

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
    if (answer === undefined) throw Object.assign(new Error(`query${rrtype} ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return answer;
  };
}

/** The resolver `smtp.dns_file` selects. */
export function configuredResolver(dnsFile: string): DnsResolver {
  return dnsFile ? fileResolver(dnsFile) : systemResolver;
}
