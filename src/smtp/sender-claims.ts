/**
 * Who a message claims to be from, and whether that claim may be believed:
 * - submission: every address in the header From and Sender must be the logged-in user's
 *   (src/smtp/sender.ts), else `550 5.7.1` after DATA;
 * - MX: a message claiming one of our own domains (MAIL FROM, or header From) comes from
 *   outside, so that domain must be authenticated for it: SPF passed for it, a DKIM
 *   signature of it verified, or DMARC passed for the header From (relaxed alignment: a
 *   subdomain of an authenticated domain counts). Else it is refused or, as configured
 *   (`smtp.local_sender_policy`), filed into Junk.
 */
import { readHeaderBlock, unfold } from '../mime/header-block.js';
import { parseAddressList } from '../mime/address.js';
import { AddressError, normaliseDomain } from '../mail/address.js';
import type { Store, User } from '../store/types.js';
import { isOwnAddress } from './sender.js';

/** The addresses in the header's From and Sender fields (latin1 values; RFC 5322 3.6.2). */
export function headerSenders(head: Buffer): string[] {
  const block = readHeaderBlock(head, 0, null);
  const out: string[] = [];
  for (const f of block.fields) {
    const name = f.name.toLowerCase();
    if ((name !== 'from' && name !== 'sender') || f.value === null) continue;
    for (const a of parseAddressList(unfold(f.value)) ?? []) {
      if (a.mailbox !== null && a.host !== null) out.push(`${a.mailbox}@${a.host}`);
    }
  }
  return out;
}

/** Submission: the first header sender the user may not use, or undefined when all are theirs. */
export async function foreignHeaderSender(store: Store, user: User, head: Buffer): Promise<string | undefined> {
  for (const address of headerSenders(head)) if (!(await isOwnAddress(store, user, address))) return address;
  return undefined;
}

/** The domain of an address, normalised, or undefined when it has none worth checking. */
function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  try {
    return normaliseDomain(address.slice(at + 1));
  } catch (err) {
    if (err instanceof AddressError) return undefined;
    throw err;
  }
}

/** MX: our own domains the message claims (MAIL FROM, header From and Sender), each once. */
export async function claimedLocalDomains(store: Pick<Store, 'getDomain'>, mailFrom: string, head: Buffer): Promise<string[]> {
  const domains = new Set<string>();
  for (const a of [mailFrom, ...headerSenders(head)]) {
    const d = domainOf(a);
    if (d) domains.add(d);
  }
  const local: string[] = [];
  for (const d of domains) if ((await store.getDomain(d)) !== null) local.push(d);
  return local;
}

/** Whether `domain` is authenticated: one of `authenticated` or a subdomain of one (relaxed alignment). */
export function isAuthenticated(domain: string, authenticated: ReadonlySet<string>): boolean {
  for (const d of authenticated) if (domain === d || domain.endsWith(`.${d}`)) return true;
  return false;
}
