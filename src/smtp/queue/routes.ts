/**
 * Where mail for a domain goes (RFC 5321 5.1): the smarthost when configured, a static
 * route when one names the domain, else the MX hosts by preference, else the domain
 * itself (implicit MX) when it has A/AAAA records. Each host is resolved to addresses
 * here, through the injectable resolver, so tests never touch the network.
 */
import { parseListenAddress } from '../../config/schema.js';

export interface MxRecord {
  exchange: string;
  priority: number;
}

/** The subset of node:dns/promises Resolver the queue uses. */
export interface QueueResolver {
  resolveMx(domain: string): Promise<MxRecord[]>;
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

export interface Hop {
  /** Name for TLS SNI/verification and for Remote-MTA. */
  name: string;
  address: string;
  port: number;
}

export type RouteResult = { hops: Hop[] } | { error: string; permanent: boolean; status: string };

/** DNS codes that mean "this name has no such record" rather than "ask again later". */
const NO_DATA = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'ENONAME']);

/** Parses `domain=host:port,…` into a map. */
export function parseRoutes(text: string): Map<string, { host: string; port: number }> {
  const map = new Map<string, { host: string; port: number }>();
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const target = eq > 0 ? parseListenAddress(item.slice(eq + 1).trim()) : null;
    if (!target) throw new Error(`queue.routes: expected domain=host:port, got ${JSON.stringify(item)}`);
    map.set(item.slice(0, eq).trim().toLowerCase(), target);
  }
  return map;
}

const code = (err: unknown) => String((err as { code?: unknown }).code ?? '');

async function addressesOf(resolver: QueueResolver, host: string): Promise<{ addrs: string[]; transient: boolean }> {
  if (/^[\d.]+$/.test(host) || host.includes(':')) return { addrs: [host], transient: false };
  let transient = false;
  const addrs: string[] = [];
  for (const lookup of [resolver.resolve6.bind(resolver), resolver.resolve4.bind(resolver)]) {
    try {
      addrs.push(...(await lookup(host)));
    } catch (err) {
      if (!NO_DATA.has(code(err))) transient = true;
    }
  }
  return { addrs, transient };
}

/** The hops to try for `domain`, in order. */
export async function routeFor(domain: string, resolver: QueueResolver, opts: { port: number; routes: Map<string, { host: string; port: number }> }): Promise<RouteResult> {
  const fixed = opts.routes.get(domain.toLowerCase());
  if (fixed) {
    const { addrs, transient } = await addressesOf(resolver, fixed.host);
    if (addrs.length) return { hops: addrs.map((address) => ({ name: fixed.host, address, port: fixed.port })) };
    return { error: `route host ${fixed.host} has no address`, permanent: !transient, status: transient ? '4.4.3' : '5.4.4' };
  }
  let mx: MxRecord[];
  try {
    mx = await resolver.resolveMx(domain);
  } catch (err) {
    if (!NO_DATA.has(code(err))) return { error: `MX lookup for ${domain} failed (${code(err) || 'error'})`, permanent: false, status: '4.4.3' };
    mx = []; // RFC 5321 5.1: no MX records → the domain itself is the implicit MX
  }
  // RFC 7505 3: a single MX "." means the domain accepts no mail.
  if (mx.length === 1 && (mx[0].exchange === '' || mx[0].exchange === '.')) {
    return { error: `${domain} does not accept mail (null MX)`, permanent: true, status: '5.1.10' };
  }
  const hosts = mx.length ? [...mx].sort((a, b) => a.priority - b.priority).map((m) => m.exchange.replace(/\.+$/, '')) : [domain];
  const hops: Hop[] = [];
  let transient = false;
  for (const host of hosts) {
    const r = await addressesOf(resolver, host);
    transient ||= r.transient;
    hops.push(...r.addrs.map((address) => ({ name: host, address, port: opts.port })));
  }
  if (hops.length) return { hops };
  if (transient) return { error: `address lookup for ${domain} failed`, permanent: false, status: '4.4.3' };
  return { error: mx.length ? `no address for the MX hosts of ${domain}` : `${domain} has no MX and no address`, permanent: true, status: mx.length ? '5.4.4' : '5.1.2' };
}
