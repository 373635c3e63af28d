/**
 * A small HTTP client for the admin page tests: keeps cookies like a browser, never
 * follows redirects (the tests look at them), and posts forms with the page's CSRF token.
 */
export interface Reply {
  status: number;
  location: string | null;
  cookies: string[];
  body: string;
}

export class AdminClient {
  readonly jar = new Map<string, string>();

  constructor(readonly base: string) {}

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
    const h: Record<string, string> = { ...headers };
    if (this.jar.size) h.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) h['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(this.base + path, { method, headers: h, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
    const cookies = res.headers.getSetCookie();
    for (const c of cookies) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/Max-Age=0/i.test(c) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location'), cookies, body: await res.text() };
  }

  get(path: string): Promise<Reply> {
    return this.request('GET', path);
  }

  /** The CSRF token of the page at `path` (the first `_csrf` field). */
  async csrf(path: string): Promise<string> {
    const page = await this.get(path);
    const m = /name="_csrf" value="([^"]+)"/.exec(page.body);
    if (!m) throw new Error(`no CSRF field on ${path} (status ${page.status})`);
    return m[1];
  }

  /** Signs in through the form; returns the reply to the POST. */
  async signIn(username: string, password: string): Promise<Reply> {
    const token = await this.csrf('/admin/login');
    return this.request('POST', '/admin/login', { _csrf: token, username, password });
  }

  /** Posts a form on `page`'s behalf with its CSRF token. */
  async post(page: string, action: string, form: Record<string, string>): Promise<Reply> {
    return this.request('POST', action, { _csrf: await this.csrf(page), ...form });
  }
}
