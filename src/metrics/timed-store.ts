/**
 * The store as the server sees it, with every call timed into
 * `mailroom_store_transaction_duration_seconds{method}` (each Store method is one
 * transaction). Timed here, in front of the store, because on SQLite the transactions
 * run in a worker thread (store/worker): what sessions wait for is the round trip.
 *
 * Never imports: protocols, SQL. Invariant: the wrapper for a method is made once;
 * non-function properties and non-promise results pass through untouched.
 */
import type { Store } from '../store/types.js';
import { storeTimer } from './registry.js';

export function timedStore(store: Store): Store {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string' || key === 'constructor') return value;
      let fn = wrapped.get(key);
      if (!fn) {
        const child = storeTimer(key);
        const method = value as (...args: unknown[]) => unknown;
        fn = function (this: unknown, ...args: unknown[]) {
          const started = performance.now();
          const result = method.apply(target, args);
          if (result instanceof Promise) {
            const done = () => child.observe((performance.now() - started) / 1000);
            result.then(done, done);
          }
          return result;
        };
        wrapped.set(key, fn);
      }
      return fn;
    },
  });
}
