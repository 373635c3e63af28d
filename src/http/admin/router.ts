/**
 * The admin page under /admin on the HTTP listener: transport rule (./access.ts), sign in
 * (./admin-login.ts), sessions and CSRF (./sessions.ts), then the pages (./pages/). Every
 * POST carries the session's CSRF token and a same-origin Origin when the browser sends
 * one; every action answers with a redirect (POST/redirect/GET), so reloading repeats nothing.
 *
 * Never imports: protocol code, SQL. Invariants: no page is rendered without a live
 * session; no state changes on GET; every value on a page goes through html`` escaping.
 */
import type http from 'node:http';
import type { Services } from '../../services.js';
import { proxySettings } from '../../net/proxy-config.js';
import { isServerAdmin } from '../../auth/admin-users.js';
import { adminReachable, isTls } from './access.js';
import { AdminLogin } from './admin-login.js';
import { page } from './layout.js';
import { loginPage } from './login-page.js';
import { cookie, AdminSessions, LOGIN_COOKIE, newToken, readCookies, sameToken, SESSION_COOKIE, type AdminSession } from './sessions.js';
import { aliasesPage } from './pages/aliases.js';
import { domainsPage } from './pages/domains.js';
import { loginsPage } from './pages/logins.js';
import type { AdminContext, AdminPage } from './pages/page.js';
import { queuePage } from './pages/queue.js';
import { statusPage } from './pages/status.js';
import { userPage } from './pages/user.js';
import { usersPage } from './pages/users.js';
import { html } from './html.js';

const PAGES: AdminPage[] = [statusPage, domainsPage, usersPage, userPage, aliasesPage, queuePage, loginsPage];
/** A form is a few fields; anything bigger is not ours. */
const MAX_BODY = 64 * 1024;

const HEADERS: http.OutgoingHttpHeaders = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  // Not no-referrer: with it a browser sends `Origin: null` on form posts, and the origin check needs the real one.
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** Whether a path is the admin page's (the HTTP router sends those here). */
export function isAdminPath(path: string): boolean {
  return path === '/admin' || path.startsWith('/admin/');
}

class BadRequest extends Error {}

function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return reject(new BadRequest('expected a form (application/x-www-form-urlencoded)'));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.destroy();
        reject(new BadRequest('form too large'));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/** A browser's Origin (or Sec-Fetch-Site), when sent, must be this site: a form posted from elsewhere is refused. */
