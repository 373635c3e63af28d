/**
 * The server's Prometheus metrics, one registry per process (prom-client). Protocol code
 * touches only the small functions below; `/metrics` (src/http/metrics.ts) renders them.
 *
 * Never imports: the store, protocols, config. The store-backed figures (queue, storage)
 * are read at scrape time through the sources server.ts registers (store-gauges.ts).
 * Invariants: label values come from fixed sets (listener names, protocol names, a
 * command table's names or `unknown`), so a client sending garbage cannot grow the
 * series; a command costs one cached-child lookup and one observe, nothing allocated.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();

// process_*, nodejs_eventloop_lag_* (event-loop lag), heap, GC: prom-client's own set.
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });

const connections = new Gauge({
  name: 'mailroom_connections',
  help: 'Open connections per listener (after TLS handshake and PROXY header)',
  labelNames: ['listener'] as const,
  registers: [registry],
});
const connectionsTotal = new Counter({
  name: 'mailroom_connections_total',
  help: 'Connections accepted per listener since start',
  labelNames: ['listener'] as const,
  registers: [registry],
});
const sessions = new Gauge({
  name: 'mailroom_sessions',
  help: 'Logged-in sessions per protocol',
  labelNames: ['protocol'] as const,
  registers: [registry],
});
const logins = new Counter({
  name: 'mailroom_logins_total',
  help: 'Login attempts per protocol and result (ok, failed, throttled, unavailable)',
  labelNames: ['protocol', 'result'] as const,
  registers: [registry],
});
const commands = new Histogram({
  name: 'mailroom_command_duration_seconds',
  help: 'Protocol commands per protocol and command, by time to answer (_count is the number of commands)',
  labelNames: ['protocol', 'command'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  registers: [registry],
});
const messages = new Counter({
  name: 'mailroom_messages_total',
  help: 'Messages by outcome: accepted/rejected (SMTP, LMTP DATA), delivered/deferred/bounced (per recipient, local or relayed)',
  labelNames: ['result'] as const,
  registers: [registry],
});
const storeCalls = new Histogram({
  name: 'mailroom_store_transaction_duration_seconds',
  help: 'Store calls (one transaction each) by method, as the server waits for them',
  labelNames: ['method'] as const,
  buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
  registers: [registry],
});

export type MessageResult = 'accepted' | 'rejected' | 'delivered' | 'deferred' | 'bounced';
export type LoginResult = 'ok' | 'failed' | 'throttled' | 'unavailable';

/** One accepted connection on `listener`; call the returned function once, when it closes. */
export function connectionOpened(listener: string): () => void {
  connections.inc({ listener });
  connectionsTotal.inc({ listener });
  return () => connections.dec({ listener });
}

/** One logged-in session of `protocol`; call the returned function once, when it ends. */
export function sessionOpened(protocol: string): () => void {
  sessions.inc({ protocol });
  return () => sessions.dec({ protocol });
}

export function countLogin(protocol: string, result: LoginResult): void {
  logins.inc({ protocol, result });
}

export function countMessage(result: MessageResult, n = 1): void {
  if (n > 0) messages.inc({ result }, n);
}

/** Open connections per listener and logged-in sessions per protocol, as `mailroom status` shows them. */
export async function openCounts(): Promise<{ connections: Record<string, number>; sessions: Record<string, number> }> {
  const byLabel = async (g: Gauge<string>, label: string) => {
    const out: Record<string, number> = {};
    for (const v of (await g.get()).values) out[String(v.labels[label])] = v.value;
    return out;
  };
  return { connections: await byLabel(connections, 'listener'), sessions: await byLabel(sessions, 'protocol') };
}

/**
 * Times one protocol's commands. `known` is the protocol's command table: any other name is
 * recorded as `unknown`. Children are made once per command name, so observing allocates nothing.
 */
export function commandTimer(protocol: string, known: Iterable<string>): { observe(command: string, startedMs: number): void } {
  const children = new Map<string, Histogram.Internal<'protocol' | 'command'>>();
  for (const name of known) children.set(name, commands.labels(protocol, name));
  const unknown = commands.labels(protocol, 'unknown');
  return {
    observe(command, startedMs) {
      (children.get(command) ?? unknown).observe((performance.now() - startedMs) / 1000);
    },
  };
}

/** The store-call histogram's child for one method (made once per method by timed-store.ts). */
export function storeTimer(method: string): Histogram.Internal<'method'> {
  return storeCalls.labels(method);
}
