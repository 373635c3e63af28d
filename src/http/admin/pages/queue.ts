/** The outbound queue: every entry with its recipients' state; retry now, delete. */
import { html } from '../html.js';
import { csrfField } from '../layout.js';
import { field, when, type AdminPage } from './page.js';

export const queuePage: AdminPage = {
  path: '/admin/queue',
  title: 'Outbound queue',
  async render({ services: { store }, session }) {
    const entries = await store.listQueueEntries();
    if (entries.length === 0) return html`<p>The queue is empty.</p>`;
    return html`<table><thead><tr><th>Id</th><th>From</th><th>Recipients</th><th>Size</th><th>Queued</th><th>Next attempt</th><th>Attempts</th><th>Last error</th><th></th></tr></thead><tbody>
${entries.map((e) => html`<tr><td>${e.id}</td><td>${e.from || '<>'}</td>
<td>${e.recipients.map((r) => html`${r.address} (${r.state}${r.lastResult ? html`: ${r.lastResult}` : ''})<br>`)}</td>
<td>${e.size}</td><td>${when(e.createdAt)}</td><td>${when(e.nextAttemptAt)}</td><td>${e.attempts}</td><td>${e.lastError ?? ''}</td>
<td><form class="inline" method="post" action="/admin/queue/retry">${csrfField(session.csrf)}<input type="hidden" name="id" value="${e.id}"><button type="submit">Retry now</button></form>
<form class="inline" method="post" action="/admin/queue/delete">${csrfField(session.csrf)}<input type="hidden" name="id" value="${e.id}"><button type="submit">Delete</button></form></td></tr>`)}
</tbody></table>`;
  },
  actions: {
    async retry({ services: { store } }, form) {
      const id = field(form, 'id');
      if (!(await store.retryQueueEntry(id, new Date()))) throw new Error(`no queue entry ${id}`);
      return { flash: `queue entry ${id} is due now` };
    },
    async delete({ services: { store } }, form) {
      const id = field(form, 'id');
      if (!(await store.deleteQueueEntry(id))) throw new Error(`no queue entry ${id}`);
      return { flash: `deleted queue entry ${id}` };
    },
  },
};
