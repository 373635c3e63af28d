/**
 * PROXY protocol v1 (text) and v2 (binary) headers, as sent by HAProxy and other TCP
 * load balancers before the client's first byte, so the real client address reaches
 * rate limits and logs. Pure: bytes in, a verdict out (plus the trusted-network list).
 *
 * Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt (sections 2.1, 2.2).
 * Invariants: never reads past the header (the rest belongs to the protocol); a v1
 * header is at most 107 bytes and a v2 header at most 16 + 65535; anything malformed is
 * an error, never a guess.
 */
import net from 'node:net';

export type ProxyParse =
  | { kind: 'incomplete' }
  | { kind: 'error'; reason: string }
  /** `source` is null for LOCAL (v2) and UNKNOWN (v1): keep the connection's own address. */
  | { kind: 'ok'; consumed: number; version: 1 | 2; source: { address: string; port: number } | null };

export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
const V1_MAX = 107; // spec 2.1: worst case "PROXY UNKNOWN ffff:…:ffff ffff:…:ffff 65535 65535\r\n"

/** Parses the start of a connection's bytes. */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (buf[0] === V2_SIGNATURE[0] && buf.length > 0) {
    const n = Math.min(buf.length, V2_SIGNATURE.length);
    if (buf.subarray(0, n).equals(V2_SIGNATURE.subarray(0, n))) return buf.length < 16 ? { kind: 'incomplete' } : parseV2(buf);
  }
  const n = Math.min(buf.length, V1_PREFIX.length);
  if (!buf.subarray(0, n).equals(V1_PREFIX.subarray(0, n))) return { kind: 'error', reason: 'no PROXY header' };
  return parseV1(buf);
}

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.indexOf('\r\n');
  if (end < 0) return buf.length >= V1_MAX ? { kind: 'error', reason: 'PROXY v1 header longer than 107 bytes' } : { kind: 'incomplete' };
  if (end + 2 > V1_MAX) return { kind: 'error', reason: 'PROXY v1 header longer than 107 bytes' };
  const line = buf.subarray(0, end).toString('latin1');
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'ok', consumed: end + 2, version: 1, source: null }; // spec 2.1: ignore the rest
  if (parts.length !== 6) return { kind: 'error', reason: 'PROXY v1 header needs 6 fields' };
  const [, proto, src, dst, sport, dport] = parts;
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (family === 0) return { kind: 'error', reason: `PROXY v1 protocol ${JSON.stringify(proto.slice(0, 10))} is not TCP4, TCP6 or UNKNOWN` };
  if (net.isIP(src) !== family || net.isIP(dst) !== family) return { kind: 'error', reason: 'PROXY v1 address does not match its family' };
  const ports = [sport, dport].map(port);
  if (ports.some((p) => p === null)) return { kind: 'error', reason: 'PROXY v1 port must be 0-65535 without leading zeros' };
  return { kind: 'ok', consumed: end + 2, version: 1, source: { address: src, port: ports[0]! } };
}

function port(text: string): number | null {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

function parseV2(buf: Buffer): ProxyParse {
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) return { kind: 'error', reason: `PROXY v2 version ${verCmd >> 4} unsupported` };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { kind: 'error', reason: `PROXY v2 command ${cmd} unsupported` };
  const famProto = buf[13];
  const len = buf.readUInt16BE(14);
  if (buf.length < 16 + len) return { kind: 'incomplete' };
  const consumed = 16 + len;
  if (cmd === 0) return { kind: 'ok', consumed, version: 2, source: null }; // LOCAL: health checks from the proxy itself
  const family = famProto >> 4;
  const body = buf.subarray(16, consumed);
  if (family === 1) {
    if (len < 12) return { kind: 'error', reason: 'PROXY v2 IPv4 block shorter than 12 bytes' };
    return { kind: 'ok', consumed, version: 2, source: { address: [...body.subarray(0, 4)].join('.'), port: body.readUInt16BE(8) } };
  }
  if (family === 2) {
    if (len < 36) return { kind: 'error', reason: 'PROXY v2 IPv6 block shorter than 36 bytes' };
    const groups = Array.from({ length: 8 }, (_, i) => body.readUInt16BE(i * 2).toString(16));
    return { kind: 'ok', consumed, version: 2, source: { address: compressIpv6(groups), port: body.readUInt16BE(32) } };
  }
  // UNSPEC or AF_UNIX: no usable client address (spec 2.2: accept, use the real one).
  return { kind: 'ok', consumed, version: 2, source: null };
}

/** Canonical text of an IPv6 address (as Node reports socket addresses), e.g. `2001:db8::1`, `::ffff:1.2.3.4`. */
function compressIpv6(groups: string[]): string {
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const [hi, lo] = [parseInt(groups[6], 16), parseInt(groups[7], 16)];
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  const text = groups.join(':');
  // Let the URL parser do RFC 5952 compression instead of hand-rolling it.
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/** Parses `10.0.0.0/8, ::1/128, 192.0.2.7` into a matcher; throws Error naming the bad entry. */
export function parseTrustedNetworks(text: string): net.BlockList {
  const list = new net.BlockList();
  for (const raw of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [ip, bits, extra] = raw.split('/');
    const family = net.isIP(ip);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= (family === 6 ? 128 : 32))) {
      throw new Error(`invalid network ${JSON.stringify(raw)} in proxy.trusted (expected CIDR like 10.0.0.0/8 or ::1/128)`);
    }
    list.addSubnet(ip, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** Whether a peer address (possibly `::ffff:a.b.c.d`) is in the trusted networks. */
export function isTrusted(list: net.BlockList, address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
  const family = net.isIP(v4);
  if (family === 0) return false;
  return list.check(v4, family === 6 ? 'ipv6' : 'ipv4');
}
