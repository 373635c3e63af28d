/**
 * Entry point of one hash worker thread (started by hash-pool.ts): runs scrypt
 * synchronously on this thread, so the hash uses neither the main event loop nor
 * the libuv thread pool that file I/O needs. One job at a time; the pool queues.
 * Never imports: anything but node:crypto and node:worker_threads.
 */
import { scryptSync } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/** What the pool sends: one scrypt derivation. */
export interface HashJob {
  id: number;
  password: string;
  salt: Uint8Array;
  keylen: number;
  options: { N: number; r: number; p: number; maxmem: number };
}

/** What the worker answers: the key, or the error text. */
export type HashReply = { id: number; key: Uint8Array } | { id: number; error: string };

parentPort?.on('message', (job: HashJob) => {
  let reply: HashReply;
  try {
    reply = { id: job.id, key: scryptSync(job.password, job.salt, job.keylen, job.options) };
  } catch (err) {
    reply = { id: job.id, error: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
