/** Domains: the ones this server receives mail for, how many users each has; add, delete. */
import { normaliseDomain } from '../../../mail/address.js';
import { html } from '../html.js';
import { csrfField } from '../layout.js';
import { field, type AdminPage } from './page.js';

export const domainsPage: AdminPage = {
  path: '/admin/domains',
  title: 'Domains',
  async render({ services: { store }, session }) {
    const [domains, users] = await Promise.all([store.listDomains(), store.listUsers()]);
    const count = (id: number) => users.filter((u) => u.domainId === id).length;
    return html`<table><thead><tr><th>Domain</th><th>Users</th><th></th></tr></thead><tbody>
${domains.map((d) => html`<tr><td>${d.name}</td><td>${count(d.id)}</td><td>
<form class="inline" method="post" action="/admin/domains/delete">${csrfField(session.csrf)}<input type="hidden" name="name" value="${d.name}"><button type="submit" aria-label="delete domain ${d.name}">Delete</button></form></td></tr>`)}
</tbody></table>
<form method="post" action="/admin/domains/add"><fieldset><legend>Add a domain</legend>${csrfField(session.csrf)}
<label>Domain <input name="name" required placeholder="example.org"></label> <button type="submit">Add domain</button></fieldset></form>`;
  },
  actions: {
    async add({ services: { store } }, form) {
      const d = await store.addDomain(normaliseDomain(field(form, 'name')));
      return { flash: `added domain ${d.name}` };
    },
    async delete({ services: { store } }, form) {
      const name = normaliseDomain(field(form, 'name'));
      await store.deleteDomain(name);
      return { flash: `deleted domain ${name}` };
    },
  },
};
