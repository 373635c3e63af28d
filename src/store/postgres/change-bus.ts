/**
 * Change doorbells across nodes: a ChangeBus that also LISTENs on the channel every
 * PostgresStore NOTIFYs inside its write transactions. Local events (published by this
 * process's store after commit) fire at once; events from other nodes arrive through
 * NOTIFY, which PostgreSQL delivers only on commit. The payload carries the sender's
 * `origin` so a node never fires its own events twice.
 *
 * Invariants: the LISTEN connection reconnects by itself (backoff up to 5 s); events
 * lost while it is down only delay sessions (the change log is the truth), and on
 * reconnect `onReconnect` listeners are told so they can re-check.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { LocalChangeBus, type ChangeBus, type ChangeEvent, type ChangeListener } from '../bus.js';

/** The NOTIFY channel every node LISTENs on (PostgresStore NOTIFYs inside its write transactions). */
export const CHANGE_CHANNEL = 'mailroom_changes';

const KINDS = new Set(['append', 'expunge', 'flags', 'mailbox-created', 'mailbox-renamed', 'mailbox-deleted', 'subscription', 'credentials']);

/** Parses a NOTIFY payload; null for anything that is not a well-formed event. */
export function parseChangePayload(payload: string | undefined): (ChangeEvent & { origin: string }) | null {
  try {
    const v = JSON.parse(payload ?? '') as Record<string, unknown>;
    if (!KINDS.has(v.kind as string) || !Number.isSafeInteger(v.userId) || !Number.isSafeInteger(v.mailboxId) || !Number.isSafeInteger(v.modSeq)) return null;
    return { kind: v.kind as ChangeEvent['kind'], userId: v.userId as number, mailboxId: v.mailboxId as number, modSeq: v.modSeq as number, origin: String(v.origin ?? '') };
  } catch {
    return null;
  }
}

export class PostgresChangeBus implements ChangeBus {
  /** Names this process in payloads; PostgresStore picks it up from the bus it is given. */
  readonly origin = randomUUID();
  private readonly local = new LocalChangeBus();
  private client: pg.Client | null = null;
  private closed = false;
  private backoffMs = 250;
  private timer: NodeJS.Timeout | undefined;
  private connected: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly onState: (state: 'listening' | 'lost', err?: Error) => void = () => {},
  ) {}

  /** Starts listening; resolves once LISTEN is active (or the first attempt failed and a retry is scheduled). */
  start(): Promise<void> {
    this.connected ??= this.connect();
    return this.connected;
  }

  publish(event: ChangeEvent): void {
    this.local.publish(event);
  }

  subscribe(userId: number, listener: ChangeListener): () => void {
    return this.local.subscribe(userId, listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000, keepAlive: true });
    client.on('notification', (msg) => {
      const event = parseChangePayload(msg.payload);
      if (event && event.origin !== this.origin) {
        const { origin: _origin, ...doorbell } = event;
        this.local.publish(doorbell);
      }
    });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      this.onState('lost', err);
      client.end().catch(() => undefined);
      this.retry();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (this.closed) {
        await client.end();
        return;
      }
      this.client = client;
      this.backoffMs = 250;
      this.onState('listening');
    } catch (err) {
      client.end().catch(() => undefined);
      this.onState('lost', err as Error);
      this.retry();
    }
  }

  private retry(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.backoffMs);
    this.timer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, 5_000);
  }
}
