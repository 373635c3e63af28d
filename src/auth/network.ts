/**
 * The address groups the login throttle counts by: the /24 of an IPv4 address and the /64
 * of an IPv6 one (one subscriber's network; IPv6 privacy addresses rotate inside it).
 * IPv4-mapped IPv6 addresses count as IPv4.
 * Never imports: anything but node:net.
 */
import { isIPv4, isIPv6 } from 'node:net';

function unmapped(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1] : ip;
}

/** The eight 16-bit groups of an IPv6 address (embedded IPv4 tail included), or null. */
function ipv6Groups(ip: string): number[] | null {
  if (!isIPv6(ip)) return null;
  let text = ip.replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = parse(tail);
  return tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

/** "192.0.2.0/24" or "2001:db8:0:1::/64"; the address itself when it is neither form. */
export function networkOf(address: string): string {
  const ip = unmapped(address);
  if (isIPv4(ip)) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  const groups = ipv6Groups(ip);
  return groups ? `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64` : ip;
}

/** What "the same place" means for a known-good login: the IPv4 address, or the IPv6 /64. */
export function placeOf(address: string): string {
  const ip = unmapped(address);
  return isIPv4(ip) ? ip : networkOf(ip);
}
