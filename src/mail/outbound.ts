/**
 * The outbound queue's front door: submission, forwarding and bounces call `enqueue`
 * for every message that leaves this server. The message is DKIM-signed (when the
 * From domain has keys, see dkim.ts), stored through `ingest` (so its bytes live in
 * the blob store, referenced by the queue entry: expunging the Sent copy never loses a
 * queued message; a signature is a view in front of the spooled source, not a copy) and queued in the store. `enqueue` resolves only once the entry is
 * durable, so SMTP may answer 250 after it.
 *
 * Never imports: protocol code (src/imap, src/pop3, src/smtp). The workers that drain
 * the queue live in src/smtp/queue/ and learn of new entries through `onEnqueued`.
 */
import type { Config } from '../config/load.js';
import { isStoreError } from '../store/errors.js';
import type { DsnNotify, QueueParams, Store } from '../store/types.js';
import { ingest, type Ingested } from '../ingest.js';
import { dkimSignatures, loadDkimKeys } from './dkim.js';
import { deliveryContext } from './delivery-context.js';
import type { MessageSource } from './message-source.js';

export type { DsnNotify } from '../store/types.js';

/** The SMTP envelope of an outgoing message, with the DSN and extension parameters given at MAIL FROM / RCPT TO. */
export interface OutboundEnvelope {
  /** Envelope sender; '' is the null sender (bounces), which is never bounced. */
  from: string;
  recipients: { address: string; notify?: DsnNotify[]; orcpt?: string }[];
  /** RFC 3461 ENVID */
  envid?: string;
  /** RFC 3461 RET */
  ret?: 'FULL' | 'HDRS';
  /** RFC 8689 REQUIRETLS: never sent without verified TLS; bounced instead. */
  requireTls?: boolean;
  smtpUtf8?: boolean;
  eightBit?: boolean;
}

/** What enqueue needs; the `Services` value every protocol gets satisfies it. */
export interface OutboundDeps {
  store: Store;
  config: Config;
}

export interface EnqueueOptions {
  /** DKIM-sign with the From domain's keys (default true; bounces and already-signed relays pass false). */
  sign?: boolean;
  /** Arrival time for DSNs (default now). */
  arrivalDate?: Date;
}

type Listener = (id: string) => void;
const listeners = new Set<Listener>();

/** Calls `fn` after each durable enqueue in this process (the queue worker's doorbell). Returns an unsubscribe function. */
export function onEnqueued(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Queues one message for remote delivery; resolves with its queue id once it is durable.
 * The bytes are not copied again: the DKIM-Signature is a view in front of the source,
 * and the queue entry references the stored content (whose body blob a local copy of
 * the same spool already shares). The source stays the caller's to dispose.
 */
export async function enqueue(deps: OutboundDeps, source: MessageSource, envelope: OutboundEnvelope, opts: EnqueueOptions = {}): Promise<{ id: string }> {
  const ctx = deliveryContext(deps.store, deps.config);
  let signed = source;
  if (opts.sign !== false) {
    const domain = fromHeaderDomain(await source.head(HEAD_BYTES)) ?? domainOf(envelope.from);
    const keys = domain ? await loadDkimKeys(deps.config.data, domain) : [];
    const signature = await dkimSignatures(keys, () => source.stream());
    if (signature) signed = source.prepend(Buffer.from(signature));
  }
  let item: Ingested = await ingest(deps.store, signed, ctx.ingest);
  const params: QueueParams = { arrivalDate: (opts.arrivalDate ?? new Date()).toISOString() };
  if (envelope.envid !== undefined) params.envid = envelope.envid;
  if (envelope.ret !== undefined) params.ret = envelope.ret;
  if (envelope.requireTls) params.requireTls = true;
  if (envelope.smtpUtf8) params.smtpUtf8 = true;
  if (envelope.eightBit) params.eightBit = true;
  for (let attempt = 0; ; attempt++) {
    try {
      const entry = await deps.store.enqueueMessage({ content: item.content, from: envelope.from, recipients: envelope.recipients, params });
      for (const fn of listeners) fn(entry.id);
      return { id: entry.id };
    } catch (err) {
      // The content was released by a concurrent expunge between ingest and enqueue.
      if (!isStoreError(err, 'notfound') || attempt >= 2) throw err;
      item = await item.fresh();
    }
  }
}

const HEAD_BYTES = 64 * 1024;

/** The domain of the (first) From header address: the DKIM d= that DMARC aligns with. */
export function fromHeaderDomain(head: Buffer): string | null {
  const end = head.indexOf('\r\n\r\n');
  const text = head.subarray(0, end >= 0 ? end : head.length).toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  const line = /^from:(.*)$/im.exec(text)?.[1];
  if (!line) return null;
  const addr = /<([^<>]*@[^<>]*)>/.exec(line)?.[1] ?? /([^\s,;:<>"]+@[^\s,;:<>"]+)/.exec(line)?.[1];
  return addr ? domainOf(addr) : null;
}

function domainOf(address: string): string | null {
  const at = address.lastIndexOf('@');
  return at > 0 && at < address.length - 1 ? address.slice(at + 1).toLowerCase() : null;
}
