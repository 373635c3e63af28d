import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeNotifier } from './notifier.js';

/** A send whose batches the test completes (or fails) one at a time. */
function controlledSend() {
  const batches: string[][] = [];
  const waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const send = (payloads: string[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(payloads);
      waiting.push({ resolve, reject });
    });
  const settle = async (ok: boolean) => {
    const w = waiting.shift()!;
    if (ok) w.resolve();
    else w.reject(new Error('connection lost'));
    await new Promise((r) => setImmediate(r)); // the notifier's continuation runs
  };
  return { batches, send, settle, inFlight: () => waiting.length };
}

describe('change notifier (doorbells after commit)', () => {
  it('sends at once when idle, and what arrives meanwhile together in the next batch, in order', async () => {
    const s = controlledSend();
    const n = new ChangeNotifier(s.send);
    n.notify('a');
    assert.deepEqual(s.batches, [['a']]);
    n.notify('b');
    n.notify('c');
    assert.equal(s.inFlight(), 1, 'one batch in flight at a time');
    await s.settle(true);
    assert.deepEqual(s.batches, [['a'], ['b', 'c']]);
    await s.settle(true);
    n.notify('d');
    assert.deepEqual(s.batches, [['a'], ['b', 'c'], ['d']]);
    await s.settle(true);
    await n.close();
  });

  it('keeps a failed batch ahead of later payloads (for the retry) and sends them all on close', async () => {
    const s = controlledSend();
    const n = new ChangeNotifier(s.send);
    n.notify('a');
    n.notify('b');
    await s.settle(false); // 'a' failed: kept, ahead of 'b'
    n.notify('c');
    assert.equal(s.inFlight(), 0, 'waiting for the retry, not sending each payload alone');
    const closing = n.close();
    assert.equal(s.inFlight(), 1);
    await s.settle(true);
    await closing;
    assert.deepEqual(s.batches, [['a'], ['a', 'b', 'c']]);
    n.notify('late');
    assert.equal(s.batches.length, 2, 'nothing is taken after close');
  });
});
