/** The sign-in form: a server-admin user's address and the account password. */
import { html, type Html } from './html.js';
import { page } from './layout.js';

export function loginPage(token: string, error: string | null): Html {
  return page({
    title: 'Sign in',
    path: '/admin/login',
    admin: null,
    csrf: token,
    flash: error ? { text: error, error: true } : null,
    body: html`<form method="post" action="/admin/login"><fieldset><legend>Server administrator</legend>
<input type="hidden" name="_csrf" value="${token}">
<p><label>Address <input name="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<button type="submit">Sign in</button></fieldset></form>
<p>Admins are mail accounts with <code>mailroom user set ADDRESS admin=yes</code>; they sign in with the account password.</p>`,
  });
}
