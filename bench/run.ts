/**
 * `npm run bench [name …]`: runs the named workloads (default: all), prints a
 * table and writes bench/results/<name>.json, plus bench/results/<date>.md with each
 * figure beside its peer's from the same run and their ratio. Figures are measured here, never
 * asserted in tests. BENCH_MESSAGES scales the delivery workload (default 10000).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBigbox } from './bigbox.js';
import { benchCliStartup } from './cli-startup.js';
import { benchDeliver } from './deliver.js';
import { benchDiskWrites } from './disk-writes.js';
import { benchFuzz } from './fuzz.js';
import { benchIdle } from './idle.js';
import { benchKillSoak } from './kill-soak.js';
import { benchImap } from './imap.js';
import { benchLmtp } from './lmtp.js';
import { benchLogin } from './login.js';
import { benchPgDelivery } from './pg-delivery.js';
import { benchPop3 } from './pop3.js';
import { renderReport } from './report.js';
import { benchQueue } from './queue.js';
import { benchSearch } from './search.js';
import { benchSmtp } from './smtp.js';
import { benchStorageDensity } from './storage-density.js';
import { benchStore } from './store.js';
import { benchStoreWorker } from './store-worker.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const workloads: Record<string, () => Promise<object>> = {
  bigbox: () => benchBigbox(),
  'cli-startup': () => benchCliStartup(),
  deliver: () => benchDeliver(Number(process.env.BENCH_MESSAGES ?? 10000)),
  'disk-writes': () => benchDiskWrites(),
  fuzz: () => benchFuzz(),
  idle: () => benchIdle(),
  'kill-soak': () => benchKillSoak(),
  imap: () => benchImap(),
  lmtp: () => benchLmtp(),
  login: () => benchLogin(),
  'pg-delivery': () => benchPgDelivery(),
  pop3: () => benchPop3(),
  queue: () => benchQueue(Number(process.env.BENCH_QUEUE_MESSAGES ?? 1000), Number(process.env.BENCH_QUEUE_CONCURRENCY ?? 4)),
  search: () => benchSearch(),
  smtp: () => benchSmtp(),
  'storage-density': () => benchStorageDensity(),
  store: () => benchStore(),
  'store-worker': () => benchStoreWorker(),
};

async function main(): Promise<void> {
  const results: Record<string, Record<string, unknown>> = {};
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(workloads);
  for (const name of names) {
    const run = workloads[name];
    if (!run) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(workloads).join(', ')}`);
    process.stderr.write(`bench ${name}…\n`);
    const result = { name, node: process.version, date: new Date().toISOString(), ...(await run()) };
    console.log(JSON.stringify(result, null, 2));
    await mkdir(join(root, 'bench', 'results'), { recursive: true });
    await writeFile(join(root, 'bench', 'results', `${name}.json`), JSON.stringify(result, null, 2) + '\n');
    results[name] = result;
  }
  const when = new Date();
  const machine = `${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end, Node ${process.version}`;
  const page = join(root, 'bench', 'results', `${when.toISOString().slice(0, 10)}.md`);
  const previous = await readFile(page, 'utf8').catch(() => undefined);
  await writeFile(page, renderReport(results, when, machine, previous));
  process.stderr.write(`bench: ${page}\n`);
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
