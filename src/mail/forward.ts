/**
 * Forwarding: recipients that resolve to alias targets on other servers
 * (`resolveRecipient(...).remote`) leave through the outbound queue. Used by every
 * caller of `deliver()`: SMTP MX and LMTP (src/smtp/accept.ts) and `mailroom deliver`.
 *
 * Envelope sender rule (no SRS): the original sender is kept only when its domain is
 * one of ours, since only then may this server send mail in its name (SPF). Any other
 * sender is replaced by `postmaster@<domain of the forwarding address>`, so the
 * forward passes the remote's SPF check and a bounce comes back here instead of being
 * misdirected; the null sender stays null (a forwarded bounce must never bounce).
 *
 * Never imports: protocol code. Invariant: resolves only once the entry is durable.
 */
import { enqueue, type DsnNotify, type OutboundDeps } from './outbound.js';
import type { MessageSource } from './message-source.js';

export interface ForwardTarget {
  address: string;
  /** RFC 3461 5.2.7: a forwarded recipient keeps the NOTIFY of the address it came through. */
  notify?: DsnNotify[];
}

export interface ForwardOptions {
  /** The local address whose alias forwards (its domain names the bounce address). */
  via: string;
  envid?: string;
  ret?: 'FULL' | 'HDRS';
  requireTls?: boolean;
  smtpUtf8?: boolean;
  eightBit?: boolean;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/**
 * The envelope sender for forwarding a message from `envelopeFrom` (null: unknown)
 * through the local address `via` (see the header for the rule).
 */
export async function forwardingSender(deps: OutboundDeps, envelopeFrom: string | null, via: string): Promise<string> {
  if (envelopeFrom === '') return ''; // RFC 5321 4.5.5: a bounce stays a bounce
  if (envelopeFrom && envelopeFrom.lastIndexOf('@') > 0 && (await deps.store.getDomain(domainOf(envelopeFrom)))) return envelopeFrom;
  return `postmaster@${domainOf(via)}`; // RFC 5321 4.5.1: every domain here has a postmaster
}

/**
 * Queues `source` for the remote alias targets; resolves with the queue id once durable,
 * or null when there is nobody to forward to. Not DKIM-signed: the original
 * signature stays valid because the bytes are forwarded unchanged.
 */
export async function forwardRemote(deps: OutboundDeps, source: MessageSource, envelopeFrom: string | null, remote: (string | ForwardTarget)[], opts: ForwardOptions): Promise<string | null> {
  const seen = new Map<string, ForwardTarget>();
  for (const t of remote) {
    const target = typeof t === 'string' ? { address: t } : t;
    if (!seen.has(target.address.toLowerCase())) seen.set(target.address.toLowerCase(), target);
  }
  if (seen.size === 0) return null;
  const from = await forwardingSender(deps, envelopeFrom, opts.via);
  const { id } = await enqueue(
    deps,
    source,
    { from, recipients: [...seen.values()], envid: opts.envid, ret: opts.ret, requireTls: opts.requireTls, smtpUtf8: opts.smtpUtf8, eightBit: opts.eightBit },
    { sign: false },
  );
  return id;
}
