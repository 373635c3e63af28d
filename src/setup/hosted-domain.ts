/**
 * Which domain a setup request is about, and whether this server hosts it. Setup
 * documents are only given for hosted domains: they would otherwise point strangers'
 * mail apps at this server.
 */
import { normaliseDomain, parseAddress, type ParsedAddress } from '../mail/address.js';
import type { Store } from '../store/types.js';

/** The parsed address, or null when it is not a mail address. */
export function addressOrNull(text: string | null | undefined): ParsedAddress | null {
  if (!text) return null;
  try {
    return parseAddress(text);
  } catch {
    return null;
  }
}

/** The domain named by a Host header such as `autoconfig.example.org` (prefix stripped), or null. */
export function domainFromHost(host: string, prefixes: readonly string[]): string | null {
  for (const prefix of prefixes) {
    if (host.startsWith(`${prefix}.`)) {
      try {
        return normaliseDomain(host.slice(prefix.length + 1));
      } catch {
        return null;
      }
    }
  }
  return null;
}

export async function isHosted(store: Store, domain: string): Promise<boolean> {
  return (await store.getDomain(domain)) !== null;
}
