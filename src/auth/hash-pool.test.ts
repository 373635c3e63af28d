import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scryptSync } from 'node:crypto';
import { HashPool, HashPoolBusy } from './hash-pool.js';
import { hashPassword, libuvScrypt, scryptOptions, verifyPassword, type Scrypt } from './password.js';

const SALT = Buffer.from('0123456789abcdef');

/**
 * Starts `count` scrypts of the stored cost (ln=15: 32 MiB each), then reads a small
 * file; returns how many hashes had finished when the read completed.
 */
async function hashesDoneWhenReadCompletes(scrypt: Scrypt, count: number): Promise<number> {
  const file = join(mkdtempSync(join(tmpdir(), 'hash-pool-')), 'small.txt');
  writeFileSync(file, 'a small file');
  let done = 0;
  const hashes = Array.from({ length: count }, (_, i) => scrypt(`password ${i}`, SALT, 32, scryptOptions(15, 8, 1)).then(() => void done++));
  const read = readFile(file, 'utf8').then(() => done);
  const [doneAtRead] = await Promise.all([read, ...hashes]);
  assert.equal(done, count);
  return doneAtRead;
}

describe('HashPool', () => {
  it('derives the same key as node:crypto', async () => {
    const pool = new HashPool({ workers: 2 });
    try {
      const key = await pool.scrypt('correct horse', SALT, 32, scryptOptions(10, 8, 1));
      assert.deepEqual(key, scryptSync('correct horse', SALT, 32, scryptOptions(10, 8, 1)));
      const stored = await hashPassword('pw', pool.scrypt);
      assert.equal(await verifyPassword('pw', stored), true, 'a hash made in the pool verifies with libuv scrypt (format unchanged)');
      assert.equal(await verifyPassword('pw', await hashPassword('pw'), pool.scrypt), true, 'and the other way round');
      assert.equal(await verifyPassword('pW', stored, pool.scrypt), false);
    } finally {
      await pool.close();
    }
  });

  it('hashes off the main thread and off the libuv pool: a file read completes while 8 logins hash', async () => {
    const pool = new HashPool({ workers: 2, maxQueue: 16 });
    try {
      const doneAtRead = await hashesDoneWhenReadCompletes(pool.scrypt, 8);
      assert.ok(doneAtRead < 8, `the read waited for ${doneAtRead} of 8 hashes`);
    } finally {
      await pool.close();
    }
  });

  it('(control) with node\'s async scrypt the same read queues behind the hashes in the libuv pool', async () => {
    // libuv's pool is FIFO with UV_THREADPOOL_SIZE threads (default 4): the read's open()
    // starts only when a thread is free, i.e. after at least 8 - 4 + 1 hashes finished.
    const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    if (threads >= 8) return; // this control needs more hashes than libuv threads
    const doneAtRead = await hashesDoneWhenReadCompletes(libuvScrypt, 8);
    assert.ok(doneAtRead >= 8 - threads + 1, `only ${doneAtRead} of 8 hashes had finished`);
  });

  it('refuses a job with HashPoolBusy when the queue is full, and serves the rest', async () => {
    const pool = new HashPool({ workers: 1, maxQueue: 2 });
    try {
      const jobs = Array.from({ length: 5 }, (_, i) => pool.scrypt(`p${i}`, SALT, 32, scryptOptions(12, 8, 1)).then(() => 'ok', (e: unknown) => e));
      assert.deepEqual(pool.load, { running: 1, queued: 2 });
      const results = await Promise.all(jobs);
      assert.deepEqual(results.slice(0, 3), ['ok', 'ok', 'ok']);
      assert.ok(results[3] instanceof HashPoolBusy && results[4] instanceof HashPoolBusy);
      assert.equal(await pool.scrypt('again', SALT, 32, scryptOptions(10, 8, 1)).then(() => 'ok'), 'ok', 'a drained queue accepts again');
    } finally {
      await pool.close();
    }
  });

  it('a failing derivation rejects that job only', async () => {
    const pool = new HashPool({ workers: 1 });
    try {
      await assert.rejects(pool.scrypt('x', SALT, 32, { N: 3, r: 8, p: 1 }), /scrypt failed/); // N must be a power of two
      assert.equal((await pool.scrypt('x', SALT, 16, scryptOptions(10, 8, 1))).length, 16);
    } finally {
      await pool.close();
    }
  });

  it('an idle worker ends after idleMs (its memory goes back), and the next hash starts a new one', async () => {
    const pool = new HashPool({ workers: 2, idleMs: 20 });
    try {
      const expected = scryptSync('pw', SALT, 32, scryptOptions(10, 8, 1));
      assert.deepEqual(await pool.scrypt('pw', SALT, 32, scryptOptions(10, 8, 1)), expected);
      assert.equal(pool.workers, 1);
      for (let i = 0; i < 500 && pool.workers > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(pool.workers, 0, 'the idle worker ended');
      assert.deepEqual(await pool.scrypt('pw', SALT, 32, scryptOptions(10, 8, 1)), expected, 'a retired worker is not taken for a crash: the next job runs');
      assert.equal(pool.workers, 1);
    } finally {
      await pool.close();
    }
  });

  it('close() fails waiting jobs and later ones', async () => {
    const pool = new HashPool({ workers: 1, maxQueue: 4 });
    const running = assert.rejects(pool.scrypt('a', SALT, 32, scryptOptions(14, 8, 1)), /closed/);
    const waiting = assert.rejects(pool.scrypt('b', SALT, 32, scryptOptions(14, 8, 1)), /closed/);
    await pool.close();
    await Promise.all([running, waiting]);
    await assert.rejects(pool.scrypt('c', SALT, 32, scryptOptions(10, 8, 1)), /closed/);
  });
});
