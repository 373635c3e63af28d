/**
 * Admin sessions: a random token in an HttpOnly, SameSite=Strict cookie (Secure over TLS),
 * scoped to /admin, and a CSRF token per session that every POST must carry. Kept in this
 * process's memory: a restart signs everyone out, and each node of a cluster has its own.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

export const SESSION_COOKIE = 'mailroom_admin';
/** Before login: the double-submit token of the login form (no session exists yet). */
export const LOGIN_COOKIE = 'mailroom_admin_login';
/** Signed out after this long without a request. */
const IDLE_MS = 30 * 60_000;
/** Signed out after this long whatever happens. */
const ABSOLUTE_MS = 12 * 3600_000;
/** Sessions kept at most (the oldest is dropped). */
const MAX_SESSIONS = 1000;

export interface AdminSession {
  userId: number;
  address: string;
  csrf: string;
  created: number;
  seen: number;
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Equal strings, compared in constant time. */
export function sameToken(a: string | undefined | null, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function readCookies(req: http.IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** A Set-Cookie value for this admin page; maxAgeS 0 deletes the cookie. */
export function cookie(name: string, value: string, secure: boolean, maxAgeS?: number): string {
  return `${name}=${value}; Path=/admin; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}${maxAgeS !== undefined ? `; Max-Age=${maxAgeS}` : ''}`;
}

export class AdminSessions {
  private readonly byToken = new Map<string, AdminSession>();

  constructor(private readonly now: () => number = Date.now) {}

  open(userId: number, address: string): { token: string; session: AdminSession } {
    while (this.byToken.size >= MAX_SESSIONS) this.byToken.delete(this.byToken.keys().next().value!);
    const t = this.now();
    const session: AdminSession = { userId, address, csrf: newToken(), created: t, seen: t };
    const token = newToken();
    this.byToken.set(token, session);
    return { token, session };
  }

  /** The live session of this token, touched; null when unknown or expired. */
  find(token: string | undefined): AdminSession | null {
    if (!token) return null;
    const s = this.byToken.get(token);
    if (!s) return null;
    const t = this.now();
    if (t - s.seen > IDLE_MS || t - s.created > ABSOLUTE_MS) {
      this.byToken.delete(token);
      return null;
    }
    s.seen = t;
    return s;
  }

  close(token: string | undefined): void {
    if (token) this.byToken.delete(token);
  }

  /** Ends every session of a user (deleted, or no longer an admin). */
  closeUser(userId: number): void {
    for (const [token, s] of this.byToken) if (s.userId === userId) this.byToken.delete(token);
  }
}
