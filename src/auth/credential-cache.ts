/**
 * Verified-credential cache, as Dovecot's auth_cache: after a password was checked
 * against a stored hash, the same (user, password, stored hash) is accepted without
 * another scrypt for a short time. A POP3 client polling every minute, or a phone
 * opening five IMAP connections, then costs one hash per TTL instead of one per login.
 *
 * Never imports: store, protocols, config.
 * Invariants:
 * - Neither the password nor a plain hash of it is kept: the key is
 *   HMAC-SHA256(per-process random secret, userId ‖ 0x00 ‖ password ‖ 0x00 ‖ stored hash).
 *   The secret never leaves memory, so a heap dump gives no offline guessing oracle
 *   cheaper than the stored scrypt hash itself.
 * - The stored hash is part of the key: a new password (new salt, new hash) misses at
 *   once, in every process, without being told.
 * - Only successes are remembered; a wrong password always costs a real hash.
 * - Bounded: at most `size` entries (least recently used dropped first), each valid
 *   for `ttlMs` after it was verified (a hit does not extend it).
 */
import { createHmac, randomBytes } from 'node:crypto';

export interface CredentialCacheOptions {
  /** Entries kept at most; 0 turns the cache off. */
  size: number;
  /** How long a verification stays valid, in ms; 0 turns the cache off. */
  ttlMs: number;
  /** Injectable clock for tests. */
  now?: () => number;
}

interface Entry {
  expires: number;
  userId: number;
}

export class CredentialCache {
  private readonly entries = new Map<string, Entry>(); // insertion order = LRU order
  private readonly secret = randomBytes(32);
  private readonly size: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: CredentialCacheOptions) {
    this.size = Math.max(0, options.size);
    this.ttlMs = Math.max(0, options.ttlMs);
    this.now = options.now ?? Date.now;
  }

  /** Whether this password was verified against this stored hash within the TTL. */
  has(userId: number, password: string, storedHash: string): boolean {
    if (!this.enabled) return false;
    const key = this.key(userId, password, storedHash);
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    if (entry.expires <= this.now()) return false;
    this.entries.set(key, entry); // most recently used goes last
    return true;
  }

  /** Records a successful verification. Never call it for a failed one. */
  remember(userId: number, password: string, storedHash: string): void {
    if (!this.enabled) return;
    const key = this.key(userId, password, storedHash);
    this.entries.delete(key);
    while (this.entries.size >= this.size) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { expires: this.now() + this.ttlMs, userId });
  }

  /** Drops every entry of a user (password changed or user deleted in this process). */
  forgetUser(userId: number): void {
    for (const [key, entry] of this.entries) if (entry.userId === userId) this.entries.delete(key);
  }

  /** Entries held, expired ones included until they are touched or pushed out. */
  get count(): number {
    return this.entries.size;
  }

  private get enabled(): boolean {
    return this.size > 0 && this.ttlMs > 0;
  }

  private key(userId: number, password: string, storedHash: string): string {
    // The stored hash is ASCII without NUL and fixed per user, so the NUL separators
    // keep (userId, password) pairs apart even when a password contains NUL.
    return createHmac('sha256', this.secret).update(`${userId}\0`).update(password, 'utf8').update('\0').update(storedHash).digest('base64');
  }
}
