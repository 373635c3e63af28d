/**
 * Signing in to the admin page: a server-admin user (src/auth/admin-users.ts) and the
 * account's own password. An unknown user or a non-admin costs the same scrypt as a wrong
 * password and gets the same answer. Failures are recorded like mail logins (protocol
 * `admin`), and an address with too many recent failures is refused for a while.
 */
import { hashPassword, verifyPassword } from '../../auth/password.js';
import { isServerAdmin } from '../../auth/admin-users.js';
import type { Store, User } from '../../store/types.js';

/** Failures from one address within WINDOW_MS before it is refused until the window passes. */
const MAX_FAILURES = 5;
const WINDOW_MS = 15 * 60_000;

export type AdminLoginResult = { ok: true; user: User } | { ok: false; reason: 'invalid' | 'throttled' };

export class AdminLogin {
  private readonly failures = new Map<string, number[]>();
  private dummy: Promise<string> | undefined;

  constructor(
    private readonly store: Pick<Store, 'getUser' | 'recordFailedLogin'>,
    private readonly now: () => number = Date.now,
  ) {}

  async check(username: string, password: string, address: string): Promise<AdminLoginResult> {
    const t = this.now();
    const recent = (this.failures.get(address) ?? []).filter((at) => t - at < WINDOW_MS);
    if (recent.length >= MAX_FAILURES) return { ok: false, reason: 'throttled' };
    const name = username.trim();
    const user = name.includes('@') && name.length <= 320 ? await this.store.getUser(name).catch(() => null) : null;
    const good = user ? await verifyPassword(password, user.passwordHash) : await verifyPassword(password, await (this.dummy ??= hashPassword('unused')));
    if (user && good && isServerAdmin(user)) {
      this.failures.delete(address);
      return { ok: true, user };
    }
    recent.push(t);
    this.failures.set(address, recent);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
    const reason = user && good ? 'not-admin' : 'invalid';
    await this.store.recordFailedLogin({ at: new Date(t), userId: user?.id ?? null, username: name, protocol: 'admin', address, device: null, reason }).catch(() => {});
    return { ok: false, reason: 'invalid' };
  }
}
