/**
 * The queue worker: claims due entries with a lease, groups their pending recipients
 * by destination (domain, or the smarthost), delivers each group over one connection,
 * records every recipient's result right after the remote's reply, then per entry:
 * bounce what failed, notify a long delay once, reschedule with backoff, or finish.
 *
 * Invariants: a result is recorded before the next transaction starts, so a crash
 * repeats at most the transaction in flight (at-least-once), never one whose 250 was
 * recorded. A DSN owed (bounce, or "relayed" for NOTIFY=SUCCESS past a server without
 * DSN) is recorded in the same store call as the result and cleared only after the DSN
 * was handed on, so a crash repeats a DSN at worst, never loses one. A REQUIRETLS message goes only over verified TLS to a server that offers
 * REQUIRETLS (RFC 8689 4.2.1). Never imports: other protocol sessions, SQL.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../../config/load.js';
import type { DeliveryContext } from '../../mail/delivery.js';
import type { DsnAction, DsnRecipient } from '../../mail/dsn.js';
import type { QueueEntry, QueueRecipient, QueueRecipientResult, Store } from '../../store/types.js';
import { logDelivery } from '../../log/delivery-log.js';
import { sendDsn, wants } from './bounce.js';
import { SmtpClient, SmtpClientError } from './client.js';
import { parseRoutes, routeFor, type Hop, type QueueResolver } from './routes.js';

export interface WorkerDeps {
  store: Store;
  config: Config;
  delivery: DeliveryContext;
  log: Logger;
}

export interface WorkerOptions {
  resolver: QueueResolver;
  now?: () => Date;
}

interface Job {
  entry: QueueEntry;
  recipients: QueueRecipient[];
}

/** Next wait after `attempts` finished attempts: initial × 2^attempts, capped. */
export function backoffMs(attempts: number, initialS: number, maxS: number): number {
  return Math.min(initialS * 2 ** Math.min(attempts, 30), maxS) * 1000;
}

/**
 * The enhanced status code in a reply (RFC 3463), or a default for the reply's class.
 * A code whose class contradicts the reply code (a remote saying `250 5.1.1`) is ignored.
 */
export function statusOf(code: number | null, text: string): string {
  const cls = code !== null && code >= 200 && code < 600 ? String(Math.floor(code / 100)) : null;
  const m = /(?:^|[\s-])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])/.exec(text);
  // RFC 3463 2: the class digit of the enhanced code agrees with the reply's first digit.
  if (m && (cls === null || m[1] === cls) && !(cls === null && m[1] === '2')) return `${m[1]}.${Number(m[2])}.${Number(m[3])}`;
  if (cls === '2' || cls === '5') return `${cls}.0.0`;
  return '4.0.0';
}

