/** One account: use and quota, members, devices with their last login (revoke), the last 20 failed logins. */
import { requireUser } from '../../../mail/accounts.js';
import { formatSize } from '../../../cli/sizes.js';
import { html } from '../html.js';
import { csrfField } from '../layout.js';
import { failedLoginsTable } from './logins.js';
import { field, when, type AdminPage } from './page.js';

export const userPage: AdminPage = {
  path: '/admin/user',
  title: 'User',
  async render({ services: { store }, session }, query) {
    const user = await requireUser(store, query.get('address') ?? '');
    const [q, members, devices, failed] = await Promise.all([
      store.getQuota(user.id), store.listMembers(user.id), store.listDevices(user.id), store.listFailedLogins(user.id, 20),
    ]);
    return html`<h2>${user.address}</h2>
<p>${q.usedMessages} messages${q.messages === null ? '' : html` of ${q.messages}`}, ${formatSize(q.usedBytes)} of ${formatSize(q.bytes)}.</p>
<h2>Members</h2><ul><li>owner (the account password)</li>${members.map((m) => html`<li>${m.name}</li>`)}</ul>
<h2>Devices</h2><table><thead><tr><th>Name</th><th>Member</th><th>Created</th><th>Last login</th><th>Protocol</th><th>Address</th><th>Limits</th><th></th></tr></thead><tbody>
${devices.map((d) => html`<tr><td>${d.name}</td><td>${d.member}</td><td>${when(d.createdAt)}</td><td>${when(d.lastLogin?.at)}</td><td>${d.lastLogin?.protocol ?? '-'}</td><td>${d.lastLogin?.address ?? '-'}</td>
<td>${Object.entries(d.settings).map(([k, v]) => `${k}=${v}`).join(' ')}</td>
<td><form class="inline" method="post" action="/admin/user/revoke">${csrfField(session.csrf)}<input type="hidden" name="address" value="${user.address}"><input type="hidden" name="device" value="${d.name}">
<button type="submit" aria-label="revoke ${d.name}">Revoke</button></form></td></tr>`)}
</tbody></table>
<h2>Last failed logins</h2>${failedLoginsTable(failed)}`;
  },
  back: (form) => `/admin/user?address=${encodeURIComponent(form.get('address') ?? '')}`,
  actions: {
    async revoke({ services: { store } }, form) {
      const user = await requireUser(store, field(form, 'address'));
      const d = await store.revokeDevice(user.id, field(form, 'device'));
      return { flash: `revoked device ${d.name} of ${user.address}`, to: `/admin/user?address=${encodeURIComponent(user.address)}` };
    },
  },
};
