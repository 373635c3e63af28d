import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressBar } from './progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = { isTTY, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

test('progress bar: drawn on a terminal, redrawn at most every 100 ms, the last state always shown', () => {
  const t = fakeStream(true);
  const bar = progressBar('export', t.stream);
  for (let i = 1; i <= 1000; i++) bar.update(i, 1000);
  bar.done();
  const frames = t.text().split('\r').filter(Boolean);
  assert.ok(frames.length >= 2 && frames.length < 50, `${frames.length} frames`);
  assert.equal(frames[frames.length - 1], `export [${'#'.repeat(30)}] 1000/1000\n`);
  assert.match(frames[0], /^export \[-*#*-*\] 1\/1000$/);
});

test('progress bar: nothing at all when stderr is not a terminal', () => {
  const t = fakeStream(false);
  const bar = progressBar('import', t.stream);
  bar.update(1, 2);
  bar.update(2, 2);
  bar.done();
  assert.equal(t.text(), '');
});