function sameOrigin(req: http.IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin === `${isTls(req) ? 'https' : 'http'}://${req.headers.host ?? ''}`;
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

function send(res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...HEADERS, 'Content-Type': status === 200 ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8', ...headers }).end(body);
}

function redirect(res: http.ServerResponse, to: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(303, { ...HEADERS, Location: to, ...headers }).end();
}

/** `to` with the action's message as a query parameter (shown once, escaped, by the page). */
function withFlash(to: string, key: 'msg' | 'error', text: string): string {
  const url = new URL(to, 'http://admin.invalid');
  url.searchParams.set(key, text.slice(0, 300));
  return `${url.pathname}${url.search}`;
}

export function adminRoutes(services: Services): http.RequestListener {
  const sessions = new AdminSessions();
  const login = new AdminLogin(services.store);
  const behindProxy = proxySettings(services.config.proxy)('http') !== undefined;
  const log = services.log.child({ component: 'admin' });

  async function signIn(req: http.IncomingMessage, res: http.ServerResponse, cookies: Map<string, string>): Promise<void> {
    const secure = isTls(req);
    if (req.method === 'GET' || req.method === 'HEAD') {
      const token = newToken();
      return send(res, 200, loginPage(token, null).text, { 'Set-Cookie': cookie(LOGIN_COOKIE, token, secure) });
    }
    if (req.method !== 'POST') return send(res, 405, 'method not allowed\n', { Allow: 'GET, POST' });
    const form = await readForm(req);
    // No session yet: the form's token must match its cookie (double submit), and the Origin this site.
    if (!sameOrigin(req) || !sameToken(form.get('_csrf'), cookies.get(LOGIN_COOKIE) ?? '\0')) return send(res, 403, 'CSRF token missing or wrong: reload the sign-in page\n');
    const address = req.socket.remoteAddress ?? '';
    const r = await login.check(form.get('username') ?? '', form.get('password') ?? '', address);
    if (!r.ok) {
      log.warn({ user: (form.get('username') ?? '').slice(0, 320), client: address, reason: r.reason }, 'admin sign-in failed');
      const token = newToken();
      const text = r.reason === 'throttled' ? 'Too many failed attempts from your address; try again later.' : 'Wrong address or password, or not a server admin.';
      return send(res, 200, loginPage(token, text).text, { 'Set-Cookie': cookie(LOGIN_COOKIE, token, secure) });
    }
    const { token } = sessions.open(r.user.id, r.user.address);
    log.info({ admin: r.user.address, client: address }, 'admin signed in');
    redirect(res, '/admin', { 'Set-Cookie': [cookie(SESSION_COOKIE, token, secure), cookie(LOGIN_COOKIE, '', secure, 0)] });
  }

  async function act(req: http.IncomingMessage, res: http.ServerResponse, path: string, ctx: AdminContext, token: string): Promise<void> {
    const form = await readForm(req);
    if (!sameOrigin(req) || !sameToken(form.get('_csrf'), ctx.session.csrf)) return send(res, 403, 'CSRF token missing or wrong: reload the page and try again\n');
    if (path === '/admin/logout') {
      sessions.close(token);
      log.info({ admin: ctx.session.address }, 'admin signed out');
      return redirect(res, '/admin/login', { 'Set-Cookie': cookie(SESSION_COOKIE, '', isTls(req), 0) });
    }
    const slash = path.lastIndexOf('/');
    const owner = PAGES.find((p) => p.path === path.slice(0, slash));
    const action = owner?.actions?.[path.slice(slash + 1)];
    if (!owner || !action) return send(res, 404, 'no such action\n');
    try {
      const done = await action(ctx, form);
      log.info({ admin: ctx.session.address, action: path, result: done.flash }, 'admin action');
      redirect(res, withFlash(done.to ?? owner.path, 'msg', done.flash));
    } catch (err) {
      redirect(res, withFlash(owner.back?.(form) ?? owner.path, 'error', (err as Error).message));
    }
  }

  async function show(res: http.ServerResponse, path: string, query: URLSearchParams, ctx: AdminContext): Promise<void> {
    const p = PAGES.find((x) => x.path === path);
    if (!p) return send(res, 404, 'not found\n');
    const msg = query.get('msg');
    const error = query.get('error');
    const frame = { title: p.title, path, admin: ctx.session.address, csrf: ctx.session.csrf };
    try {
      const body = await p.render(ctx, query);
      send(res, 200, page({ ...frame, body, flash: error ? { text: error, error: true } : msg ? { text: msg, error: false } : null }).text);
    } catch (err) {
      send(res, 200, page({ ...frame, body: html`<p><a href="/admin/users">Back to users</a></p>`, flash: { text: (err as Error).message, error: true } }).text);
    }
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!adminReachable(req, behindProxy)) {
      return send(res, 403, 'The admin page is served over TLS, or over plain HTTP only from this machine (loopback). Use an SSH tunnel to the HTTP listener on 127.0.0.1.\n');
    }
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const cookies = readCookies(req);
    if (path === '/admin/login') return signIn(req, res, cookies);
    const token = cookies.get(SESSION_COOKIE);
    const session: AdminSession | null = sessions.find(token);
    if (!session) {
      if (req.method === 'GET' || req.method === 'HEAD') return redirect(res, '/admin/login');
      return send(res, 403, 'sign in first\n');
    }
    // A user deleted or no longer admin since signing in is signed out at the next request.
    const user = await services.store.getUserById(session.userId);
    if (!user || !isServerAdmin(user)) {
      sessions.closeUser(session.userId);
      return redirect(res, '/admin/login', { 'Set-Cookie': cookie(SESSION_COOKIE, '', isTls(req), 0) });
    }
    const ctx: AdminContext = { services, session };
    if (req.method === 'POST') return act(req, res, path, ctx, token!);
    if (req.method === 'GET' || req.method === 'HEAD') return show(res, path, url.searchParams, ctx);
    send(res, 405, 'method not allowed\n', { Allow: 'GET, POST' });
  }

  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof BadRequest) return send(res, 400, `${err.message}\n`);
      log.warn({ err }, 'admin request failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  };
}
