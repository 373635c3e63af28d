/**
 * A small pool of worker threads (1–2) that run scrypt for logins. Node's async
 * scrypt runs in the libuv pool (4 threads), where every fs call of the process
 * waits behind it: eight logins at once held up blob reads and spool fsyncs for
 * hundreds of ms. Here the hash runs on its own threads and the libuv pool stays
 * free for file I/O.
 *
 * Never imports: store, protocols, config.
 * Invariants: at most `workers` hashes run at once and at most `maxQueue` wait;
 * a job beyond that is refused at once with HashPoolBusy (a temporary failure,
 * never a wrong password). Idle workers are unref'd, so a pool never keeps a
 * process alive, and end after `idleMs` without work, so the memory a thread and its
 * scrypt buffers hold goes back (logins mostly hit the credential cache, so hashes come
 * in bursts); a worker that dies fails only its own job and is replaced.
 */
import { Worker } from 'node:worker_threads';
import type { ScryptOptions } from 'node:crypto';
import type { Scrypt } from './password.js';
import type { HashJob, HashReply } from './hash-worker.js';

/** The queue is full: answer with a temporary failure and let the client retry. */
export class HashPoolBusy extends Error {
  constructor() {
    super('password hashing queue is full');
    this.name = 'HashPoolBusy';
  }
}

export interface HashPoolOptions {
  /** Worker threads (default 2). */
  workers?: number;
  /** Jobs that may wait for a free worker (default 64). */
  maxQueue?: number;
  /** A worker idle this long ends; the next hash starts a new one (default 30 s). */
  idleMs?: number;
}

interface Pending {
  job: HashJob;
  resolve: (key: Buffer) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  current: Pending | null;
  idleTimer?: NodeJS.Timeout;
}

const WORKER_URL = new URL('./hash-worker.js', import.meta.url);

export class HashPool {
  private readonly size: number;
  private readonly maxQueue: number;
  private readonly idleMs: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: HashPoolOptions = {}) {
    this.size = Math.max(1, options.workers ?? 2);
    this.maxQueue = Math.max(0, options.maxQueue ?? 64);
    this.idleMs = Math.max(1, options.idleMs ?? 30_000);
  }

  /** scrypt on a pool thread; rejects with HashPoolBusy when the queue is full. */
  readonly scrypt: Scrypt = (password, salt, keylen, options) => this.run(password, salt, keylen, options);

  /** Jobs running or waiting (for tests and metrics). */
  get load(): { running: number; queued: number } {
    return { running: this.slots.filter((s) => s.current).length, queued: this.queue.length };
  }

  /** Worker threads alive now, busy or idle (for tests and metrics). */
  get workers(): number {
    return this.slots.length;
  }

  private run(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('hash pool closed'));
    const { N = 16384, r = 8, p = 1, maxmem = 32 * 1024 * 1024 } = options;
    const job: HashJob = { id: this.nextId++, password, salt, keylen, options: { N, r, p, maxmem } };
    return new Promise<Buffer>((resolve, reject) => {
      const pending = { job, resolve, reject };
      const slot = this.freeSlot();
      if (slot) return this.start(slot, pending);
      if (this.queue.length >= this.maxQueue) return reject(new HashPoolBusy());
      this.queue.push(pending);
    });
  }

  /** An idle worker, starting one when the pool is not yet full size. */
  private freeSlot(): Slot | undefined {
    const idle = this.slots.find((s) => !s.current);
    if (idle || this.slots.length >= this.size) return idle;
    const slot: Slot = { worker: new Worker(WORKER_URL), current: null };
    slot.worker.on('message', (reply: HashReply) => this.finished(slot, reply));
    slot.worker.on('error', (err) => this.died(slot, err));
    slot.worker.on('exit', (code) => this.died(slot, new Error(`hash worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private start(slot: Slot, pending: Pending): void {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.current = pending;
    slot.worker.ref(); // a running hash keeps the process alive until it answers
    slot.worker.postMessage(pending.job);
  }

  private finished(slot: Slot, reply: HashReply): void {
    const pending = slot.current;
    slot.current = null;
    if (pending && pending.job.id === reply.id) {
      if ('key' in reply) pending.resolve(Buffer.from(reply.key.buffer, reply.key.byteOffset, reply.key.byteLength));
      else pending.reject(new Error(`scrypt failed: ${reply.error}`));
    }
    this.next(slot);
  }

  private next(slot: Slot): void {
    const pending = this.queue.shift();
    if (pending) return this.start(slot, pending);
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => this.retire(slot), this.idleMs);
    slot.idleTimer.unref();
  }

  /** Ends a worker that stayed idle; forgotten first, so its exit is not taken for a crash. */
  private retire(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (slot.current || i < 0) return;
    this.slots.splice(i, 1);
    void slot.worker.terminate();
  }

  /** A worker crashed or exited: fail its job, forget it, and give waiting jobs a new one. */
  private died(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // 'error' is followed by 'exit'; handle once
    this.slots.splice(i, 1);
    slot.current?.reject(err);
    slot.current = null;
    if (this.closed) return;
    const pending = this.queue.shift();
    if (pending) {
      const fresh = this.freeSlot();
      if (fresh) this.start(fresh, pending);
      else this.queue.unshift(pending);
    }
  }

  /** Stops the workers; running and waiting jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('hash pool closed');
    for (const pending of this.queue.splice(0)) pending.reject(err);
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      clearTimeout(slot.idleTimer);
      slot.current?.reject(err);
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
