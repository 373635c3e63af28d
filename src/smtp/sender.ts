/**
 * Which sender addresses (MAIL FROM, header From and Sender) an authenticated submitter
 * may use: their own address, their own sub-addresses (`user+tag@`), exact aliases that
 * reach them, and what their `send.as` setting lists. A domain catch-all does not count
 * (it would let a user send as anyone@domain).
 */
import type { Store, User } from '../store/types.js';
import { AddressError, parseAddress, subaddressBase } from '../mail/address.js';
import { resolveRecipient } from '../mail/recipients.js';
import { allowedBySendAs } from '../mail/send-as-setting.js';

export async function isOwnAddress(store: Store, user: User, sender: string): Promise<boolean> {
  if (sender === '') return false;
  let parsed;
  try {
    parsed = parseAddress(sender);
  } catch (err) {
    if (err instanceof AddressError) return false;
    throw err;
  }
  const own = parseAddress(user.address);
  const same = (local: string) => local.toLowerCase() === own.local.toLowerCase() && parsed.domain === own.domain;
  if (same(parsed.local) || same(subaddressBase(parsed.local, '+') ?? '')) return true;
  if (allowedBySendAs(user, parsed.local, parsed.domain)) return true;
  const exact = (await store.aliasTargets(parsed.address)).length > 0 || (await store.aliasTargets(`${subaddressBase(parsed.local, '+') ?? parsed.local}@${parsed.domain}`)).length > 0;
  if (!exact) return false;
  const r = await resolveRecipient(store, parsed.address);
  return !!r?.users.some((u) => u.id === user.id);
}
