/**
 * Containment: the open IMAP, POP3 and SMTP sessions of this process, by the login they
 * made, so revoking a device, deleting a member, changing the account password or
 * requiring device passwords ends the sessions that used it at once (IMAP `* BYE`).
 *
 * How the news arrives: every such change records a `credentials` event for the user in
 * the store (store/core/people.ts, users.ts). In this process it reaches the bus after
 * commit; from another node (PostgreSQL) through LISTEN/NOTIFY; from another process on
 * the same SQLite file (the `mailroom` CLI) as the poller's RECHECK. On either, the logins
 * of the user(s) concerned are checked against `Store.liveCredentials` in one read.
 *
 * Never imports: protocols, SQL. Invariants: one bus subscription per user with open
 * sessions, dropped with its last session; checks after a RECHECK are coalesced (one read
 * for every user at a time, never one per session); a failed read ends nothing.
 */
import type { ChangeBus, ChangeEvent } from '../store/bus.js';
import type { CredentialState, Id, Store } from '../store/types.js';
import type { LoginIdentity } from './authenticate.js';
import { deviceAllows, REQUIRE_DEVICE_PASSWORDS } from './device-limits.js';
import { sessionOpened } from '../metrics/registry.js';

interface Live {
  login: LoginIdentity;
  end: (why: string) => void;
}

/** Why a login no longer holds, or null while it does. */
export function loginRevoked(login: LoginIdentity, state: CredentialState | undefined): string | null {
  if (!state) return 'account deleted';
  if (login.device) {
    const d = state.devices.find((x) => x.id === login.device!.id);
    if (!d) return 'device password revoked';
    if (!deviceAllows(d.settings, login.protocol)) return 'device no longer allowed on this protocol';
    return null;
  }
  if (state.passwordHash !== login.passwordHash) return 'account password changed';
  if (state.settings[REQUIRE_DEVICE_PASSWORDS] === 'yes') return 'account requires device passwords';
  return null;
}

export class LiveLogins {
  private readonly byUser = new Map<Id, { sessions: Set<Live>; unsubscribe: () => void }>();
  private pendingAll = false;
  private running: Promise<void> | null = null;
  private readonly pendingUsers = new Set<Id>();

  constructor(
    private readonly store: Pick<Store, 'liveCredentials'>,
    private readonly bus: ChangeBus,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** Tracks a logged-in session; `end` is called (once) when its login stops holding. Returns the function to call when the session ends. */
  register(login: LoginIdentity, end: (why: string) => void): () => void {
    let entry = this.byUser.get(login.userId);
    if (!entry) {
      const unsubscribe = this.bus.subscribe(login.userId, (e) => this.onEvent(e));
      entry = { sessions: new Set(), unsubscribe };
      this.byUser.set(login.userId, entry);
    }
    const live: Live = { login, end };
    entry.sessions.add(live);
    let closeGauge: (() => void) | undefined = sessionOpened(login.protocol);
    return () => {
      closeGauge?.();
      closeGauge = undefined;
      this.remove(login.userId, live);
    };
  }

  /** Open sessions tracked (tests, diagnostics). */
  get size(): number {
    let n = 0;
    for (const e of this.byUser.values()) n += e.sessions.size;
    return n;
  }

  private remove(userId: Id, live: Live): void {
    const entry = this.byUser.get(userId);
    if (!entry || !entry.sessions.delete(live)) return;
    if (entry.sessions.size === 0) {
      entry.unsubscribe();
      this.byUser.delete(userId);
    }
  }

  private onEvent(e: ChangeEvent): void {
    if (e.kind === 'credentials') this.pendingUsers.add(e.userId);
    else if (e.kind === 'recheck') this.pendingAll = true; // reaches every user's listener: coalesced below
    else return;
    this.running ??= this.drain().finally(() => (this.running = null));
  }

  /** Checks until nothing is pending; an event arriving meanwhile is handled by the next round. */
  private async drain(): Promise<void> {
    await Promise.resolve(); // let a RECHECK reach every listener first: one read for all
    while (this.pendingAll || this.pendingUsers.size > 0) {
      const users = this.pendingAll ? [...this.byUser.keys()] : [...this.pendingUsers];
      this.pendingAll = false;
      this.pendingUsers.clear();
      try {
        await this.check(users);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  private async check(userIds: Id[]): Promise<void> {
    if (userIds.length === 0) return;
    const states = new Map((await this.store.liveCredentials(userIds)).map((s) => [s.userId, s]));
    for (const id of userIds) {
      const entry = this.byUser.get(id);
      if (!entry) continue;
      for (const live of [...entry.sessions]) {
        const why = loginRevoked(live.login, states.get(id));
        if (why === null) continue;
        this.remove(id, live);
        live.end(why);
      }
    }
  }
}
