/**
 * The store host: runs in a worker_threads Worker started by WorkerStore (proxy.ts),
 * opens the SQLite store there and answers Store method calls by name, so SQLite's
 * synchronous statements and commit fsyncs never stall the main thread's event loop.
 *
 * Never imports: protocol code, src/mail, src/net. Holds no storage rule: it forwards
 * calls to the store and adds two read-only hooks (segment list, change token).
 *
 * Invariants:
 * - Calls are answered in the store's own order; a call's change events are posted
 *   before its reply (the store publishes after commit, before it resolves), so the
 *   main thread publishes them on the real bus before the caller continues.
 * - One change poller per process lives here (see poller.ts).
 * - Any error reaches the caller; a StoreError keeps its code (wire.ts).
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { RECHECK, type ChangeBus, type ChangeEvent } from '../bus.js';
import { StoreError } from '../errors.js';
import { SqliteStore } from '../sqlite/sqlite-store.js';
import type { Store } from '../types.js';
import { startChangePoller, type ChangePoller } from './poller.js';
import { FORWARDED, SEGMENTS, toWire, type ContentLayout, type HostOptions, type Reply, type Request } from './wire.js';

/** A store plus what the host needs besides the Store contract. */
export interface HostedStore {
  store: Store & { onContentsGone?: (ids: string[]) => void };
  /** The segment list of a content ('notfound' when not stored). */
  layout(contentId: string): Promise<ContentLayout>;
  /** Changes whenever another connection (process) committed; for the change poller. */
  changeToken(): number;
}

/**
 * The SQLite store with its hooks. Both hooks read through the store's own connection:
 * `data_version` of that connection moves only for commits made by other connections.
 */
export function hostSqlite(opts: HostOptions, bus: ChangeBus): HostedStore {
  const store = new SqliteStore({ file: opts.file, blobDir: opts.blobDir, bus, busyTimeoutMs: opts.busyTimeoutMs });
  if (opts.retention) void store.setRetention(opts.retention); // synchronous inside; settled before any call arrives
  const db = store.database;
  return {
    store,
    // Through the store's read path: a direct query on the write connection could see a write transaction still open.
    layout: (contentId) => store.contentLayout(contentId),
    changeToken: () => db.pragma('data_version', { simple: true }) as number,
  };
}

/** Answers requests arriving on `port` until `close` is called; returns when the store is open. */
export function serveStore(port: MessagePort, hosted: HostedStore, changePollMs: number): void {
  const { store } = hosted;
  const post = (reply: Reply) => port.postMessage(reply);
  store.onContentsGone = (ids) => post({ t: 'gone', ids });
  const poller: ChangePoller | null = changePollMs > 0 ? startChangePoller(hosted.changeToken, () => post({ t: 'event', event: RECHECK }), changePollMs) : null;

  const call = async (req: Request): Promise<unknown> => {
    if (req.method === SEGMENTS) return hosted.layout(String(req.args[0]));
    if (!FORWARDED.has(req.method)) throw new StoreError('invalid', `not a store method: ${String(req.method).slice(0, 40)}`);
    if (req.method === 'close') poller?.stop();
    const fn = store[req.method] as (...args: unknown[]) => Promise<unknown>;
    return fn.apply(store, req.args);
  };

  port.on('message', (req: Request) => {
    call(req).then(
      (value) => {
        try {
          post({ t: 'ok', id: req.id, value });
        } catch (err) {
          post({ t: 'err', id: req.id, error: toWire(err) }); // a value structured clone cannot carry: a bug, reported as such
        }
        if (req.method === 'close') port.close();
      },
      (err: unknown) => post({ t: 'err', id: req.id, error: toWire(err) }),
    );
  });
  post({ t: 'ready' });
}

/** A bus that hands every event to the main thread, where WorkerStore publishes it on the real bus. */
export class PortBus implements ChangeBus {
  constructor(private readonly port: MessagePort) {}

  publish(event: ChangeEvent): void {
    this.port.postMessage({ t: 'event', event } satisfies Reply);
  }

  subscribe(): () => void {
    throw new Error('the store host publishes only; sessions subscribe on the main thread');
  }
}

function main(port: MessagePort, opts: HostOptions): void {
  let hosted: HostedStore;
  try {
    hosted = hostSqlite(opts, new PortBus(port));
  } catch (err) {
    port.postMessage({ t: 'fatal', error: toWire(err) } satisfies Reply);
    port.close();
    return;
  }
  serveStore(port, hosted, opts.changePollMs);
}

if (!isMainThread && parentPort && (workerData as { mailroomStoreHost?: HostOptions } | null)?.mailroomStoreHost) {
  main(parentPort, (workerData as { mailroomStoreHost: HostOptions }).mailroomStoreHost);
}
