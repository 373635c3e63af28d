/**
 * A quick measurement, not a test and not part of `bench/run.ts`: IMAP STATUS
 * (UNSEEN SIZE MESSAGES) on one big INBOX (STATUS_MESSAGES, default 20,000; a third of
 * them \Seen), timed over a raw socket against the built server (dist/src/main.js).
 * The mailbox is filled straight through the store (all rows share one content) before
 * the server starts, so filling takes seconds.
 *
 *   npm run build && node dist/bench/status-timing.js
 */
import { LocalChangeBus } from '../src/store/bus.js';
import { makeContent, rawMessage } from '../src/store/conformance/kit.js';
import { openStore } from '../src/store/open.js';
import { runCli, startServer, tempDirs } from '../test/harness/server.js';
import { RawImapClient } from './imap-raw-client.js';

const USER = 'bench@bench.test';
const PASSWORD = 'bench-password';

async function fill(dataDir: string, n: number): Promise<void> {
  const added = await runCli(['user', 'add', USER, '--password', PASSWORD], { dataDir });
  if (added.code !== 0) throw new Error(`user add: ${added.stderr.trim()}`);
  const store = await openStore({ dataDir, bus: new LocalChangeBus() });
  try {
    const user = (await store.getUser(USER))!;
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    const content = await makeContent(store, [rawMessage(1)]);
    await store.appendMessage({ mailboxId: inbox.id, content });
    for (let i = 1; i < n; i++) {
      await store.appendMessage({ mailboxId: inbox.id, content: { id: content.id, existing: true }, flags: i % 3 === 0 ? ['\\Seen'] : ['$Work'] });
    }
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const n = Number(process.env.STATUS_MESSAGES ?? 20_000);
  const rounds = 50;
  const { dataDir } = tempDirs();
  const t0 = performance.now();
  await fill(dataDir, n);
  process.stderr.write(`filled ${n} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  const server = await startServer({ dataDir });
  try {
    const { client } = await RawImapClient.connect(server.ports.imap!);
    await client.ok(`LOGIN ${USER} ${PASSWORD}`);
    let line = '';
    for (let i = 0; i < 5; i++) line = (await client.ok('STATUS INBOX (UNSEEN SIZE MESSAGES)')).untagged.join(' ');
    const ms: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const start = performance.now();
      await client.ok('STATUS INBOX (UNSEEN SIZE MESSAGES)');
      ms.push(performance.now() - start);
    }
    await client.close();
    ms.sort((a, b) => a - b);
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    process.stdout.write(`${line.trim()}\nSTATUS x${rounds}: median ${ms[rounds >> 1].toFixed(2)} ms, mean ${mean.toFixed(2)} ms, min ${ms[0].toFixed(2)} ms, max ${ms[rounds - 1].toFixed(2)} ms\n`);
  } finally {
    await server.stop();
  }
}

await main();
