import { it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, tempDirs } from '../../test/harness/server.js';
import { LocalChangeBus } from '../store/bus.js';
import { openStore } from '../store/open.js';
import { dkimRecord, loadDkimKeys } from '../mail/dkim.js';
import { Readable } from 'node:stream';

it('mailroom queue list|show|retry|delete and dkim generate, with one-line errors', async () => {
  const { dataDir } = tempDirs();
  const store = await openStore({ dataDir, bus: new LocalChangeBus() });
  const raw = Buffer.from('Subject: q\r\n\r\nhi\r\n');
  const { createHash } = await import('node:crypto');
  const h = createHash('sha256').update(raw).digest('hex');
  await store.blobs.put(h, Readable.from([raw]));
  const { minimalIndex } = await import('../store/conformance.js');
  const e = await store.enqueueMessage({ content: { id: h, size: raw.length, segments: [{ hash: h, size: raw.length }], index: minimalIndex(raw), searchText: '' }, from: 'a@example.test', recipients: [{ address: 'b@remote.test' }], nextAttemptAt: new Date(Date.now() + 3_600_000) });
  await store.close();

  const list = await runCli(['queue', 'list'], { dataDir });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${e.id}  ${raw.length}B .* a@example\\.test  1/1 pending`, 'm'));
  const show = await runCli(['queue', 'show', e.id], { dataDir });
  assert.match(show.stdout, /rcpt b@remote\.test: pending/);
  assert.equal((await runCli(['queue', 'retry', e.id], { dataDir })).code, 0);
  const bad = await runCli(['queue', 'show', 'nope'], { dataDir });
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'error: no queued message nope\n');
  assert.equal((await runCli(['queue', 'delete', e.id], { dataDir })).code, 0);
  assert.match((await runCli(['queue', 'list'], { dataDir })).stdout, /queue is empty/);

  const gen = await runCli(['dkim', 'generate', 'example.test', '--selector', 's1'], { dataDir });
  assert.equal(gen.code, 0, gen.stderr);
  const [key] = await loadDkimKeys(dataDir, 'example.test');
  assert.ok(gen.stdout.includes(dkimRecord(key).zoneLine), 'prints the record of the stored key');
  const again = await runCli(['dkim', 'generate', 'example.test', '--selector', 's1'], { dataDir });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error: a key with selector "s1" exists[^\n]*\n$/);
});
