/**
 * The outbound queue runner, started by server.ts: runs the worker when a message is
 * queued in this process (outbound.ts doorbell), every `queue.poll_ms` (messages queued
 * by other processes, retries coming due) and once at start (what a crash left behind).
 *
 * Never imports: SQL, other protocols' sessions. Invariants: one worker pass at a time
 * per process; several processes or nodes may run side by side (leases in the store).
 */
import { Resolver } from 'node:dns/promises';
import { onEnqueued } from '../../mail/outbound.js';
import { QueueWorker, type WorkerDeps } from './worker.js';
import type { QueueResolver } from './routes.js';

export { QueueWorker } from './worker.js';
export type { QueueResolver } from './routes.js';

export interface QueueRunner {
  /** Asks for a pass now (coalesced with a running one). */
  kick(): void;
  /** Resolves when no pass is running or asked for. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startQueue(deps: WorkerDeps, opts: { resolver?: QueueResolver; now?: () => Date } = {}): QueueRunner {
  const worker = new QueueWorker(deps, { resolver: opts.resolver ?? new Resolver(), now: opts.now });
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const waiters: (() => void)[] = [];

  const pass = async () => {
    do {
      again = false;
      try {
        await worker.runOnce();
      } catch (err) {
        deps.log.error({ err }, 'queue pass failed; retried at the next poll');
      }
    } while (again && !stopped);
    running = null;
    for (const w of waiters.splice(0)) w();
  };
  const kick = () => {
    if (stopped) return;
    if (running) again = true;
    else running = pass();
  };
  const timer = setInterval(kick, deps.config.queue.poll_ms);
  timer.unref();
  const unsubscribe = onEnqueued(() => kick());
  kick();
  return {
    kick,
    idle: () => (running ? new Promise<void>((resolve) => waiters.push(resolve)) : Promise.resolve()),
    async stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      // Shutdown does not wait for slow remotes: an unfinished entry keeps its lease, which expires and is retried.
      if (running) await Promise.race([running, new Promise((r) => setTimeout(r, deps.config.limits.shutdown_timeout_ms).unref())]);
    },
  };
}
