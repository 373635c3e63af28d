/** Server status: listeners, open sessions, storage, users, the queue's size and age. */
import { formatSize } from '../../../cli/sizes.js';
import { formatListenAddress } from '../../../config/schema.js';
import { html } from '../html.js';
import { when, type AdminPage } from './page.js';

const started = new Date();

export const statusPage: AdminPage = {
  path: '/admin',
  title: 'Server status',
  async render({ services: { store, config, logins } }) {
    const [stats, users, domains, queue, schema] = await Promise.all([store.stats(), store.listUsers(), store.listDomains(), store.listQueueEntries(), store.schemaVersion()]);
    const oldest = queue.reduce<Date | null>((min, e) => (min === null || e.createdAt < min ? e.createdAt : min), null);
    const listeners = Object.entries(config.listen).filter(([, a]) => a !== 'off');
    return html`<table><tbody>
<tr><th>Host name</th><td>${config.hostname}</td></tr>
<tr><th>Running since</th><td>${when(started)} (Node ${process.version})</td></tr>
<tr><th>Database</th><td>${config.database_url ? 'PostgreSQL' : 'SQLite'}, schema version ${schema}</td></tr>
<tr><th>Open mail sessions</th><td>${logins.size}</td></tr>
<tr><th>Domains / users</th><td>${domains.length} / ${users.length}</td></tr>
<tr><th>Messages</th><td>${stats.messages} (${formatSize(stats.logicalBytes)}; ${formatSize(stats.blobBytes)} on disk after deduplication)</td></tr>
<tr><th>Outbound queue</th><td>${queue.length} entries${oldest ? html`, oldest queued ${when(oldest)}` : ''}</td></tr>
</tbody></table>
<h2>Listeners</h2><table><tbody>${listeners.map(([name, address]) => html`<tr><th>${name}</th><td>${address === 'off' ? 'off' : formatListenAddress(address)}</td></tr>`)}</tbody></table>`;
  },
};
