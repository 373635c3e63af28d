/** Users: every account with its use and quota; add, change quota, delete; each links to its detail page. */
import { createUser, requireUser } from '../../../mail/accounts.js';
import { formatSize, parseCount, parseSize } from '../../../cli/sizes.js';
import { isServerAdmin } from '../../../auth/admin-users.js';
import { html } from '../html.js';
import { csrfField } from '../layout.js';
import { field, type AdminPage } from './page.js';

export const usersPage: AdminPage = {
  path: '/admin/users',
  title: 'Users',
  async render({ services: { store }, session }) {
    const users = await store.listUsers();
    const quotas = await Promise.all(users.map((u) => store.getQuota(u.id)));
    const rows = users.map((u, i) => {
      const q = quotas[i];
      const storage = q.bytes === null ? 'unlimited' : formatSize(q.bytes);
      return html`<tr><td><a href="/admin/user?address=${encodeURIComponent(u.address)}">${u.address}</a>${isServerAdmin(u) ? ' (admin)' : ''}</td>
<td>${q.usedMessages}</td><td>${formatSize(q.usedBytes)}</td><td>${storage}</td><td>${q.messages ?? 'unlimited'}</td>
<td><form class="inline" method="post" action="/admin/users/quota">${csrfField(session.csrf)}<input type="hidden" name="address" value="${u.address}">
<input name="storage" size="8" value="${storage}" aria-label="storage quota for ${u.address}">
<input name="messages" size="8" value="${q.messages ?? 'unlimited'}" aria-label="message quota for ${u.address}">
<button type="submit" aria-label="set quota for ${u.address}">Set quota</button></form></td>
<td><form class="inline" method="post" action="/admin/users/delete">${csrfField(session.csrf)}<input type="hidden" name="address" value="${u.address}">
<button type="submit" aria-label="delete user ${u.address}">Delete</button></form></td></tr>`;
    });
    return html`<table><thead><tr><th>Address</th><th>Messages</th><th>Used</th><th>Storage quota</th><th>Message quota</th><th>Change quota</th><th></th></tr></thead>
<tbody>${rows}</tbody></table>
<form method="post" action="/admin/users/add"><fieldset><legend>Add a user</legend>${csrfField(session.csrf)}
<label>Address <input name="address" required placeholder="alice@example.org"></label>
<label>Password <input name="password" type="password" required autocomplete="new-password"></label>
<label>Storage quota <input name="storage" size="8" placeholder="unlimited"></label>
<button type="submit">Add user</button></fieldset></form>`;
  },
  actions: {
    async add({ services: { store } }, form) {
      const storage = form.get('storage')?.trim();
      const bytes = storage ? parseSize(storage) : null; // checked before the user exists
      const user = await createUser(store, field(form, 'address'), form.get('password') ?? '');
      if (bytes !== null) await store.setQuota(user.id, { bytes, messages: null });
      return { flash: `added user ${user.address}` };
    },
    async quota({ services: { store } }, form) {
      const bytes = parseSize(field(form, 'storage'));
      const messages = parseCount(form.get('messages')?.trim() || 'unlimited');
      const user = await requireUser(store, field(form, 'address'));
      await store.setQuota(user.id, { bytes, messages });
      return { flash: `quota for ${user.address}: storage ${formatSize(bytes)}, messages ${messages ?? 'unlimited'}` };
    },
    async delete({ services: { store, auth } }, form) {
      const user = await requireUser(store, field(form, 'address'));
      await store.deleteUser(user.address);
      auth.forgetUser(user.id); // its cached logins go too (open sessions end through the credentials event)
      return { flash: `deleted user ${user.address}` };
    },
  },
};