export class QueueWorker {
  readonly owner = `worker-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly now: () => Date;
  private readonly routes: ReturnType<typeof parseRoutes>;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly opts: WorkerOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
    this.routes = parseRoutes(deps.config.queue.routes);
  }

  /** Claims and works due entries until none is left; returns how many entries were worked. */
  async runOnce(): Promise<number> {
    const q = this.deps.config.queue;
    const limit = q.concurrency * 8;
    let total = 0;
    for (;;) {
      const entries = await this.deps.store.claimQueueEntries(this.owner, this.now(), q.lease_s * 1000, limit);
      if (entries.length === 0) return total;
      total += entries.length;
      await this.work(entries); // and again: a pass may queue new entries (DSNs to remote senders)
    }
  }

  private async work(entries: QueueEntry[]): Promise<void> {
    const groups = new Map<string, Job[]>();
    for (const entry of entries) {
      const byDomain = new Map<string, QueueRecipient[]>();
      for (const r of entry.recipients.filter((x) => x.state === 'pending')) {
        const key = this.deps.config.queue.smarthost ? '' : r.address.slice(r.address.lastIndexOf('@') + 1).toLowerCase();
        byDomain.set(key, [...(byDomain.get(key) ?? []), r]);
      }
      for (const [key, recipients] of byDomain) groups.set(key, [...(groups.get(key) ?? []), { entry, recipients }]);
    }
    const queue = [...groups];
    const lanes = Array.from({ length: Math.min(this.deps.config.queue.concurrency, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await this.deliverGroup(next[0], next[1]);
    });
    await Promise.all(lanes);
    for (const entry of entries) await this.finish(entry.id);
  }

  private async hopsFor(domain: string): Promise<{ hops: Hop[] } | { error: string; permanent: boolean; status: string }> {
    const smarthost = this.deps.config.queue.smarthost;
    if (smarthost) {
      const [host, port] = [smarthost.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''), Number(/:(\d+)$/.exec(smarthost)?.[1] ?? 587)];
      return { hops: [{ name: host, address: host, port }] };
    }
    return routeFor(domain, this.opts.resolver, { port: this.deps.config.queue.remote_port, routes: this.routes });
  }

  private async deliverGroup(domain: string, jobs: Job[]): Promise<void> {
    const route = await this.hopsFor(domain);
    if ('error' in route) {
      for (const j of jobs) await this.record(j, j.recipients.map((r) => this.result(r, route.permanent ? 'failed' : 'pending', route.status, route.error, null)));
      return;
    }
    let client: SmtpClient | null = null;
    let lastError = 'no host to connect to';
    for (const hop of route.hops) {
      try {
        client = await SmtpClient.connect(this.connectOptions(hop));
        break;
      } catch (err) {
        lastError = `${hop.name} [${hop.address}]:${hop.port}: ${(err as Error).message}`;
        // A 5xx greeting or AUTH refusal from the smarthost is the operator's problem: keep retrying.
      }
    }
    if (!client) {
      for (const j of jobs) await this.record(j, j.recipients.map((r) => this.result(r, 'pending', '4.4.1', lastError, null)));
      return;
    }
    try {
      for (let i = 0; i < jobs.length; i++) {
        const alive = await this.sendJob(client, jobs[i]);
        if (!alive) {
          for (const j of jobs.slice(i + 1)) await this.record(j, j.recipients.map((r) => this.result(r, 'pending', '4.4.2', 'connection lost', client!.hop.name)));
          return;
        }
      }
    } finally {
      client.close();
    }
  }

  private connectOptions(hop: Hop) {
    const q = this.deps.config.queue;
    const smart = q.smarthost !== '';
    return {
      hop,
      clientName: this.deps.config.hostname,
      timeoutMs: q.connect_timeout_ms,
      tls: smart ? q.smarthost_tls : ('opportunistic' as const),
      verify: smart ? q.smarthost_tls_verify : false,
      auth: smart && q.smarthost_user ? { user: q.smarthost_user, pass: q.smarthost_password } : undefined,
    };
  }

  /** Sends one entry's recipients for this destination; false when the connection died. */
  private async sendJob(client: SmtpClient, job: Job): Promise<boolean> {
    const { entry } = job;
    const mta = client.hop.name;
    if (entry.params.requireTls && !(client.tlsVerified && client.supports('REQUIRETLS'))) {
      // RFC 8689 4.2.1: no verified TLS with REQUIRETLS support → do not send; bounce.
      const why = 'REQUIRETLS: the receiving server offers no verified TLS with REQUIRETLS';
      await this.record(job, job.recipients.map((r) => this.result(r, 'failed', '5.7.10', why, mta)));
      return true;
    }
    // RFC 3461 5.2.2: a server without DSN cannot report success; we send "relayed" ourselves.
    const relaysSuccess = !client.supports('DSN');
    // NOTIFY is per RCPT but nodemailer takes one per transaction: group recipients by it.
    const byNotify = new Map<string, QueueRecipient[]>();
    for (const r of job.recipients) byNotify.set((r.notify ?? []).join(','), [...(byNotify.get((r.notify ?? []).join(',')) ?? []), r]);
    for (const [notify, rcpts] of byNotify) {
      const content = await this.deps.store.openContent(entry.contentId);
      try {
        const res = await client.send(
          {
            from: entry.from,
            to: rcpts.map((r) => r.address),
            size: entry.size,
            use8BitMime: entry.params.eightBit,
            requireTls: entry.params.requireTls,
            dsn: { ret: entry.params.ret, envid: entry.params.envid, notify: notify ? notify.split(',') : undefined, orcpt: rcpts.length === 1 ? rcpts[0].orcpt : undefined },
          },
          content,
        );
        const refused = new Map(res.rejected.map((x) => [x.address.toLowerCase(), x]));
        await this.record(job, rcpts.map((r) => {
          const no = refused.get(r.address.toLowerCase());
          if (!no) return this.result(r, 'delivered', statusOf(250, res.response), res.response, mta, relaysSuccess && wants(r.notify, 'SUCCESS'));
          return this.result(r, no.code >= 500 ? 'failed' : 'pending', statusOf(no.code, no.response), no.response, mta);
        }));
      } catch (err) {
        content.destroy();
        const e = err instanceof SmtpClientError ? err : new SmtpClientError((err as Error).message, null, (err as Error).message);
        const permanent = e.responseCode !== null && e.responseCode >= 500;
        await this.record(job, rcpts.map((r) => this.result(r, permanent ? 'failed' : 'pending', statusOf(e.responseCode, e.response), e.response, mta)));
        if (e.responseCode === null) return false;
        await client.reset();
      }
    }
    return true;
  }

  /** One recipient's result; a failure owes a bounce unless NOTIFY says otherwise, a success only when asked (`relayed`). */
  private result(r: QueueRecipient, state: QueueRecipientResult['state'], status: string, text: string, remoteMta: string | null, relayed = false): QueueRecipientResult {
    const dsn = state === 'failed' ? wants(r.notify, 'FAILURE') : state === 'delivered' && relayed;
    return { address: r.address, state, status, result: text.replace(/[\r\n]+/g, ' ').slice(0, 1000), remoteMta, dsn };
  }

  private async record(job: Job, results: QueueRecipientResult[]): Promise<void> {
    const at = this.now();
    // The null sender gets no DSN (RFC 5321 4.5.5), so none is owed.
    if (job.entry.from === '') results = results.map((r) => ({ ...r, dsn: false }));
    await this.deps.store.recordQueueResults(job.entry.id, results, at);
    for (const r of results) {
      const result = r.state === 'delivered' ? 'delivered' : r.state === 'failed' ? 'bounced' : 'deferred';
      logDelivery(this.deps.log, { queueId: job.entry.id, from: job.entry.from, to: r.address, size: job.entry.size, relay: r.remoteMta, result, status: r.status, detail: r.result });
    }
  }

  /** After an attempt: bounce, delay-notify, reschedule or delete. */
  private async finish(id: string): Promise<void> {
    const q = this.deps.config.queue;
    let entry = await this.deps.store.getQueueEntry(id);
    if (!entry) return;
    const now = this.now();
    const age = now.getTime() - entry.createdAt.getTime();
    const pending = () => entry!.recipients.filter((r) => r.state === 'pending');
    if (pending().length && age >= q.max_age_s * 1000) {
      const job = { entry, recipients: pending() };
      await this.record(job, job.recipients.map((r) => this.result(r, 'failed', '4.4.7', `message expired after ${Math.round(age / 3600000)} hours; last result: ${r.lastResult ?? 'none'}`, r.remoteMta)));
      entry = (await this.deps.store.getQueueEntry(id))!;
    }
    const owedSent = await this.sendOwedDsns(entry);
    const still = pending();
    if (still.length === 0 && owedSent) {
      await this.deps.store.deleteQueueEntry(id);
      return;
    }
    let delayNotifiedAt: Date | undefined;
    if (q.delay_notify_after_s > 0 && !entry.delayNotifiedAt && age >= q.delay_notify_after_s * 1000) {
      const until = new Date(entry.createdAt.getTime() + q.max_age_s * 1000);
      await this.notify(entry, still.map((r) => ({ address: r.address, action: 'delayed', status: r.status?.startsWith('4') ? r.status : '4.0.0', remoteMta: r.remoteMta, diagnostic: r.lastResult, lastAttempt: r.updatedAt, willRetryUntil: until })));
      delayNotifiedAt = now;
    }
    const next = new Date(now.getTime() + backoffMs(entry.attempts, q.retry_initial_s, q.retry_max_s));
    await this.deps.store.releaseQueueEntry(id, this.owner, { nextAttemptAt: next, lastError: still[0]?.lastResult ?? 'a DSN could not be sent yet', delayNotifiedAt });
  }

  /**
   * Sends the DSNs the store says are owed (this attempt's, or a crashed worker's) and
   * clears them; false when one could not be sent (kept for the next attempt).
   */
  private async sendOwedDsns(entry: QueueEntry): Promise<boolean> {
    const owed = entry.recipients.filter((r) => r.dsnPending);
    if (owed.length === 0) return true;
    const action = (r: QueueRecipient): DsnAction => (r.state === 'failed' ? 'failed' : 'relayed');
    const report: DsnRecipient[] = owed.map((r) => ({
      address: r.address,
      action: action(r),
      status: r.status ?? (r.state === 'failed' ? '5.0.0' : '2.0.0'),
      remoteMta: r.remoteMta,
      diagnostic: r.lastResult,
      lastAttempt: r.updatedAt,
    }));
    try {
      await sendDsn(this.deps, entry, report);
    } catch (err) {
      this.deps.log.error({ err, queueId: entry.id }, 'could not send a DSN; kept for the next attempt');
      return false;
    }
    await this.deps.store.clearQueueDsn(entry.id, owed.map((r) => r.address));
    return true;
  }

  private async notify(entry: QueueEntry, recipients: DsnRecipient[]): Promise<void> {
    try {
      await sendDsn(this.deps, entry, recipients);
    } catch (err) {
      this.deps.log.error({ err, queueId: entry.id }, 'could not send a DSN');
    }
  }
}
