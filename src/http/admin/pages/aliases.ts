/** Aliases: source → target pairs (`@domain` is a catch-all); add, delete. */
import { html } from '../html.js';
import { csrfField } from '../layout.js';
import { field, type AdminPage } from './page.js';

export const aliasesPage: AdminPage = {
  path: '/admin/aliases',
  title: 'Aliases',
  async render({ services: { store }, session }) {
    const aliases = await store.listAliases();
    return html`<table><thead><tr><th>Source</th><th>Target</th><th></th></tr></thead><tbody>
${aliases.map((a) => html`<tr><td>${a.source}</td><td>${a.target}</td><td>
<form class="inline" method="post" action="/admin/aliases/delete">${csrfField(session.csrf)}<input type="hidden" name="source" value="${a.source}"><input type="hidden" name="target" value="${a.target}"><button type="submit">Delete</button></form></td></tr>`)}
</tbody></table>
<form method="post" action="/admin/aliases/add"><fieldset><legend>Add an alias</legend>${csrfField(session.csrf)}
<label>Source <input name="source" required placeholder="info@example.org or @example.org"></label>
<label>Target <input name="target" required placeholder="alice@example.org"></label> <button type="submit">Add alias</button></fieldset></form>`;
  },
  actions: {
    async add({ services: { store } }, form) {
      const source = field(form, 'source');
      const target = field(form, 'target');
      await store.addAlias(source, target);
      return { flash: `added alias ${source} → ${target}` };
    },
    async delete({ services: { store } }, form) {
      const source = field(form, 'source');
      const n = await store.deleteAlias(source, field(form, 'target'));
      return { flash: n ? `deleted alias ${source}` : `no such alias ${source}` };
    },
  },
};
