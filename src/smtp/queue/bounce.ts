/**
 * Sends DSNs about queued messages to their senders: into the sender's INBOX when the
 * sender is local (deliver()), else through the queue with the null sender. Honours
 * RFC 3461 NOTIFY and RET, and never reports on a message sent with the null sender
 * (RFC 5321 4.5.5: no bounce of a bounce).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../../config/load.js';
import { deliver, type DeliveryContext } from '../../mail/delivery.js';
import { buildDsn, headerBlock, type DsnRecipient } from '../../mail/dsn.js';
import { enqueue } from '../../mail/outbound.js';
import { MessageSource } from '../../mail/message-source.js';
import { Readable } from 'node:stream';
import type { DsnNotify, QueueEntry, Store } from '../../store/types.js';

export interface BounceDeps {
  store: Store;
  config: Config;
  delivery: DeliveryContext;
  log: Logger;
}

/** Returned whole by default up to this size; larger originals come back as headers only. */
const FULL_RETURN_LIMIT = 1024 * 1024;
const HEAD_LIMIT = 256 * 1024;

/** RFC 3461 4.1: without NOTIFY, failures and delays are reported. */
export function wants(notify: DsnNotify[] | undefined, what: 'FAILURE' | 'DELAY' | 'SUCCESS'): boolean {
  if (!notify || notify.length === 0) return what !== 'SUCCESS';
  return notify.includes(what);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Sends one DSN about `recipients` of `entry`; returns false when nothing was sent (null sender, NOTIFY). */
export async function sendDsn(deps: BounceDeps, entry: QueueEntry, recipients: DsnRecipient[]): Promise<boolean> {
  if (entry.from === '') return false; // RFC 3461 6.2 / RFC 5321 4.5.5: never about a DSN
  const byAddress = new Map(entry.recipients.map((r) => [r.address.toLowerCase(), r]));
  const kind = (a: DsnRecipient['action']) => (a === 'failed' ? 'FAILURE' : a === 'delayed' ? 'DELAY' : 'SUCCESS');
  const chosen = recipients.filter((r) => wants(byAddress.get(r.address.toLowerCase())?.notify, kind(r.action)));
  if (chosen.length === 0) return false;
  for (const r of chosen) r.orcpt ??= byAddress.get(r.address.toLowerCase())?.orcpt;
  const headersOnly = entry.params.ret === 'HDRS' || (entry.params.ret !== 'FULL' && entry.size > FULL_RETURN_LIMIT);
  const original = headersOnly
    ? Readable.from([headerBlock(await readAll(await deps.store.openContent(entry.contentId, 0, Math.min(entry.size, HEAD_LIMIT))))])
    : await deps.store.openContent(entry.contentId);
  // Same entry, recipients and actions → same Message-ID: a DSN repeated after a crash is recognisably one report.
  const key = chosen.map((r) => `${r.address.toLowerCase()}:${r.action}`).sort().join(',');
  const messageId = `dsn.${entry.id}.${createHash('sha256').update(key).digest('hex').slice(0, 16)}@${deps.config.hostname}`;
  const built = buildDsn({
      messageId,
      reportingMta: deps.config.hostname,
      to: entry.from,
      envid: entry.params.envid,
      arrivalDate: entry.params.arrivalDate ? new Date(entry.params.arrivalDate) : entry.createdAt,
      recipients: chosen,
      original,
      headersOnly,
    });
  // The report is spooled once (a RET=FULL one carries the whole original) and read by ingest from there.
  const dsn = await MessageSource.fromStream(built, deps.delivery.ingest.spoolDir, { prefix: 'dsn' });
  try {
    return await sendBuilt(deps, entry, dsn);
  } finally {
    await dsn.dispose();
  }
}

async function sendBuilt(deps: BounceDeps, entry: QueueEntry, dsn: MessageSource): Promise<boolean> {
  const domain = entry.from.slice(entry.from.lastIndexOf('@') + 1);
  if (await deps.store.getDomain(domain).catch(() => null)) {
    const [outcome] = await deliver(deps.delivery, dsn, [entry.from]);
    if (outcome.status !== 'delivered') deps.log.warn({ queueId: entry.id, to: entry.from, reason: outcome.reason }, 'DSN not deliverable to the local sender; dropped');
    return outcome.status === 'delivered';
  }
  const { id } = await enqueue(deps, dsn, { from: '', recipients: [{ address: entry.from, notify: ['NEVER'] }] });
  deps.log.info({ queueId: entry.id, dsnId: id, to: entry.from }, 'DSN queued');
  return true;
}
