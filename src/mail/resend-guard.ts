/**
 * Re-send guard: a client that did not see our 250 or APPEND OK (it gave up, or the
 * connection broke between storing and replying) sends the message again. Within a short
 * window, the same message from the same sender is answered 250 again but not
 * stored twice.
 *
 * "The same message from the same sender" is its Message-ID plus, on submission,
 * the authenticated user; on the MX and LMTP (no login), the client IP, MAIL FROM
 * and the recipients. A message without a Message-ID is never deduplicated.
 *
 * Bounded: at most `maxEntries` keys, each kept `windowMs`; the oldest go first.
 * Only a message whose every copy was stored or queued is remembered, so a re-send
 * after a partial failure is delivered again (a duplicate is better than a loss).
 */

export interface ResendKeyParts {
  mode: 'mx' | 'submission' | 'lmtp';
  messageId: string | undefined;
  /** Submission: the authenticated user's id. */
  userId?: number | string;
  remoteAddress: string;
  mailFrom: string;
  recipients: string[];
}

/** The key for a message, or undefined when it cannot be recognised again (no Message-ID). */
export function resendKey(p: ResendKeyParts): string | undefined {
  if (!p.messageId) return undefined;
  const who = p.mode === 'submission' && p.userId !== undefined ? `user:${p.userId}` : `ip:${p.remoteAddress}|from:${p.mailFrom.toLowerCase()}|to:${[...p.recipients].map((r) => r.toLowerCase()).sort().join(',')}`;
  return `${p.mode === 'submission' ? 'submission' : 'relay'}|${who}|${p.messageId}`;
}

/** The Message-ID field of a header block (unfolded, trimmed), if there is one. */
export function messageIdOf(head: Buffer): string | undefined {
  const end = head.indexOf('\r\n\r\n');
  const header = head.subarray(0, end < 0 ? head.length : end + 2).toString('latin1');
  const m = /^Message-ID:[ \t]*((?:[^\r\n]|\r\n[ \t])*)/im.exec(header);
  const value = m?.[1].replace(/\r\n[ \t]+/g, ' ').trim();
  return value ? value : undefined;
}

export class ResendGuard {
  private readonly seen = new Map<string, { id: string; until: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The queue id given to an earlier copy of this message, if it was accepted within the window. */
  earlier(key: string | undefined): string | undefined {
    if (!key || this.windowMs <= 0) return undefined;
    const hit = this.seen.get(key);
    if (!hit) return undefined;
    if (hit.until <= this.now()) {
      this.seen.delete(key);
      return undefined;
    }
    return hit.id;
  }

  /** Remembers an accepted message under its key. */
  remember(key: string | undefined, id: string): void {
    if (!key || this.windowMs <= 0) return;
    const now = this.now();
    this.seen.delete(key); // re-inserted at the end: Map order is age order
    this.seen.set(key, { id, until: now + this.windowMs });
    for (const [k, v] of this.seen) {
      if (this.seen.size <= this.maxEntries && v.until > now) break;
      this.seen.delete(k);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}

/**
 * The one guard of a server (keyed by its services object): every SMTP-family listener
 * and IMAP APPEND share it, so a re-send over another port (587 → 465) is recognised
 * too. Keys of different protocols never meet (each key names its protocol).
 */
const guards = new WeakMap<object, ResendGuard>();
export function resendGuardOf(services: { config: { smtp: { resend_window_s: number } } }): ResendGuard {
  let g = guards.get(services);
  if (!g) guards.set(services, (g = new ResendGuard(services.config.smtp.resend_window_s * 1000)));
  return g;
}
