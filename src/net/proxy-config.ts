/** Turns the `proxy` config section into per-listener PROXY protocol settings. */
import { LISTENER_NAMES, type ListenerName } from '../config/schema.js';
import { parseTrustedNetworks } from './proxy-protocol.js';
import type { ListenerSpec } from './listeners.js';

/** A function giving each listener its PROXY setting (undefined: no PROXY header expected). Throws Error for unknown names or bad networks. */
export function proxySettings(cfg: { listeners: string; trusted: string }): (name: ListenerName) => ListenerSpec['proxy'] {
  const names = cfg.listeners.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!(LISTENER_NAMES as string[]).includes(n)) throw new Error(`proxy.listeners: unknown listener ${JSON.stringify(n)} (known: ${LISTENER_NAMES.join(', ')})`);
  }
  if (names.length === 0) return () => undefined;
  const trusted = parseTrustedNetworks(cfg.trusted);
  const set = new Set(names);
  return (name) => (set.has(name) ? { trusted } : undefined);
}
