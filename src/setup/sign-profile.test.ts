// ProfileSigner bounds the openssl processes unauthenticated downloads can start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileSigner, SignerBusyError } from './sign-profile.js';

test('at most `concurrent` signings run, `waiting` more queue, the rest are refused; slots are handed on', async () => {
  let running = 0;
  let most = 0;
  const releases: (() => void)[] = [];
  const fake = async (content: Buffer) => {
    running++;
    most = Math.max(most, running);
    await new Promise<void>((resolve) => releases.push(resolve));
    running--;
    return Buffer.concat([Buffer.from('signed:'), content]);
  };
  const signer = new ProfileSigner(2, 1, fake);
  const a = signer.sign(Buffer.from('a'), '', '');
  const b = signer.sign(Buffer.from('b'), '', '');
  const c = signer.sign(Buffer.from('c'), '', ''); // queued
  await assert.rejects(signer.sign(Buffer.from('d'), '', ''), SignerBusyError);
  await new Promise((r) => setImmediate(r));
  assert.equal(running, 2);
  releases.shift()!();
  assert.equal(String(await a), 'signed:a');
  await new Promise((r) => setImmediate(r));
  assert.equal(running, 2, 'the queued one took the freed slot');
  releases.shift()!();
  releases.shift()!();
  assert.deepEqual([String(await b), String(await c)], ['signed:b', 'signed:c']);
  assert.equal(most, 2);
  const e = signer.sign(Buffer.from('e'), '', ''); // all slots free again
  await new Promise((r) => setImmediate(r));
  releases.shift()!();
  assert.equal(String(await e), 'signed:e');
});
