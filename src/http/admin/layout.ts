/** The frame of every admin page: navigation, the message of the last action, the logout form. */
import { html, raw, type Html } from './html.js';

export const NAV: [string, string][] = [
  ['/admin', 'Status'],
  ['/admin/domains', 'Domains'],
  ['/admin/users', 'Users'],
  ['/admin/aliases', 'Aliases'],
  ['/admin/queue', 'Queue'],
  ['/admin/logins', 'Failed logins'],
];

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#f6f6f4}
header{background:#2d3e50;color:#fff;padding:.6em 1em;display:flex;gap:1em;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none}header a.here{text-decoration:underline}
header form{margin-left:auto}main{padding:1em;max-width:70em}
table{border-collapse:collapse;background:#fff;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
form.inline{display:inline}.flash{padding:.5em 1em;background:#e7f3e7;border:1px solid #9c9}.flash.error{background:#fbe9e9;border-color:#d99}
fieldset{background:#fff;border:1px solid #ccc;margin:.5em 0 1em}label{margin-right:.8em}`;

export interface Frame {
  title: string;
  path: string;
  /** The signed-in admin; null on the login page. */
  admin: string | null;
  csrf: string;
  flash?: { text: string; error: boolean } | null;
  body: Html;
}

/** A hidden field with the session's CSRF token: every form that POSTs carries one. */
export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

export function page(f: Frame): Html {
  const nav = f.admin
    ? html`${NAV.map(([href, label]) => html`<a href="${href}"${f.path === href ? html` class="here"` : ''}>${label}</a>`)}
      <form method="post" action="/admin/logout">${csrfField(f.csrf)}<span>${f.admin}</span> <button type="submit">Log out</button></form>`
    : html`<span>Mailroom admin</span>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${f.title} · Mailroom admin</title><style>${raw(STYLE)}</style></head>
<body><header>${nav}</header><main><h1>${f.title}</h1>
${f.flash ? html`<p class="flash${f.flash.error ? ' error' : ''}" role="status">${f.flash.text}</p>` : ''}
${f.body}</main></body></html>`;
}
