/** Recent failed logins of every account and of names that are no account. */
import type { FailedLogin } from '../../../store/types.js';
import { html, type Html } from '../html.js';
import { when, type AdminPage } from './page.js';

export function failedLoginsTable(list: FailedLogin[]): Html {
  if (list.length === 0) return html`<p>None.</p>`;
  return html`<table><thead><tr><th>Time</th><th>Name given</th><th>Protocol</th><th>Address</th><th>Device</th><th>Why</th></tr></thead><tbody>
${list.map((f) => html`<tr><td>${when(f.at)}</td><td>${f.username}${f.userId === null ? ' (no such account)' : ''}</td><td>${f.protocol}</td><td>${f.address}</td><td>${f.device ?? '-'}</td><td>${f.reason}</td></tr>`)}
</tbody></table>`;
}

export const loginsPage: AdminPage = {
  path: '/admin/logins',
  title: 'Failed logins',
  async render({ services: { store } }) {
    return html`<p>The newest 100; each account keeps its last 20 (see its page).</p>${failedLoginsTable(await store.listFailedLogins(null, 100))}`;
  },
};
